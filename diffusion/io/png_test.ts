import assert from "assert";
import { inflateSync } from "node:zlib";
import { initBackend, tf } from "../deps.ts";
import { encodePng, tensorToImages, writePng } from "./png.ts";

await initBackend({ quiet: true });

Deno.test("encodePng: valid signature, IHDR, CRCs, and the pixels inflate back", () => {
  const data = new Uint8Array(2 * 3 * 3).map((_, i) => i * 13);
  const png = encodePng({ width: 2, height: 3, data });
  assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer);
  let at = 8;
  const chunks: Record<string, Uint8Array> = {};
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    chunks[type] = png.subarray(at + 8, at + 8 + len);
    // CRC-32 of type + data, computed independently.
    let c = 0xffffffff;
    for (const byte of png.subarray(at + 4, at + 8 + len)) {
      c ^= byte;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    assert.equal(view.getUint32(at + 8 + len), (c ^ 0xffffffff) >>> 0, `CRC of ${type}`);
    at += 12 + len;
  }
  assert.deepEqual(Object.keys(chunks), ["IHDR", "IDAT", "IEND"]);
  const ihdr = new DataView(chunks.IHDR.buffer, chunks.IHDR.byteOffset);
  assert.deepEqual([ihdr.getUint32(0), ihdr.getUint32(4), chunks.IHDR[8], chunks.IHDR[9]], [
    2,
    3,
    8,
    2,
  ]);
  const raw = new Uint8Array(inflateSync(chunks.IDAT));
  for (let y = 0; y < 3; y++) {
    assert.equal(raw[y * 7], 0);
    assert.deepEqual(raw.subarray(y * 7 + 1, y * 7 + 7), data.subarray(y * 6, y * 6 + 6));
  }
  assert.throws(
    () => encodePng({ width: 2, height: 2, data }),
    /'data' must hold width·height·3 = 12 bytes: current length is 18/,
  );
});

Deno.test("tensorToImages + writePng: [−1, 1] → bytes, file written, no leaks", async () => {
  const before = tf.memory().numTensors;
  const t = tf.tensor4d([-1, -0.5, 0, 0.5, 1, 2], [2, 1, 1, 3]);
  const imgs = await tensorToImages(t);
  t.dispose();
  assert.deepEqual(Array.from(imgs[0].data), [0, 64, 128]);
  assert.deepEqual(Array.from(imgs[1].data), [191, 255, 255]);
  assert.equal(tf.memory().numTensors, before);
  const path = await Deno.makeTempFile({ suffix: ".png" });
  await writePng(path, imgs[0]);
  assert.deepEqual(await Deno.readFile(path), encodePng(imgs[0]));
  await Deno.remove(path);
});
