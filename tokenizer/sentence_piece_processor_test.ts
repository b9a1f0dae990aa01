import assert from "assert";
import { loadSentencePiece, SentencePieceProcessor } from "./sentence_piece_processor.ts";
import { loadDefaultVocabulary } from "./default_vocabulary.ts";
import { type ModelProto, parseModelProto, PieceType } from "./model_proto.ts";

const T5_URL = new URL("./assets/t5_spiece.model", import.meta.url);
const T5_BYTES = Deno.readFileSync(T5_URL);

Deno.test("load accepts a path, a file URL (object or string) and bytes", async () => {
  for (const src of [T5_URL.pathname, T5_URL, T5_URL.href, T5_BYTES]) {
    const sp = await SentencePieceProcessor.load(src);
    assert.equal(sp.vocabSize, 32000);
  }
  const sp = await loadSentencePiece(T5_URL);
  assert.equal(sp.name, T5_URL.href);
  assert.equal(await loadDefaultVocabulary(), await loadDefaultVocabulary());
});

Deno.test("vocabulary accessors: ids of special pieces, piece/id/score/type lookups", async () => {
  const sp = await loadDefaultVocabulary();
  assert.deepEqual([sp.padId, sp.eosId, sp.unkId, sp.bosId], [0, 1, 2, -1]);
  assert.equal(sp.modelType, "unigram");
  assert.equal(sp.idToPiece(1782), "▁dog");
  assert.equal(sp.pieceToId("▁dog"), 1782);
  assert.equal(sp.pieceToId("not a piece at all"), sp.unkId);
  assert.equal(sp.pieceType(0), "control");
  assert.equal(sp.pieceType(2), "unknown");
  assert.equal(sp.pieceType(1782), "normal");
  assert.ok(sp.isControl(1) && sp.isUnknown(2) && !sp.isByte(3));
  assert.equal(sp.score(1782), Math.fround(sp.score(1782)));
  assert.equal(sp.trainerSpec.eosId, 1);
  assert.equal(sp.normalizerSpec.name, "nmt_nfkc");
});

Deno.test("encode, encodeAsPieces and decode on T5", async () => {
  const sp = await loadDefaultVocabulary();
  assert.deepEqual(sp.encode("a dog on the beach"), [3, 9, 1782, 30, 8, 2608]);
  assert.deepEqual(sp.encodeAsPieces("Ｈｅｌｌｏ, world"), ["▁Hello", ",", "▁world"]);
  assert.deepEqual(sp.encode(""), []);
  assert.deepEqual(sp.encode("   "), []);
  assert.equal(sp.decode([]), "");
  assert.equal(sp.decode(sp.encode("a dog on the beach")), "a dog on the beach");
  assert.equal(sp.decode(new Int32Array([3, 9, 1782, 1, 0])), "a dog"); // control pieces vanish
  assert.equal(sp.decodePieces(["▁Hello", ",", "▁world"]), "Hello, world");
  // Unknown characters merge into one <unk> and decode as " ⁇ ".
  assert.deepEqual(sp.encode("😀😀"), [3, 2]);
  assert.deepEqual(sp.encodeAsPieces("😀😀"), ["▁", "😀😀"]);
  assert.equal(sp.decode([3, 2]), " ⁇ ");
  // Control pieces are never produced from text, even when the text spells them.
  const ids = sp.encode("<pad> </s> <unk>");
  assert.ok(!ids.includes(0) && !ids.includes(1), ids.join(" "));
  // UTF-8 bytes are accepted. A malformed byte becomes U+FFFD *after* the charsmap (so it stays,
  // as an unknown piece), while a real U+FFFD is deleted by nmt_nfkc: both as in spm_encode.
  assert.deepEqual(sp.encode(new TextEncoder().encode("a dog")), sp.encode("a dog"));
  assert.deepEqual(sp.encode(new Uint8Array([0xff])), [3, 2]);
  assert.deepEqual(sp.encode("\ufffd"), []);
  assert.deepEqual(sp.encode("\ud800"), sp.encode("\ufffd"));
});

Deno.test("wrong argument types and out-of-range ids throw TypeError/RangeError naming the value", async () => {
  const sp = await loadDefaultVocabulary();
  assert.throws(() => sp.encode(42 as unknown as string), {
    name: "TypeError",
    message: "Cannot encode as 'text' must be a string or UTF-8 bytes: current value is 42",
  });
  assert.throws(() => sp.encodeAsPieces(null as unknown as string), TypeError);
  assert.throws(() => sp.decode("1 2" as unknown as number[]), TypeError);
  assert.throws(() => sp.decode([3, 32000]), {
    name: "RangeError",
    message: "Cannot decode as 'ids[1]' must be an integer in [0, 32000): current value is 32000",
  });
  assert.throws(() => sp.decode([1.5]), RangeError);
  assert.throws(() => sp.idToPiece(-1), RangeError);
  assert.throws(() => sp.pieceToId(7 as unknown as string), TypeError);
  await assert.rejects(() => SentencePieceProcessor.load(7 as unknown as string), TypeError);
  await assert.rejects(() => SentencePieceProcessor.load(""), TypeError);
  assert.throws(() => SentencePieceProcessor.fromBytes([1, 2] as unknown as Uint8Array), TypeError);
});

Deno.test("bad model files give an error naming the file and the problem", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spm-bad-" });
  try {
    const missing = `${dir}/missing.model`;
    await assert.rejects(
      () => SentencePieceProcessor.load(missing),
      (e: Error) => e.message === `Cannot load SentencePiece model '${missing}': file not found`,
    );
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["truncated.model", T5_BYTES.subarray(0, T5_BYTES.length - 100), /truncated or corrupt/],
      ["half.model", T5_BYTES.subarray(0, 1000), /looks truncated/],
      ["empty.model", new Uint8Array(0), /the file is empty/],
      ["text.model", new TextEncoder().encode("hello world\n"), /not a SentencePiece model/],
      ["png.model", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), /not a/],
    ];
    for (const [name, bytes, re] of cases) {
      const path = `${dir}/${name}`;
      await Deno.writeFile(path, bytes);
      await assert.rejects(
        () => SentencePieceProcessor.load(path),
        (e: Error) =>
          e.message.startsWith(`Cannot load SentencePiece model '${path}': `) && re.test(e.message),
      );
    }
    await assert.rejects(() => SentencePieceProcessor.load(dir), /is a directory/);
    await assert.rejects(
      () => SentencePieceProcessor.load(new URL("ftp://x/y")),
      /unsupported URL/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function tinyModel(edit: (m: ModelProto) => void): ModelProto {
  const m = parseModelProto(T5_BYTES);
  m.pieces = m.pieces.slice(0, 100);
  edit(m);
  return m;
}

Deno.test("models that break SentencePiece's rules are rejected like the reference does", () => {
  const cases: Array<[(m: ModelProto) => void, RegExp]> = [
    [(m) => (m.pieces[50] = { ...m.pieces[40] }), /piece 50 "[^"]*" is already defined/],
    [(m) => (m.pieces[2] = { ...m.pieces[2], type: PieceType.NORMAL }), /<unk> is not defined/],
    [
      (m) => (m.pieces[5] = { ...m.pieces[5], type: PieceType.UNKNOWN }),
      /<unk> is already defined/,
    ],
    [(m) => (m.pieces[5] = { ...m.pieces[5], bytes: new Uint8Array(0) }), /piece 5 is empty/],
    [
      (m) => (m.pieces[5] = { ...m.pieces[5], type: PieceType.BYTE, piece: "<0x41>" }),
      /byte piece <0x41> is found although 'byte_fallback' is false/,
    ],
    [(m) => (m.trainerSpec = { ...m.trainerSpec, byteFallback: true }), /not 256 byte pieces/],
    [(m) => (m.trainerSpec = { ...m.trainerSpec, modelType: 9 as 1 }), /unknown model type 9/],
    [
      (m) => (m.normalizerSpec = { ...m.normalizerSpec, precompiledCharsmap: new Uint8Array(3) }),
      /normalization rule blob is broken/,
    ],
  ];
  for (const [edit, re] of cases) {
    assert.throws(
      () => new SentencePieceProcessor(tinyModel(edit), "tiny.model"),
      (e: Error) =>
        e.message.startsWith("Cannot load SentencePiece model 'tiny.model': ") &&
        re.test(e.message),
    );
  }
});

Deno.test("load fetches http URLs and names the URL and status when the fetch fails", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/t5.model"
        ? new Response(T5_BYTES)
        : new Response("no", { status: 404 }),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const sp = await SentencePieceProcessor.load(`${base}/t5.model`);
    assert.deepEqual(sp.encode("a dog"), [3, 9, 1782]);
    await assert.rejects(
      () => SentencePieceProcessor.load(new URL(`${base}/missing.model`)),
      (e: Error) =>
        e.message === `Cannot load SentencePiece model '${base}/missing.model': HTTP 404 Not Found`,
    );
  } finally {
    ac.abort();
    await server.finished;
  }
});
