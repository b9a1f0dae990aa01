import assert from "assert";
import {
  decodeSafetensors,
  encodeSafetensors,
  openSafetensors,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "./safetensors.ts";

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

Deno.test("safetensors: float32 round trip is bit-exact (incl. NaN, ±Inf, −0, subnormals), ints too", async () => {
  const special = new Float32Array([
    0,
    -0,
    1.5,
    -2.25,
    NaN,
    Infinity,
    -Infinity,
    1e-42,
    3.4e38,
    Math.PI,
  ]);
  const random = new Float32Array(1000).map((_, i) => Math.sin(i * 12.9898) * 43758.5453);
  const ints = new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)]);
  const bytes = new Uint8Array([0, 7, 255]);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await writeSafetensors(path, {
      special: { shape: [2, 5], data: special },
      random: { shape: [10, 10, 10], data: random },
      ints: { shape: [4], data: ints },
      bytes: { shape: [3], data: bytes },
      empty: { shape: [0, 3], data: new Float32Array(0) },
    }, { metadata: { note: "héllo" } });
    const { tensors, metadata } = await readSafetensors(path);
    assert.deepEqual(bits(tensors.get("special")!.data as Float32Array), bits(special));
    assert.deepEqual(bits(tensors.get("random")!.data as Float32Array), bits(random));
    assert.deepEqual(tensors.get("random")!.shape, [10, 10, 10]);
    assert.deepEqual(tensors.get("ints")!.data, ints);
    assert.deepEqual(tensors.get("bytes")!.data, bytes);
    assert.deepEqual(tensors.get("empty")!.shape, [0, 3]);
    assert.equal(metadata.note, "héllo");
    // Writing what was read gives the same bytes.
    const again = encodeSafetensors(tensors, { metadata });
    assert.deepEqual(again, await Deno.readFile(path));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("safetensors: float16 storage is exact for half-representable values and rounds others to nearest", () => {
  const exact = new Float32Array([
    0,
    -0,
    1,
    -2,
    0.5,
    65504,
    -65504,
    2 ** -24,
    2 ** -14,
    1 + 2 ** -10,
    Infinity,
  ]);
  const out = decodeSafetensors(
    encodeSafetensors({ h: { shape: [exact.length], data: exact, dtype: "F16" } }),
  );
  assert.equal(out.tensors.get("h")!.dtype, "F16");
  assert.deepEqual(bits(out.tensors.get("h")!.data as Float32Array), bits(exact));
  const other = new Float32Array([0.1, 1 / 3, 70000, 1e-9]);
  const o = decodeSafetensors(
    encodeSafetensors({ h: { shape: [4], data: other } }, { floatDtype: "F16" }),
  )
    .tensors.get("h")!.data as Float32Array;
  assert.equal(o[0], 0.0999755859375); // nearest half to 0.1
  assert.equal(o[1], 0.333251953125);
  assert.equal(o[2], Infinity);
  assert.equal(o[3], 0);
});

Deno.test("safetensors: truncated and corrupt data fail clearly, naming the file", async () => {
  const good = encodeSafetensors({ w: { shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
  assert.throws(() => decodeSafetensors(good.subarray(0, 5)), SafetensorsError);
  assert.throws(
    () => decodeSafetensors(good.subarray(0, 20)),
    /header claims \d+ bytes but only 12 follow/,
  );
  assert.throws(
    () => decodeSafetensors(good.subarray(0, good.length - 1)),
    /tensor 'w' ends at byte 16 .* 15 bytes \(truncated\)/,
  );
  const corrupt = good.slice();
  corrupt[9] = "!".charCodeAt(0);
  assert.throws(() => decodeSafetensors(corrupt), /header is not valid JSON/);
  const badShape = new TextEncoder().encode(
    JSON.stringify({ w: { dtype: "F32", shape: [3], data_offsets: [0, 16] } }),
  );
  const file = new Uint8Array(8 + badShape.length + 16);
  new DataView(file.buffer).setBigUint64(0, BigInt(badShape.length), true);
  file.set(badShape, 8);
  assert.throws(
    () => decodeSafetensors(file),
    /tensor 'w' has data_offsets \[0, 16\] that do not fit its shape \[3\]/,
  );
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await Deno.writeFile(path, good.subarray(0, 30));
    await assert.rejects(() => readSafetensors(path), new RegExp(`Cannot read '${path}' as`));
  } finally {
    await Deno.remove(path);
  }
  // A missing file or a folder: a SafetensorsError saying so, not the OS's words.
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => readSafetensors(`${dir}/nope.safetensors`),
      (e: Error) =>
        e instanceof SafetensorsError &&
        e.message === `Cannot read '${dir}/nope.safetensors' as it does not exist`,
    );
    await assert.rejects(
      () => readSafetensors(dir),
      (e: Error) =>
        e instanceof SafetensorsError &&
        e.message === `Cannot read '${dir}' as it is a folder, not a .safetensors file`,
    );
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("safetensors: python3 with only json+struct reads the header of a file we write", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await writeSafetensors(path, {
      "encoder.block.0.layer.0.SelfAttention.q.weight": {
        shape: [2, 3],
        data: new Float32Array(6).fill(0.5),
      },
      b: { shape: [2], data: new Float32Array([1, 2]), dtype: "F16" },
    }, { metadata: { config: '{"a":1}' } });
    const script = [
      "import json, struct, sys",
      "f = open(sys.argv[1], 'rb')",
      "n, = struct.unpack('<Q', f.read(8))",
      "h = json.loads(f.read(n))",
      "data = f.read()",
      "q = h['encoder.block.0.layer.0.SelfAttention.q.weight']",
      "b0, b1 = q['data_offsets']",
      "vals = struct.unpack('<6f', data[b0:b1])",
      "print(json.dumps({'meta': h['__metadata__'], 'q': q, 'b': h['b'], 'vals': vals}))",
    ].join("\n");
    const out = await new Deno.Command("python3", { args: ["-c", script, path] }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(r.meta, { config: '{"a":1}' });
    assert.deepEqual(r.q.shape, [2, 3]);
    assert.equal(r.q.dtype, "F32");
    assert.equal(r.b.dtype, "F16");
    assert.deepEqual(r.vals, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openSafetensors: single tensors and rows on demand, bf16 widened, errors name the file", async () => {
  // A bf16 table written by hand: rows [1, 2], [−3, 0.5], [65280, −0] (exact in bf16).
  const rows = [1, 2, -3, 0.5, 65280, -0];
  const raw = new Uint8Array(rows.length * 2);
  const f32 = new Float32Array(rows);
  const u32 = new Uint32Array(f32.buffer);
  u32.forEach((b, i) => new DataView(raw.buffer).setUint16(2 * i, b >>> 16, true));
  const header = new TextEncoder().encode(JSON.stringify({
    emb: { dtype: "BF16", shape: [3, 2], data_offsets: [0, raw.length] },
    w: { dtype: "F32", shape: [2], data_offsets: [raw.length, raw.length + 8] },
  }));
  const bytes = new Uint8Array(8 + header.length + raw.length + 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  bytes.set(raw, 8 + header.length);
  new DataView(bytes.buffer).setFloat32(8 + header.length + raw.length, 7, true);
  new DataView(bytes.buffer).setFloat32(8 + header.length + raw.length + 4, -1, true);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await Deno.writeFile(path, bytes);
    {
      using f = await openSafetensors(path);
      assert.deepEqual([...f.entries.keys()], ["emb", "w"]);
      assert.deepEqual(Array.from((await f.read("w")).data), [7, -1]);
      const r = await f.readRows("emb", [2, 0, 2]);
      assert.deepEqual(r.shape, [3, 2]);
      assert.deepEqual(Array.from(r.data), [65280, -0, 1, 2, 65280, -0]);
      assert.equal(r.dtype, "BF16");
      assert.deepEqual(
        (await f.read("emb")).data,
        decodeSafetensors(bytes).tensors.get("emb")!.data,
      );
      await assert.rejects(() => f.read("nope"), /tensor 'nope'.*does not hold it/);
      await assert.rejects(() => f.readRows("emb", [3]), /row 3 is outside \[0, 3\)/);
    }
    await Deno.writeFile(path, bytes.subarray(0, 20));
    await assert.rejects(() => openSafetensors(path), SafetensorsError);
  } finally {
    await Deno.remove(path);
  }
});
