import assert from "node:assert/strict";
import { classRankOf } from "./measure_prior.ts";

Deno.test("classRankOf: 1 + the classes scored higher, per row; ties share the better rank", () => {
  const classes = ["dog", "cat", "teapot"];
  const probs = new Float32Array([0.1, 0.6, 0.3, 0.5, 0.25, 0.25]);
  assert.equal(classRankOf(probs, classes, 0, "cat"), 1);
  assert.equal(classRankOf(probs, classes, 0, "teapot"), 2);
  assert.equal(classRankOf(probs, classes, 0, "dog"), 3);
  assert.equal(classRankOf(probs, classes, 1, "dog"), 1);
  assert.equal(classRankOf(probs, classes, 1, "cat"), 2);
  assert.equal(classRankOf(probs, classes, 1, "teapot"), 2);
  assert.throws(() => classRankOf(probs, classes, 0, "vase"), /does not know it/);
});

Deno.test("measure-prior refuses an --aug-level outside [0, 1] before loading anything", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./measure_prior.ts", import.meta.url).pathname,
      "--aug-level",
      "2",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.notEqual(code, 0);
  assert.match(
    new TextDecoder().decode(stderr),
    /'--aug-level' must be a finite number ≥ 0 and ≤ 1: current value is "2"/,
  );
});

Deno.test("measure-prior refuses an unknown --sampler before loading anything", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./measure_prior.ts", import.meta.url).pathname,
      "--sampler",
      "euler",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.notEqual(code, 0);
  assert.match(
    new TextDecoder().decode(stderr),
    /'--sampler' must be one of ddim, ancestral: current value is "euler"/,
  );
});
