import assert from "assert";
import { s } from "./schema.ts";
import { RpcError } from "./rpc_error.ts";

function fails(fn: () => unknown, field: string, message: RegExp) {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.code, -32602);
    assert.deepEqual(err.data, { field });
    assert.match(err.message, message);
    return;
  }
  assert.fail("expected an error");
}

Deno.test("schema: parses, fills defaults, and names the field of every failure", () => {
  const schema = s.object({
    text: s.string({ minLength: 1, maxLength: 5 }),
    n: s.optional(s.integer({ minimum: 1, maximum: 9 }), 3),
    x: s.optional(s.number({ exclusiveMinimum: 0 })),
    tags: s.optional(s.array(s.enum(["a", "b"]), { maxItems: 2 })),
    inner: s.optional(s.object({ flag: s.boolean() })),
  });
  assert.deepEqual(schema.parse({ text: "hi" }), { text: "hi", n: 3 });
  assert.deepEqual(
    schema.parse({ text: "hi", n: 9, x: 0.5, tags: ["a"], inner: { flag: true } }),
    { text: "hi", n: 9, x: 0.5, tags: ["a"], inner: { flag: true } },
  );
  fails(() => schema.parse(undefined), "text", /'text' is required/);
  fails(() => schema.parse(null), "", /params must be an object/);
  fails(() => schema.parse([1]), "", /params must be an object \(named params\)/);
  fails(() => schema.parse({ text: "" }), "text", /at least 1 characters/);
  fails(
    () => schema.parse({ text: "toolong" }),
    "text",
    /at most 5 characters: current length is 7/,
  );
  fails(
    () => schema.parse({ text: "a", n: 1.5 }),
    "n",
    /'n' must be an integer ≥ 1 and ≤ 9: current value is 1.5/,
  );
  fails(() => schema.parse({ text: "a", n: NaN }), "n", /current value is NaN/);
  fails(() => schema.parse({ text: "a", x: 0 }), "x", /must be a number > 0/);
  fails(() => schema.parse({ text: "a", x: Infinity }), "x", /current value is Infinity/);
  fails(() => schema.parse({ text: "a", tags: ["c"] }), "tags[0]", /must be one of a, b/);
  fails(() => schema.parse({ text: "a", tags: ["a", "b", "a"] }), "tags", /at most 2 items/);
  fails(() => schema.parse({ text: "a", inner: {} }), "inner.flag", /'inner.flag' is required/);
  fails(() => schema.parse({ text: "a", inner: { flag: 1 } }), "inner.flag", /must be a boolean/);
  fails(
    () => schema.parse({ text: "a", extra: 1 }),
    "extra",
    /not a known field \(known: text, n, x, tags, inner\)/,
  );
  const pattern = s.string({ pattern: /^[a-z]+$/ });
  fails(() => pattern.parse("A1", "id"), "id", /must match/);
});

Deno.test("schema: emits JSON Schema with required fields, bounds and defaults", () => {
  const schema = s.object({
    text: s.string({ maxLength: 5, description: "The text." }),
    n: s.optional(s.integer({ minimum: 1 }), 3),
    ids: s.array(s.integer(), { maxItems: 4 }),
  });
  assert.deepEqual(schema.jsonSchema, {
    type: "object",
    properties: {
      text: { type: "string", maxLength: 5, description: "The text." },
      n: { type: "integer", minimum: 1, default: 3 },
      ids: { type: "array", items: { type: "integer" }, maxItems: 4 },
    },
    additionalProperties: false,
    required: ["text", "ids"],
  });
  // Defaults are copied, never shared between calls.
  const withList = s.object({ list: s.optional(s.array(s.integer()), [1]) });
  const a = withList.parse({}) as { list: number[] };
  a.list.push(2);
  assert.deepEqual(withList.parse({}), { list: [1] });
});

Deno.test("schema: s.declared derives fields, bounds and messages from a params/ declaration", async () => {
  const { trainParams } = await import("./methods/train.ts");
  // λ, the method and the batch are settable over RPC (issue 33: the six declarations are one).
  assert.deepEqual(
    trainParams.parse({ priorLossWeight: 0.5, method: "textual-inversion", instanceBatch: 2 }),
    { priorLossWeight: 0.5, method: "textual-inversion", instanceBatch: 2 },
  );
  assert.deepEqual(trainParams.parse({ subject: "dogs", preset: "tiny" }), {
    subject: "dogs",
    preset: "tiny",
  });
  fails(
    () => trainParams.parse({ instanceBatch: 0 }),
    "instanceBatch",
    /^Invalid params: 'instanceBatch' must be an integer ≥ 1 and ≤ 256: current value is 0$/,
  );
  fails(
    () => trainParams.parse({ learningRate: 1e308 }),
    "learningRate",
    /'learningRate' must be a finite number > 0 and ≤ 10: current value is 1e\+308/,
  );
  fails(() => trainParams.parse({ out: "/tmp" }), "out", /is not a known field/);
  fails(() => trainParams.parse({ instanceDir: "x" }), "instanceDir", /is not a known field/);
  const json = trainParams.jsonSchema as { properties: Record<string, Record<string, unknown>> };
  assert.deepEqual(json.properties.priorLossWeight.default, 1);
  assert.equal(json.properties.steps.maximum, 1_000_000);
});
