import assert from "assert";
import { DREAMBENCH_OBJECT_TEMPLATES, dreambenchPrompts } from "./dreambench_prompts.ts";
import { SCENE_CONTEXTS } from "./deps.ts";

Deno.test("dreambenchPrompts: 24 expressible prompts, every context once, cube left out", () => {
  const ps = dreambenchPrompts("sks", "teddy bear");
  assert.equal(ps.length, 24);
  assert.deepEqual(
    ps.filter((p) => p.context !== null).map((p) => p.context).sort(),
    SCENE_CONTEXTS.map((c) => c.name).sort(),
  );
  assert.deepEqual(ps.filter((p) => p.property !== null).map((p) => p.property), [
    "red",
    "purple",
    "shiny",
    "wet",
  ]);
  assert.ok(!ps.some((p) => p.prompt.includes("cube")));
  assert.equal(ps[20].prompt, "a red sks teddy bear");
  assert.equal(dreambenchPrompts("", "dog")[0].prompt, "a dog in the jungle");
});

Deno.test("DREAMBENCH_OBJECT_TEMPLATES equal the object prompts of the shared DreamBench file", async (t) => {
  const path = new URL("../../shared/data/dreambench/prompts_and_classes.txt", import.meta.url);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    await t.step({ name: "skipped: shared DreamBench file absent", ignore: true, fn: () => {} });
    return;
  }
  const object = text.split("Object Prompts")[1].split("Live Subject Prompts")[0];
  const templates = [...object.matchAll(/'([^']+)'\.format/g)].map((m) => m[1]);
  assert.deepEqual(templates, [...DREAMBENCH_OBJECT_TEMPLATES]);
});

Deno.test("dreambenchPrompts validates its inputs", () => {
  assert.throws(() => dreambenchPrompts("sks", ""), /'classNoun'/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => dreambenchPrompts(3 as any, "dog"), /'identifier'/);
});
