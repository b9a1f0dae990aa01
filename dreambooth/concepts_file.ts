/**
 * The concepts file of `deno task train --concepts FILE`: several subjects trained in one run,
 * each with its own identifier, instance prompt and class-prior term (Eq. 2 summed over the
 * concepts). The file is a JSON array; each entry is an object with these fields:
 *
 * | field | required | what |
 * |---|---|---|
 * | `subject` | one of `subject`/`instanceDir` | a built-in subject's name (`dog`, `cat`, …) |
 * | `instanceDir` | one of `subject`/`instanceDir` | a folder of photos (relative to the file's folder) |
 * | `classNoun` | with `instanceDir` | the class noun (a built-in subject's by default) |
 * | `identifier` | no | the identifier [V] (drawn by the paper's rule, distinct per concept, when absent) |
 * | `instancePrompt` | no | the instance prompt (`{identifier}`/`[V]`, `{class}` filled in; default "a [V] {class}") |
 * | `classDir` | no | your own class images of this concept (relative to the file's folder) |
 * | `classPrompt` | no | the class-prior prompt (default "a {class}") |
 *
 * Every check (JSON, missing and unknown fields, types, duplicate identifiers, unreadable folders)
 * runs here, before any model is loaded, with a message naming the file, the entry and the field.
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { builtInSubjects } from "../data/mod.ts";

/** One concept of a concepts file, checked (folders resolved). */
export interface ConceptSpec {
  /** Its name (the built-in subject's, else the folder's last part). */
  readonly name: string;
  /** Folder of the instance images. */
  readonly instanceDir: string;
  /** The class noun. */
  readonly classNoun: string;
  /** The identifier; absent = drawn. */
  readonly identifier?: string;
  /** The instance prompt (unfilled); absent = "a [V] {class}". */
  readonly instancePrompt?: string;
  /** The user's own class images. */
  readonly classDir?: string;
  /** The class prompt (unfilled); absent = "a {class}". */
  readonly classPrompt?: string;
}

const FIELDS = [
  "subject",
  "instanceDir",
  "classNoun",
  "identifier",
  "instancePrompt",
  "classDir",
  "classPrompt",
] as const;

const MAX_CONCEPTS = 16;

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Checks a concepts list (the parsed JSON of a concepts file).
 *
 * @param value The parsed JSON.
 * @param options `file` (named in the messages; relative folders are resolved against its folder).
 * @returns The concepts, in order.
 * @throws {RangeError} Naming the file, the entry index and the field.
 *
 * @example
 * ```ts
 * import { checkConcepts } from "./concepts_file.ts";
 * const c = await checkConcepts([{ subject: "dog", identifier: "sks" }, { subject: "cat", identifier: "zwx" }], { file: "c.json" });
 * console.log(c.map((x) => `${x.identifier} ${x.classNoun}`)); // [ "sks dog", "zwx cat" ]
 * ```
 */
export async function checkConcepts(
  value: unknown,
  options: { file: string },
): Promise<ConceptSpec[]> {
  const { file } = options;
  const fail = (msg: string): never => {
    throw new RangeError(`Cannot train as the concepts file '${file}' ${msg}`);
  };
  if (!Array.isArray(value)) fail("must hold a JSON array of concept objects");
  const list = value as unknown[];
  if (list.length < 1 || list.length > MAX_CONCEPTS) {
    fail(`must list 1 to ${MAX_CONCEPTS} concepts: it lists ${list.length}`);
  }
  const subjects = builtInSubjects();
  const out: ConceptSpec[] = [];
  const seen = new Map<string, number>();
  for (const [i, entry] of list.entries()) {
    const at = (field: string) => `entry ${i}, field '${field}'`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      fail(`entry ${i} must be an object: current value is ${JSON.stringify(entry)}`);
    }
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (!(FIELDS as readonly string[]).includes(k)) {
        fail(`entry ${i} has an unknown field '${k}' (known: ${FIELDS.join(", ")})`);
      }
    }
    for (const k of FIELDS) {
      if (e[k] !== undefined && (typeof e[k] !== "string" || (e[k] as string).trim() === "")) {
        if (!(k === "classNoun" && e[k] === "")) {
          fail(`${at(k)} must be a non-empty string: current value is ${JSON.stringify(e[k])}`);
        }
      }
    }
    const s = e as Partial<Record<(typeof FIELDS)[number], string>>;
    if ((s.subject === undefined) === (s.instanceDir === undefined)) {
      fail(`entry ${i} must have exactly one of 'subject' (a built-in subject) or 'instanceDir'`);
    }
    let name: string, instanceDir: string, classNoun = s.classNoun;
    const resolve = (p: string) => isAbsolute(p) ? p : join(dirname(file), p);
    if (s.subject !== undefined) {
      const b = subjects.find((x) => x.name === s.subject);
      if (!b) {
        fail(
          `${at("subject")} names no built-in subject: current value is ${
            JSON.stringify(s.subject)
          } (known: ${subjects.map((x) => x.name).join(", ")})`,
        );
      }
      name = b!.name;
      instanceDir = b!.dir;
      classNoun ??= b!.classNoun;
    } else {
      instanceDir = resolve(s.instanceDir!);
      name = instanceDir.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || `concept${i}`;
      if (!(await isDir(instanceDir))) {
        fail(`${at("instanceDir")} is not a readable folder: '${instanceDir}'`);
      }
      if (classNoun === undefined) fail(`entry ${i} is missing the field 'classNoun'`);
    }
    let classDir: string | undefined;
    if (s.classDir !== undefined) {
      classDir = resolve(s.classDir);
      if (!(await isDir(classDir))) {
        fail(`${at("classDir")} is not a readable folder: '${classDir}'`);
      }
    }
    if (s.identifier !== undefined) {
      const id = s.identifier.trim().toLowerCase();
      if (seen.has(id)) {
        fail(
          `${at("identifier")} repeats entry ${seen.get(id)}'s identifier ${
            JSON.stringify(s.identifier)
          }: each concept needs its own`,
        );
      }
      seen.set(id, i);
    }
    out.push({
      name,
      instanceDir,
      classNoun: classNoun!,
      ...(s.identifier !== undefined ? { identifier: s.identifier.trim() } : {}),
      ...(s.instancePrompt !== undefined ? { instancePrompt: s.instancePrompt } : {}),
      ...(classDir !== undefined ? { classDir } : {}),
      ...(s.classPrompt !== undefined ? { classPrompt: s.classPrompt } : {}),
    });
  }
  return out;
}

/**
 * Reads and checks a concepts file (see the module doc for its fields).
 *
 * @param file The JSON file.
 * @returns The concepts, in order.
 * @throws {RangeError} Naming the file (unreadable, not JSON) or the entry index and the field.
 *
 * @example
 * ```ts
 * import { readConceptsFile } from "./concepts_file.ts";
 * const f = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(f, JSON.stringify([{ subject: "dog" }, { subject: "cat" }]));
 * console.log((await readConceptsFile(f)).length); // 2
 * await Deno.remove(f);
 * ```
 */
export async function readConceptsFile(file: string): Promise<ConceptSpec[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new RangeError(
      `Cannot train as the concepts file '${file}' ('concepts', --concepts) is unreadable: ${
        (e as Error).message
      }`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RangeError(
      `Cannot train as the concepts file '${file}' is not valid JSON: ${(e as Error).message}`,
    );
  }
  return await checkConcepts(value, { file });
}
