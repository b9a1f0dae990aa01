import assert from "assert";
import { DataRoot } from "../data_root.ts";
import { MethodRegistry } from "../method_registry.ts";
import { RpcHandler } from "../rpc_handler.ts";
import type { RpcServices } from "../rpc_services.ts";
import { TokenizerCache } from "../tokenizer_cache.ts";
import { tokenizerDecode } from "./tokenizer_decode.ts";
import { tokenizerEncode } from "./tokenizer_encode.ts";
import { tokenizerIdentifier } from "./tokenizer_identifier.ts";

// deno-lint-ignore no-explicit-any
type Answer = { result?: any; error?: any };

async function withHandler(
  fn: (
    call: (method: string, params: unknown) => Promise<Answer>,
    dir: string,
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "rpc-tok-" });
  try {
    const dataRoot = await DataRoot.open(dir);
    const services = {
      dataRoot,
      tokenizers: new TokenizerCache(dataRoot),
    } as unknown as RpcServices;
    const handler = new RpcHandler(
      new MethodRegistry([tokenizerEncode, tokenizerDecode, tokenizerIdentifier]),
      services,
    );
    await fn(
      async (method, params) =>
        await handler.handle(JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 })) as Answer,
      dir,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("tokenizer methods: encode, fixed length, decode, identifier, custom model, errors", async () => {
  await withHandler(async (call, dir) => {
    assert.deepEqual((await call("tokenizer.encode", { text: "a dog", pieces: true })).result, {
      ids: [3, 9, 1782],
      pieces: ["▁", "a", "▁dog"],
    });
    const fixed = (await call("tokenizer.encode", { text: "a dog", length: 6 })).result;
    assert.deepEqual(fixed, {
      ids: [3, 9, 1782, 1, 0, 0],
      mask: [1, 1, 1, 1, 0, 0],
      truncated: false,
    });
    assert.equal(
      (await call("tokenizer.encode", { text: "a dog on the beach", length: 3 })).result.truncated,
      true,
    );
    assert.equal(
      (await call("tokenizer.decode", { ids: [3, 9, 1782, 1, 0, 0] })).result.text,
      "a dog",
    );
    const v = (await call("tokenizer.identifier", { seed: 3, k: 2 })).result;
    assert.equal(v.k, 2);
    assert.equal(v.ids.length, 2);
    assert.deepEqual((await call("tokenizer.identifier", { seed: 3, k: 2 })).result, v);
    assert.deepEqual((await call("tokenizer.encode", { text: v.text })).result.ids, v.ids);
    const bad = (await call("tokenizer.identifier", { range: [9000, 100] })).error;
    assert.equal(bad.code, -32602);
    assert.equal(bad.data.field, "range");
    assert.match(bad.message, /'range' must be \[lo, hi\]/);
    assert.equal((await call("tokenizer.identifier", { k: 4 })).error.data.field, "k");
    // A .model file under the data root.
    await Deno.copyFile(
      new URL("../../tokenizer/assets/t5_spiece.model", import.meta.url),
      `${dir}/mine.model`,
    );
    assert.deepEqual(
      (await call("tokenizer.encode", { text: "a dog", model: "mine.model" })).result.ids,
      [3, 9, 1782],
    );
    await Deno.writeTextFile(`${dir}/junk.model`, "not a model");
    const junk = (await call("tokenizer.encode", { text: "a", model: "junk.model" })).error;
    assert.equal(junk.code, -32602);
    assert.match(junk.message, /'model' must name a SentencePiece \.model file/);
    assert.ok(!junk.message.includes(dir), junk.message);
  });
});
