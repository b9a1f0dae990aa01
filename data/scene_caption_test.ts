import assert from "assert";
import { sceneCaption } from "./scene_caption.ts";

Deno.test("sceneCaption writes DreamBench prompts", () => {
  assert.equal(sceneCaption("teapot", { context: "beach" }), "a teapot on the beach");
  assert.equal(
    sceneCaption("backpack", { context: "snow", property: "red" }),
    "a red backpack in the snow",
  );
  assert.equal(
    sceneCaption("dog", { identifier: "sks", context: "city" }),
    "a sks dog with a city in the background",
  );
  assert.equal(sceneCaption("dog", { identifier: "sks", property: "purple" }), "a purple sks dog");
  assert.equal(sceneCaption("owl"), "an owl");
  assert.equal(sceneCaption("apple", { property: "red" }), "a red apple");
  assert.equal(sceneCaption("cat", { property: "orange" }), "an orange cat");
  assert.equal(
    sceneCaption("vase", { context: "eiffel tower" }),
    "a vase with the Eiffel Tower in the background",
  );
  assert.throws(() => sceneCaption("dog", { context: "moon" }), /'context' must be one of/);
  assert.throws(() => sceneCaption(""), /'classNoun' must be a non-empty string/);
});
