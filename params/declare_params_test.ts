import assert from "assert";
import {
  declareParams,
  paramJsonSchema,
  paramProblem,
  type ParamValues,
  resolveParams,
} from "./declare_params.ts";

const params = declareParams("train", {
  steps: {
    type: "integer",
    min: 1,
    max: 1000,
    default: 200,
    help: "training steps",
  },
  learningRate: {
    type: "number",
    exclusiveMin: 0,
    max: 10,
    option: "lr",
    help: "learning rate",
  },
  instanceBatch: {
    type: "integer",
    min: 1,
    default: 4,
    option: "batch",
    help: "batch",
  },
  method: {
    type: "enum",
    values: ["dreambooth", "textual-inversion"],
    default: "dreambooth",
    help: "m",
  },
  flip: { type: "boolean", default: true, help: "flip augmentation" },
  instanceDir: {
    type: "string",
    minLength: 1,
    field: "subject",
    help: "photos",
  },
  out: { type: "string", field: false, help: "output folder" },
});

Deno.test("declareParams: names per front end", () => {
  assert.equal(params.name("instanceBatch", "option"), "--batch");
  assert.equal(params.name("instanceBatch", "field"), "instanceBatch");
  assert.equal(params.name("instanceBatch", "key"), "instanceBatch");
  assert.equal(params.name("flip", "option"), "--no-flip");
  assert.equal(params.name("instanceDir", "option"), "--instance-dir");
  assert.equal(params.name("instanceDir", "field"), "subject");
  assert.equal(params.name("out", "field"), undefined);
});

Deno.test("declareParams: refuses a default outside its bounds and a name used twice", () => {
  assert.throws(
    () =>
      declareParams("x", {
        n: { type: "integer", min: 1, default: 0, help: "n" },
      }),
    /Cannot declare 'n' as its default must be an integer ≥ 1: current value is 0/,
  );
  assert.throws(
    () =>
      declareParams("x", {
        a: { type: "integer", option: "n", help: "a" },
        b: { type: "integer", option: "n", help: "b" },
      }),
    /option '--n'/,
  );
});

Deno.test("resolveParams: fills defaults, checks values, names the key", () => {
  const v: ParamValues<typeof params.specs> = resolveParams(params, {
    learningRate: 0.01,
  });
  assert.deepEqual(v, {
    steps: 200,
    learningRate: 0.01,
    instanceBatch: 4,
    method: "dreambooth",
    flip: true,
  });
  assert.equal(
    resolveParams(params, { steps: null }).steps,
    200,
    "null is absent",
  );
  assert.throws(
    () => resolveParams(params, { instanceBatch: 0 }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot train as 'instanceBatch' must be an integer ≥ 1: current value is 0",
  );
  assert.throws(
    () => resolveParams(params, { learningRate: 1e308 }),
    /'learningRate' must be a finite number > 0 and ≤ 10: current value is 1e\+308/,
  );
  assert.throws(
    () => resolveParams(params, { instanceBatch: 0 }, { naming: "option" }),
    /'--batch' must be/,
  );
  assert.throws(
    () => resolveParams(params, { steps: 0 }, { verb: "create a config" }),
    /Cannot create a config as 'steps' must be/,
  );
  assert.throws(
    () => resolveParams(params, { method: "lora" as "dreambooth" }),
    /'method' must be one of dreambooth, textual-inversion: current value is "lora"/,
  );
});

Deno.test("paramProblem: every kind", () => {
  assert.equal(
    paramProblem(params.specs.steps, 2.5),
    "must be an integer ≥ 1 and ≤ 1000: current value is 2.5",
  );
  assert.equal(
    paramProblem(params.specs.steps, NaN),
    "must be an integer ≥ 1 and ≤ 1000: current value is NaN",
  );
  assert.equal(
    paramProblem(params.specs.steps, "5"),
    'must be an integer ≥ 1 and ≤ 1000: current value is "5"',
  );
  assert.equal(
    paramProblem(params.specs.flip, 1),
    "must be true or false: current value is 1",
  );
  assert.equal(paramProblem(params.specs.instanceDir, ""), "must not be empty");
  assert.equal(
    paramProblem({ type: "string", notBlank: true, help: "" }, " \n"),
    "must not be empty",
  );
  assert.equal(paramProblem({ type: "string", notBlank: true, help: "" }, " a "), undefined);
  assert.equal(
    paramProblem({ type: "string", maxLength: 3, help: "" }, "abcd"),
    "must have at most 3 characters: current length is 4",
  );
  assert.equal(
    paramProblem({ type: "string", pattern: /^a+$/, help: "" }, "b"),
    'must match ^a+$: current value is "b"',
  );
});

Deno.test("paramProblem: open intervals", () => {
  const decay = { type: "number", exclusiveMin: 0, exclusiveMax: 1, help: "" } as const;
  assert.equal(paramProblem(decay, 0.5), undefined);
  assert.equal(paramProblem(decay, 1), "must be a finite number > 0 and < 1: current value is 1");
  assert.deepEqual(paramJsonSchema(decay), {
    type: "number",
    exclusiveMinimum: 0,
    exclusiveMaximum: 1,
    description: "",
  });
});

Deno.test("paramJsonSchema: bounds, enum, default, description", () => {
  assert.deepEqual(paramJsonSchema(params.specs.learningRate), {
    type: "number",
    exclusiveMinimum: 0,
    maximum: 10,
    description: "learning rate",
  });
  assert.deepEqual(paramJsonSchema(params.specs.method), {
    type: "string",
    enum: ["dreambooth", "textual-inversion"],
    default: "dreambooth",
    description: "m",
  });
  assert.deepEqual(
    paramJsonSchema({ type: "string", defaultText: "the dog", help: "photos" }),
    {
      type: "string",
      description: "photos (default the dog)",
    },
  );
});
