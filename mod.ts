/**
 * dreambooth-ts: the public API of every package.
 *
 * @module
 */
export * from "./params/mod.ts";
export * from "./tokenizer/mod.ts";
export * from "./common/mod.ts";
export * from "./backend/mod.ts";
export * from "./data/mod.ts";
export * from "./eval/mod.ts";
export * from "./diffusion/mod.ts";
export * from "./trainer/mod.ts";
export * from "./training/mod.ts";
export * from "./superres/mod.ts";
export * from "./dreambooth/mod.ts";
export * from "./deepfloyd/mod.ts";
