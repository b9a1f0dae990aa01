import assert from "assert";
import { promptFidelity } from "./prompt_fidelity.ts";
import { fakeClassifier, squareImage } from "./_test_fixtures.ts";

const im = squareImage(16, [0, 0, 0], [1, 1, 1]);

Deno.test("promptFidelity scores the fraction of stated attributes read in each image", () => {
  const c = fakeClassifier({ classNoun: "dog", context: "beach", property: "red" });
  assert.equal(promptFidelity([im], { classifier: c, target: { context: "beach" } }).estimate, 1);
  assert.equal(promptFidelity([im], { classifier: c, target: { context: "snow" } }).estimate, 0);
  const r = promptFidelity([im, im], {
    classifier: c,
    target: { classNoun: "cat", context: "beach", property: "red" },
  });
  assert.ok(Math.abs(r.estimate - 2 / 3) < 1e-12);
  assert.equal(r.context!.estimate, 1);
  assert.equal(r.property!.estimate, 1);
  assert.equal(r.classNoun!.estimate, 0);
  assert.equal(promptFidelity([im], { classifier: c, target: {} }).estimate, 1);
});

Deno.test("promptFidelity validates the target against the classifier", () => {
  const c = fakeClassifier({ classNoun: "dog", context: "beach", property: null });
  assert.throws(
    () => promptFidelity([im], { classifier: c, target: { context: "moon" } }),
    /'target.context'.*moon/,
  );
  assert.throws(() => promptFidelity([], { classifier: c, target: {} }), /'generated'/);
});
