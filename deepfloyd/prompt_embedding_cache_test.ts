import assert from "assert";
import {
  encodeT5Streaming,
  initBackend,
  SentencePieceProcessor,
  t5ConfigFromHf,
  tf,
} from "./deps.ts";
import { fixture, maxRelativeError, readFixture, TESTDATA } from "./_test_util.ts";
import { loadIFStage, readJsonFile } from "./diffusers_folder.ts";
import { openDiffusersWeights } from "./sharded_weights.ts";
import { encodeIFPrompts } from "./if_sampler.ts";
import { encodeIFPromptsStreaming } from "./prompt_embedding_cache.ts";

await initBackend({ quiet: true });
const TE = `${TESTDATA}if_tiny_i/text_encoder`;

Deno.test("T5 v1.1 streamed layer by layer from bf16 shards equals the PyTorch twin within 1e-4", async () => {
  using w = await openDiffusersWeights(TE);
  const config = t5ConfigFromHf(await readJsonFile(`${TE}/config.json`), { maxLength: 12 });
  const io = await readFixture("t5_io.safetensors");
  const ids = fixture(io, "ids");
  const before = tf.memory().numTensors;
  const e = await encodeT5Streaming(w, config, {
    ids: Int32Array.from(ids.data as Int32Array),
    mask: Uint8Array.from(fixture(io, "mask").data as Int32Array),
    batch: ids.shape[0],
  });
  const err = maxRelativeError(e.tokens.dataSync(), fixture(io, "out").data as Float32Array);
  tf.dispose([e.tokens, e.pooled, e.mask]);
  assert.equal(tf.memory().numTensors, before, "streaming encode leaked tensors");
  console.log(`T5 v1.1 streamed max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-4, `max relative error ${err}`);
});

Deno.test("prompt embeddings: streamed equal the in-memory encoder, cached by fingerprint and prompt", async () => {
  const sp = await SentencePieceProcessor.load(
    await Deno.readFile(`${TESTDATA}if_tiny_i/tokenizer/spiece.model`),
  );
  const cacheDir = await Deno.makeTempDir();
  try {
    using stage = await loadIFStage(`${TESTDATA}if_tiny_i`, { loadTextEncoder: true });
    const prompts = ["a photo of sks dog", "a dog"];
    const want = encodeIFPrompts(stage.textEncoder!, sp, prompts);
    const log: string[] = [];
    const onPrompt = (p: string, from: string) => log.push(`${from}:${p}`);
    const first = await encodeIFPromptsStreaming(TE, sp, prompts, { cacheDir, onPrompt });
    assert.ok(maxRelativeError(first.dataSync(), want.dataSync()) < 1e-5);
    const again = await encodeIFPromptsStreaming(TE, sp, ["A dog ", "a cat"], {
      cacheDir,
      onPrompt,
    });
    assert.deepEqual(log, [
      "encoder:a photo of sks dog",
      "encoder:a dog",
      "cache:A dog ",
      "encoder:a cat",
    ]);
    assert.deepEqual(
      tf.tidy(() => tf.slice(again, [0, 0, 0], [1, -1, -1]).dataSync()),
      tf.tidy(() => tf.slice(first, [1, 0, 0], [1, -1, -1]).dataSync()),
    );
    assert.equal([...Deno.readDirSync(cacheDir)].length, 3);
    tf.dispose([want, first, again]);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("weight fingerprints differ when a tensor's data differs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const f of Deno.readDirSync(TE)) {
      await Deno.copyFile(`${TE}/${f.name}`, `${dir}/${f.name}`);
    }
    let a: string;
    {
      using w = await openDiffusersWeights(dir);
      a = await w.fingerprint();
      using w2 = await openDiffusersWeights(TE);
      assert.equal(await w2.fingerprint(), a);
    }
    const shard = `${dir}/model-00002-of-00002.safetensors`;
    const bytes = await Deno.readFile(shard);
    bytes[bytes.length - 1] ^= 1;
    await Deno.writeFile(shard, bytes);
    using w3 = await openDiffusersWeights(dir);
    assert.notEqual(await w3.fingerprint(), a);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
