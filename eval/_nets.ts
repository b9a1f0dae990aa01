// Private: the architectures of eval/'s nets and the drawing split of the subject embedder.
import type { ConvNetConfig } from "./_convnet.ts";
import { HELD_OUT_DRAWINGS } from "./deps.ts";

/** Input side of every eval net: generated images of any size are resized to it. */
export const EVAL_NET_SIZE = 64;

/** The trunk shared by both architectures (~35 MFLOP per 64 px image). */
export const TRUNK: ConvNetConfig["layers"] = [
  { channels: 16, stride: 2 },
  { channels: 32, stride: 2 },
  { channels: 64, stride: 1 },
  { channels: 96, stride: 2 },
  { channels: 96, stride: 1 },
  { channels: 192, stride: 2 },
];

/** A wider and deeper trunk (~2.6× the compute of {@link TRUNK}), `--trunk wide`. */
export const WIDE_TRUNK: ConvNetConfig["layers"] = [
  { channels: 24, stride: 2 },
  { channels: 48, stride: 1 },
  { channels: 64, stride: 2 },
  { channels: 96, stride: 1 },
  { channels: 128, stride: 2 },
  { channels: 128, stride: 1 },
  { channels: 256, stride: 2 },
];

/** Embedding width of the subject embedder. */
export const EMBEDDING_DIM = 128;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether a drawing is a built-in subject's (no eval net ever trains on it). */
export function isHeldOutSubjectDrawing(drawingId: string): boolean {
  return Object.values(HELD_OUT_DRAWINGS).some((h) => h.drawingId === drawingId);
}

/**
 * Whether the subject embedder may train on a drawing: not a held-out subject's drawing, and not
 * one of the ~20% of drawings (FNV-1a hash of the id ≡ 0 mod 5) kept for its ROC AUC.
 */
export function isEmbedderTrainDrawing(drawingId: string): boolean {
  if (isHeldOutSubjectDrawing(drawingId)) return false;
  return fnv1a(drawingId) % 5 !== 0;
}
