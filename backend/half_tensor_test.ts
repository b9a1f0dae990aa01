import assert from "assert";
import { tf } from "./deps.ts";
import {
  fromBfloat16Bits,
  fromHalfBits,
  HalfTensor,
  toBfloat16Bits,
  toHalfBits,
} from "./half_tensor.ts";
import { initBackend } from "./init_backend.ts";
import { relativeErrors } from "./_test_util.ts";

Deno.test("half bits: exact values, round to nearest even, specials", () => {
  for (const v of [0, 1, -2.5, 65504, 2 ** -24, 0.0999755859375]) {
    assert.equal(fromHalfBits(toHalfBits(v)), v);
  }
  assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00); // tie → even
  assert.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
  assert.equal(fromHalfBits(toHalfBits(1e6)), Infinity);
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  for (const v of [0, 1, -2.5, 3e38, -1e-38]) {
    assert.ok(Math.abs(fromBfloat16Bits(toBfloat16Bits(v)) - v) <= Math.abs(v) * 2 ** -8);
  }
  assert.equal(toBfloat16Bits(1 + 2 ** -8), 0x3f80); // tie → even
  assert.equal(fromBfloat16Bits(toBfloat16Bits(-Infinity)), -Infinity);
  assert.ok(Number.isNaN(fromBfloat16Bits(toBfloat16Bits(NaN))));
});

for (const prefer of ["cpu", "wasm", "native"] as const) {
  Deno.test(`HalfTensor on ${prefer}: half the bytes, widens exactly, a matmul within tolerance, no leaks`, async () => {
    await initBackend({ prefer, quiet: true });
    const [rows, cols] = [33, 17]; // odd: a padded last word
    const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.7) * 3);
    const x = tf.tensor2d(Float32Array.from({ length: 5 * rows }, (_, i) => Math.cos(i)), [
      5,
      rows,
    ]);
    const full = tf.tensor2d(values, [rows, cols]);
    const reference = tf.matMul(x, full);
    for (
      const [dtype, to, from, tol] of [
        ["float16", toHalfBits, fromHalfBits, 2e-3],
        ["bfloat16", toBfloat16Bits, fromBfloat16Bits, 1.5e-2],
      ] as const
    ) {
      const before = tf.memory();
      const half = HalfTensor.fromValues(values, [rows, cols], { dtype });
      const after = tf.memory();
      // 2 bytes per value (rounded up to a whole word) where float32 takes 4.
      assert.equal(after.numBytes - before.numBytes, Math.ceil(rows * cols / 2) * 4);
      assert.equal(half.bytes, Math.ceil(rows * cols / 2) * 4);
      const widened = tf.tidy(() => half.widen());
      assert.deepEqual(widened.shape, [rows, cols]);
      assert.deepEqual(
        Array.from(widened.dataSync()),
        Array.from(values, (v) => from(to(v))),
        dtype,
      );
      const y = tf.tidy(() => tf.matMul(x, half.widen()));
      const [maxErr] = relativeErrors(y.dataSync(), reference.dataSync());
      assert.ok(maxErr < tol, `${dtype}: ${maxErr}`);
      tf.dispose([widened, y]);
      half.dispose();
      assert.equal(tf.memory().numTensors, before.numTensors);
      assert.throws(() => half.widen(), /after dispose/);
    }
    tf.dispose([x, full, reference]);
  });
}

Deno.test("HalfTensor.fromBits keeps the patterns; bad options name the value", async () => {
  await initBackend({ prefer: "wasm", quiet: true });
  using h = HalfTensor.fromBits(new Uint16Array([0x3f80, 0xc020, 0x4040]), [3]);
  const w = h.widen();
  assert.deepEqual(Array.from(w.dataSync()), [1, -2.5, 3]);
  w.dispose();
  assert.throws(
    () => HalfTensor.fromValues([1], [1], { dtype: "half" as "float16" }),
    /'dtype' must be float16 or bfloat16: current value is "half"/,
  );
  assert.throws(() => HalfTensor.fromValues([1, 2], [3]), /'shape' \[3\] must hold the 2 values/);
});
