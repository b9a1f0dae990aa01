/**
 * The one identifier rule of every entry point: a personalised model (`deno task train` writes
 * it) carries its identifier [V] and class noun in its safetensors `__metadata__`, and `sample`,
 * `eval` and `train-sr` use them unless told otherwise. This reads them.
 *
 * @module
 */
import { join } from "node:path";
import { openSafetensors } from "./safetensors.ts";

/** The subject a personalised model was trained on. */
export interface ModelSubject {
  /** The identifier [V] (e.g. "sks"). */
  identifier: string;
  /** The class noun ("" for the no-class-noun ablation). */
  classNoun: string;
  /** The instance prompt it was trained with ("a sks dog"), when recorded. */
  instancePrompt?: string;
  /**
   * Every concept of a several-subject model (`deno task train --concepts`), in order; the
   * fields above are the first one's.
   */
  concepts?: ModelConcept[];
}

/** One concept of a several-subject model. */
export interface ModelConcept {
  /** Its name (a built-in subject's, or its folder's). */
  name: string;
  /** Its identifier. */
  identifier: string;
  /** Its class noun. */
  classNoun: string;
  /** Its instance prompt, when recorded. */
  instancePrompt?: string;
}

function parseConcepts(text: string | undefined): ModelConcept[] | null {
  if (typeof text !== "string") return null;
  try {
    const list = JSON.parse(text);
    if (!Array.isArray(list) || list.length === 0) return null;
    const out: ModelConcept[] = [];
    for (const c of list) {
      if (
        typeof c?.name !== "string" || typeof c?.identifier !== "string" ||
        typeof c?.classNoun !== "string"
      ) return null;
      out.push({
        name: c.name,
        identifier: c.identifier,
        classNoun: c.classNoun,
        ...(typeof c.instancePrompt === "string" ? { instancePrompt: c.instancePrompt } : {}),
      });
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * Reads the identifier and class noun a personalised model carries.
 *
 * @param model A checkpoint file, or a folder holding `model.safetensors` or
 * `cascade.safetensors`; `preset:…`, `hf:…` and other non-files give null.
 * @returns The {@link ModelSubject}, or null when the model carries none (a base model).
 *
 * @example
 * ```ts
 * import { readModelSubject } from "./model_subject.ts";
 * console.log(await readModelSubject("preset:tiny")); // null
 * ```
 */
export async function readModelSubject(model: string): Promise<ModelSubject | null> {
  let file: string | null = null;
  for (const f of [model, join(model, "model.safetensors"), join(model, "cascade.safetensors")]) {
    try {
      if ((await Deno.stat(f)).isFile) {
        file = f;
        break;
      }
    } catch {
      // not there
    }
  }
  if (file === null || !file.endsWith(".safetensors")) return null;
  let metadata: Record<string, string>;
  try {
    using st = await openSafetensors(file);
    metadata = st.metadata;
  } catch {
    return null; // not a safetensors file: the loader that follows says why
  }
  return subjectFromMetadata(metadata);
}

/**
 * The {@link ModelSubject} in a checkpoint's `__metadata__` (what `loadCheckpoint` returns).
 *
 * @param metadata The metadata.
 * @returns The subject, or null when it carries none.
 *
 * @example
 * ```ts
 * import { subjectFromMetadata } from "./model_subject.ts";
 * console.log(subjectFromMetadata({ identifier: "sks", classNoun: "dog" })?.identifier); // "sks"
 * ```
 */
export function subjectFromMetadata(metadata: Record<string, string>): ModelSubject | null {
  const { identifier, classNoun, instancePrompt } = metadata;
  if (typeof identifier !== "string" || identifier === "" || typeof classNoun !== "string") {
    return null;
  }
  const concepts = parseConcepts(metadata.concepts);
  return {
    identifier,
    classNoun,
    ...(instancePrompt ? { instancePrompt } : {}),
    ...(concepts ? { concepts } : {}),
  };
}

/**
 * Fills a prompt template with a model's subject: `{identifier}` (or `[V]`) and `{class}`; with a
 * several-subject model also `{identifier:NAME}` and `{class:NAME}` with concept NAME's (the plain
 * forms are the first concept's).
 *
 * @param prompt The prompt ("a {identifier} {class} on the beach").
 * @param subject The {@link ModelSubject}.
 * @returns The prompt filled in ("a sks dog on the beach").
 *
 * @example
 * ```ts
 * import { fillSubjectPrompt } from "./model_subject.ts";
 * console.log(fillSubjectPrompt("a [V] {class} on the beach", { identifier: "sks", classNoun: "dog" }));
 * // "a sks dog on the beach"
 * ```
 */
export function fillSubjectPrompt(prompt: string, subject: ModelSubject): string {
  for (const c of subject.concepts ?? []) {
    prompt = prompt.replaceAll(`{identifier:${c.name}}`, c.identifier)
      .replaceAll(`{class:${c.name}}`, c.classNoun);
  }
  return prompt.replaceAll("{identifier}", subject.identifier).replaceAll("[V]", subject.identifier)
    .replaceAll("{class}", subject.classNoun);
}
