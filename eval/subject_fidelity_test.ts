import assert from "assert";
import { priorPreservation, subjectFidelity } from "./subject_fidelity.ts";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import { squareImage } from "./_test_fixtures.ts";

const embedder = new ForegroundColorEmbedder();
const red = squareImage(32, [-1, -1, 1], [1, -1, -1], 12);
const redElsewhere = squareImage(32, [-1, 1, -1], [1, -1, -1], 16);
const cyan = squareImage(32, [-1, -1, 1], [-1, 1, 1], 12);

Deno.test("subjectFidelity: 1 for the subject itself, 0 for another colour, mean in between", () => {
  assert.ok(Math.abs(subjectFidelity([red], [red], { embedder }).estimate - 1) < 1e-6);
  assert.ok(subjectFidelity([cyan], [red], { embedder }).estimate < 0.01);
  const r = subjectFidelity([redElsewhere, cyan], [red], { embedder, seed: 2 });
  assert.ok(Math.abs(r.estimate - 0.5) < 0.01);
  assert.deepEqual(r.perImage.map((x) => Math.round(x)), [1, 0]);
  assert.ok(r.low <= r.estimate && r.estimate <= r.high);
});

Deno.test("priorPreservation is the class generations' similarity to the subject", () => {
  assert.ok(priorPreservation([cyan, cyan], [red], { embedder }).estimate < 0.01);
  assert.ok(priorPreservation([red, redElsewhere], [red], { embedder }).estimate > 0.99);
});

Deno.test("subjectFidelity validates its inputs", () => {
  assert.throws(() => subjectFidelity([], [red], { embedder }), /'generated'/);
  assert.throws(() => subjectFidelity([red], [], { embedder }), /'real'/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => subjectFidelity([red], [red], {} as any), /'embedder'/);
});
