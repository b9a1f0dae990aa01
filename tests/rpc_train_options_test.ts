/**
 * Issue 32, item 6: every training option of `deno task train` is available over RPC from the one
 * declaration (dreambooth/dreambooth_params.ts). The test enumerates the CLI's options, so an option
 * added to the declaration later (LoRA, concepts) is checked without touching this file: each is in
 * `train.start`'s schema (`rpc.discover`), a valid value passes the schema and reaches the job's
 * options under its code name, a bad value is refused with -32602 naming the field, and a path
 * option is confined to the data root.
 */
import assert from "assert";
import { dreamboothParams } from "../dreambooth/mod.ts";
import { fromFields, type Param, resolveParams } from "../params/mod.ts";
import { RpcClient, RpcClientError, trainParams, trainPathFields } from "../rpc/mod.ts";
import { startTestServer } from "./rpc_fixtures.ts";

/** Options that only make sense on the server's own command line (where the run writes). */
const serverOnly = new Set(["out", "resume", "cacheDir"]);

/** A valid value of a parameter, other than its default where one exists. */
function validValue(spec: Param): unknown {
  switch (spec.type) {
    case "boolean":
      return !(spec.default ?? false);
    case "enum":
      return spec.values.find((v) => v !== spec.default) ?? spec.values[0];
    case "strings":
      return ["a {identifier} {class} on the beach"];
    case "string":
      return "x".repeat(Math.max(1, spec.minLength ?? 1));
    default: {
      const lo = spec.min ?? (spec.exclusiveMin !== undefined ? spec.exclusiveMin : 0);
      const hi = spec.max ?? (spec.exclusiveMax !== undefined ? spec.exclusiveMax : lo + 4);
      let v = (lo + Math.min(hi, lo + 4)) / 2;
      if (spec.type === "integer") v = Math.max(Math.ceil(v), spec.min ?? Math.floor(lo) + 1);
      if (v === spec.default) v = spec.type === "integer" ? v + 1 : v / 2 + lo / 2;
      return v;
    }
  }
}

/** A value the declaration refuses. */
function badValue(spec: Param): unknown {
  switch (spec.type) {
    case "boolean":
      return "yes";
    case "enum":
      return "no-such-value";
    case "strings":
      return "not a list";
    case "string":
      return 42;
    default:
      return spec.min !== undefined ? spec.min - 1 : "NaN";
  }
}

const cliOptions = Object.entries(dreamboothParams.specs as Record<string, Param>)
  .filter(([key]) => dreamboothParams.name(key as never, "option") !== undefined);

Deno.test("rpc train options: every CLI option of deno task train is a train.start field", async () => {
  const server = await startTestServer();
  try {
    const discovered = await new RpcClient(server.url).call<
      { methods: { name: string; "x-params-schema": { properties: Record<string, unknown> } }[] }
    >("rpc.discover", {});
    const schema = discovered.methods.find((m) => m.name === "train.start")!["x-params-schema"];
    assert.ok(cliOptions.length >= 30, `${cliOptions.length} options`);
    // The photos sent with the call are documented in the same schema.
    assert.ok("photos" in schema.properties && "upload" in schema.properties);
    for (const [key, spec] of cliOptions) {
      const field = dreamboothParams.name(key as never, "field");
      const option = dreamboothParams.name(key as never, "option");
      if (serverOnly.has(key)) {
        assert.equal(field, undefined, `${option} is the server's own business`);
        continue;
      }
      assert.ok(field !== undefined, `${option} (${key}) has no RPC field`);
      assert.ok(field in schema.properties, `${option}: '${field}' missing from train.start`);
      // Accepted by the schema, and by the job: fromFields + resolveParams is what the job runs.
      const value = validValue(spec);
      const parsed = trainParams.parse({ [field]: value }) as Record<string, unknown>;
      assert.deepEqual(parsed[field], value, `${option}`);
      const options = resolveParams(
        dreamboothParams,
        fromFields(dreamboothParams, parsed as never),
      );
      assert.deepEqual((options as Record<string, unknown>)[key], value, `${option} → ${key}`);
      assert.throws(() => trainParams.parse({ [field]: badValue(spec) }), (e: Error) => {
        assert.match(e.message, new RegExp(`'${field}'`), `${option}: ${e.message}`);
        return true;
      });
    }
  } finally {
    await server.close();
  }
});

Deno.test("rpc train options: the named options of issue 32 and every path option over RPC", async () => {
  for (
    const option of [
      "--prior-weight",
      "--method",
      "--class-dir",
      "--class-prompt",
      "--instance-prompt",
      "--validation-prompt",
      "--validation-every",
      "--lr-schedule",
      "--lr-warmup",
      "--grad-accum",
      "--ema-decay",
      "--snr-gamma",
      "--noise-offset",
      "--checkpoints-keep",
    ]
  ) {
    const found = cliOptions.find(([key]) =>
      dreamboothParams.name(key as never, "option") === option
    );
    assert.ok(found, `${option} is declared`);
    assert.ok(dreamboothParams.name(found[0] as never, "field"), `${option} is over RPC`);
  }
  assert.ok(trainPathFields.includes("subject") && trainPathFields.includes("classDir"));
  const server = await startTestServer();
  const client = new RpcClient(server.url);
  try {
    for (const field of trainPathFields) {
      for (const path of ["../outside", "/etc"]) {
        const err = await client.call("train.start", { [field]: path }).catch((e) => e);
        assert.ok(err instanceof RpcClientError, `${field}: ${path} accepted`);
        assert.equal(err.code, -32602);
        assert.equal((err.data as { field: string }).field, field, err.message);
      }
    }
    assert.equal(server.rpc.services.jobs.list({}).length, 0);
  } finally {
    await server.close();
  }
});
