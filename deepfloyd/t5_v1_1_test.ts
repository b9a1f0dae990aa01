/**
 * T5 v1.1 (IF's text encoder): diffusion/'s T5Encoder on a sharded bf16 `text_encoder/` folder
 * against the PyTorch twin of transformers' T5EncoderModel (testdata/generate_fixtures.py), and the
 * SentencePiece ids of `tokenizer/spiece.model` against those spm_encode recorded.
 */
import assert from "assert";
import {
  encodeFixedLength,
  initBackend,
  SentencePieceProcessor,
  t5ConfigFromHf,
  T5Encoder,
  tf,
} from "./deps.ts";
import { fixture, maxRelativeError, readFixture, TESTDATA } from "./_test_util.ts";
import { loadIFStage, readDiffusersWeights, readJsonFile } from "./diffusers_folder.ts";

await initBackend({ quiet: true });

Deno.test("T5 v1.1 encoder from sharded bf16 safetensors equals the PyTorch twin within 1e-4", async () => {
  const dir = `${TESTDATA}if_tiny_i/text_encoder`;
  const config = t5ConfigFromHf(await readJsonFile(`${dir}/config.json`), { maxLength: 12 });
  assert.equal(config.feedForwardProj, "gated-gelu");
  using enc = new T5Encoder(config);
  const weights = await readDiffusersWeights(dir, { stem: "model" });
  assert.equal(weights.get("shared.weight")?.dtype, "BF16");
  enc.loadWeights(weights);
  const io = await readFixture("t5_io.safetensors");
  const ids = fixture(io, "ids");
  const mask = Uint8Array.from(fixture(io, "mask").data as Int32Array);
  const e = enc.encode(Int32Array.from(ids.data as Int32Array), mask, { batch: ids.shape[0] });
  const err = maxRelativeError(e.tokens.dataSync(), fixture(io, "out").data as Float32Array);
  tf.dispose([e.tokens, e.pooled, e.mask]);
  console.log(`T5 v1.1 max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-4, `max relative error ${err}`);
});

Deno.test("T5 tokenizer ids from tokenizer/spiece.model equal the recorded spm_encode ids", async () => {
  const rec = await readJsonFile(`${TESTDATA}tokenizer_ids.json`) as {
    max_length: number;
    rows: { text: string; pieces_ids: number[]; ids: number[]; mask: number[] }[];
  };
  const sp = await SentencePieceProcessor.load(
    await Deno.readFile(`${TESTDATA}if_tiny_i/tokenizer/spiece.model`),
  );
  for (const r of rec.rows) {
    assert.deepEqual(sp.encode(r.text), r.pieces_ids, r.text);
    const f = encodeFixedLength(sp, r.text, { length: rec.max_length });
    assert.deepEqual(Array.from(f.ids), r.ids, r.text);
    assert.deepEqual(Array.from(f.mask), r.mask, r.text);
  }
});

Deno.test("an IF stage I folder loads with its text encoder, tokenizer and scheduler", async () => {
  using stage = await loadIFStage(`${TESTDATA}if_tiny_i`, { loadTextEncoder: true });
  assert.ok(stage.textEncoder && stage.tokenizer);
  assert.equal(stage.textEncoder.config.maxLength, 77);
  assert.equal(stage.scheduler.config.varianceType, "learned_range");
  assert.equal(stage.imageNoisingScheduler, null);
  using stage2 = await loadIFStage(`${TESTDATA}if_tiny_ii`);
  assert.equal(stage2.textEncoder, null);
  assert.equal(stage2.imageNoisingScheduler?.config.varianceType, "fixed_small");
  assert.equal(stage2.unet.config.classEmbedType, "timestep");
});
