import assert from "assert";
import { ModelType, parseModelProto, PieceType } from "./model_proto.ts";
import { ProtobufError } from "./_protobuf.ts";

const T5 = Deno.readFileSync(new URL("./assets/t5_spiece.model", import.meta.url));

Deno.test("parseModelProto reads the T5 model's pieces, trainer spec and normalizer spec", () => {
  const m = parseModelProto(T5);
  assert.equal(m.pieces.length, 32000);
  assert.deepEqual(m.pieces.slice(0, 3).map((p) => [p.piece, p.type]), [
    ["<pad>", PieceType.CONTROL],
    ["</s>", PieceType.CONTROL],
    ["<unk>", PieceType.UNKNOWN],
  ]);
  assert.equal(m.pieces[3].piece, "▁");
  assert.equal(m.pieces[3].score, Math.fround(m.pieces[3].score));
  assert.ok(m.pieces[3].score < 0);
  const ts = m.trainerSpec;
  assert.equal(ts.modelType, ModelType.UNIGRAM);
  assert.deepEqual([ts.unkId, ts.bosId, ts.eosId, ts.padId], [2, -1, 1, 0]);
  assert.equal(ts.vocabSize, 32000);
  assert.equal(ts.byteFallback, false);
  assert.equal(ts.unkSurface, " \u2047 ");
  const ns = m.normalizerSpec;
  assert.equal(ns.name, "nmt_nfkc");
  assert.equal(ns.precompiledCharsmap.length, 237539);
  assert.deepEqual([ns.addDummyPrefix, ns.removeExtraWhitespaces, ns.escapeWhitespaces], [
    true,
    true,
    true,
  ]);
  assert.equal(m.denormalizerSpec, undefined);
});

Deno.test("parseModelProto rejects truncated, corrupt and foreign bytes with a reason", () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [T5.subarray(0, 1), /not a SentencePiece model: truncated varint at byte 1/],
    [T5.subarray(0, 400000), /runs past the end \(400000\)/],
    [T5.subarray(0, 1000), /looks truncated: 76 pieces but no trainer_spec/],
    [new TextEncoder().encode("# a markdown file\n"), /not a SentencePiece model/],
    [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]), /not a SentencePiece model/],
    [new Uint8Array([0x0a, 0x80]), /truncated varint/],
    [new Uint8Array([0x08, 0x01]), /field 'pieces' has wire type 0, expected 2/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(
      () => parseModelProto(bytes),
      (e: Error) => e instanceof ProtobufError && re.test(e.message),
    );
  }
  const corrupt = T5.slice();
  corrupt.fill(0xff, 5000, 5100);
  assert.throws(
    () => parseModelProto(corrupt),
    /truncated varint at byte 5004 \(in SentencePiece\)/,
  );
  assert.throws(() => parseModelProto("model" as unknown as Uint8Array), TypeError);
});
