import assert from "assert";
import { chooseThreads, openBlas, otherRunnable, ThreadTuner } from "./blas.ts";

Deno.test("chooseThreads: the cores other processes leave free, at least one, at most the pool", () => {
  assert.strictEqual(chooseThreads(2, 0), 2);
  assert.strictEqual(chooseThreads(2, 0.49), 2);
  assert.strictEqual(chooseThreads(2, 0.5), 1);
  assert.strictEqual(chooseThreads(2, 7), 1);
  assert.strictEqual(chooseThreads(16, 3.2), 13);
  assert.strictEqual(chooseThreads(16, 3.2, 8), 8);
  assert.strictEqual(chooseThreads(1, 0), 1);
  assert.strictEqual(chooseThreads(4, -1), 4);
});

Deno.test({
  name: "otherRunnable: sees a busy child process as one more runnable thread",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const before = otherRunnable();
    assert(before !== null && before >= 0);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "const end = Date.now() + 3000; while (Date.now() < end);"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await new Promise((r) => setTimeout(r, 600)); // past the child's start-up
      let most = 0;
      for (let i = 0; i < 10; i++) {
        most = Math.max(most, otherRunnable() ?? 0);
        await new Promise((r) => setTimeout(r, 50));
      }
      // The busy loop is runnable at every sample; our own threads are not counted.
      assert(most >= 1, `most runnable others seen: ${most}`);
    } finally {
      child.kill();
      await child.status;
    }
  },
});

Deno.test("openBlas: the adaptive wrapper computes the same product", () => {
  const blas = openBlas();
  if (blas === null) return; // no BLAS here: native kernels are tested (or skipped) elsewhere
  const m = 33, n = 17, k = 29;
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
  const c = new Float32Array(m * n);
  blas.sgemm(101, 111, 111, m, n, k, 1, a, k, b, n, 0, c, n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let want = 0;
      for (let p = 0; p < k; p++) want += a[i * k + p] * b[p * n + j];
      assert(Math.abs(c[i * n + j] - want) < 1e-4, `c[${i},${j}]`);
    }
  }
});

Deno.test("ThreadTuner: drops to the free cores under sustained load, comes back when it ends, ignores a blip", () => {
  let others: number | null = 0;
  const set: number[] = [];
  const tuner = new ThreadTuner(2, 2, 0, (n) => set.push(n), () => others);
  assert.deepStrictEqual(set, [2]); // quiet start: the whole pool
  others = 2;
  tuner.check(); // one sample of load: smoothed 0.6, already past half a core
  assert.strictEqual(tuner.threads, 1);
  for (let i = 0; i < 10; i++) tuner.check();
  others = 0;
  tuner.check(); // smoothed ~1.4: still busy
  assert.strictEqual(tuner.threads, 1);
  for (let i = 0; i < 10; i++) tuner.check();
  assert.strictEqual(tuner.threads, 2);
  assert.deepStrictEqual(set, [2, 1, 2]); // set only on changes
  others = null; // /proc unreadable: keep the last choice, stop re-checking
  tuner.check();
  assert.strictEqual(tuner.nextCheck, Infinity);
  assert.strictEqual(tuner.threads, 2);
});

Deno.test("ThreadTuner: a busy start begins at one thread and never exceeds the pool", () => {
  const set: number[] = [];
  const tuner = new ThreadTuner(16, 8, 3, (n) => set.push(n), () => 0);
  assert.deepStrictEqual(set, [8]); // 13 cores free, but the pool holds 8
  assert.strictEqual(tuner.threads, 8);
  const busy = new ThreadTuner(2, 2, 2.5, () => {}, () => 2);
  assert.strictEqual(busy.threads, 1);
});

Deno.test("ThreadTuner: a hold keeps the count through load changes; holds nest; a release resumes adapting", () => {
  let others = 0;
  const set: number[] = [];
  const tuner = new ThreadTuner(2, 2, 0, (n) => set.push(n), () => others);
  const seen: number[] = [];
  tuner.followers.push((n) => seen.push(n));
  const a = tuner.hold(); // the count at the start
  assert.strictEqual(a.threads, 2);
  others = 3;
  for (let i = 0; i < 10; i++) tuner.check();
  assert.strictEqual(tuner.threads, 2); // held: the load does not move it
  assert.strictEqual(tuner.nextCheck, Infinity);
  const b = tuner.hold(1); // a resumed run's recorded count
  assert.strictEqual(tuner.threads, 1);
  const c = tuner.hold(3); // kept even past the pool: the run repeats
  assert.strictEqual(tuner.threads, 3);
  tuner.release(c);
  tuner.release(c); // ended already: nothing
  assert.strictEqual(tuner.threads, 1);
  tuner.release(b);
  assert.strictEqual(tuner.threads, 2);
  tuner.release(a); // the last hold: adapting again
  assert.strictEqual(tuner.adaptive, true);
  for (let i = 0; i < 10; i++) tuner.check();
  assert.strictEqual(tuner.threads, 1);
  assert.deepStrictEqual(set, [2, 1, 3, 1, 2, 1]);
  assert.deepStrictEqual(seen, [1, 3, 1, 2, 1]); // OpenMP follows every change
  assert.throws(() => tuner.hold(0), /'threads' must be a positive integer: current value is 0/);
});

Deno.test("ThreadTuner: a fixed count (DREAMBOOTH_BLAS_THREADS) never adapts, but a hold may set another", () => {
  const set: number[] = [];
  const tuner = new ThreadTuner(2, 2, 0, (n) => set.push(n), () => 5, 2);
  assert.strictEqual(tuner.adaptive, false);
  for (let i = 0; i < 5; i++) tuner.check();
  assert.strictEqual(tuner.threads, 2);
  tuner.release(tuner.hold(1));
  assert.deepStrictEqual(set, [2, 1, 2]);
});

Deno.test("ThreadTuner: holds of two jobs in one process may end in any order; the newest live one rules", () => {
  const set: number[] = [];
  const tuner = new ThreadTuner(4, 4, 0, (n) => set.push(n), () => 0);
  const first = tuner.hold(2); // job A (recorded 2)
  const second = tuner.hold(3); // job B (recorded 3) starts while A runs
  assert.strictEqual(tuner.threads, 3);
  tuner.release(first); // A ends first: B's count stays
  assert.strictEqual(tuner.threads, 3);
  assert.strictEqual(tuner.adaptive, false);
  tuner.release(second); // the count before the first hold returns
  assert.strictEqual(tuner.threads, 4);
  assert.strictEqual(tuner.adaptive, true);
  assert.deepStrictEqual(set, [4, 2, 3, 4]);
});
