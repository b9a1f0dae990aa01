/**
 * OpenBLAS thread choice under contention (backend/blas.ts): times `deno task sample` (the default
 * cascade, all stages, 512²) with OpenBLAS fixed at 2 threads, fixed at 1, and adaptive (the
 * default: re-checks twice a second how many threads other processes keep runnable), while 0, 1 or
 * 2 stand-in training processes (one-thread BLAS GEMM loops, like a two-run base round) start
 * together with the sampler. "fixed 2" is what the former rule (1-minute load average only) chose
 * for a sampler started beside a job that had just begun. Prints seconds and each mode's ratio to
 * fixed 2 in the same scenario.
 *
 * ```sh
 * deno run -A bench/blas_threads_bench.ts [--busy 0,1,2] [--reps 1]
 * deno task bench blas_threads
 * ```
 *
 * @module
 */
import { declareParams, parseCliOrExit } from "../params/mod.ts";

const values = parseCliOrExit(Deno.args, {
  params: declareParams("bench", {
    busy: {
      type: "string",
      pattern: /^\d+(,\d+)*$/,
      default: "0,1,2",
      metavar: "LIST",
      help: "busy-loop processes beside the sampler, comma-separated",
    },
    reps: { type: "integer", min: 1, max: 1000, default: 1, help: "repetitions per setting" },
  }),
  usage: "deno run -A bench/blas_threads_bench.ts [options]",
});
const root = new URL("../", import.meta.url).pathname;
const out = await Deno.makeTempDir({ prefix: "blas-threads-bench-" });
const LOOP = `
import { openBlas } from "${root}backend/blas.ts";
const b = openBlas(); if (b === null) Deno.exit(3);
const n = 256, a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
for (;;) b.sgemm(101, 111, 111, n, n, n, 1, a, n, a, n, 0, c, n);
`;

async function sampleSeconds(threads: string | undefined): Promise<number> {
  const env: Record<string, string> = { ...Deno.env.toObject() };
  delete env.DREAMBOOTH_BLAS_THREADS;
  if (threads !== undefined) env.DREAMBOOTH_BLAS_THREADS = threads;
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${root}diffusion/cli.ts`,
      "sample",
      "--prompt",
      "a teapot on the beach",
      "--out",
      `${out}/s.png`,
    ],
    env,
    clearEnv: true,
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  return (performance.now() - t0) / 1000;
}

const modes: [string, string | undefined][] = [["fixed 2", "2"], ["fixed 1", "1"], [
  "adaptive",
  undefined,
]];
const reps = values.reps;
const busyCounts = values.busy.split(",").map(Number);
console.log(`load average at start ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
try {
  for (const busy of busyCounts) {
    const secs = new Map<string, number>();
    for (const [name, threads] of modes) {
      const runs: number[] = [];
      for (let r = 0; r < reps; r++) {
        const loops = Array.from({ length: busy }, () =>
          new Deno.Command(Deno.execPath(), {
            args: ["eval", LOOP],
            cwd: root,
            env: { DREAMBOOTH_BLAS_THREADS: "1" },
            stdout: "null",
            stderr: "null",
          }).spawn());
        try {
          runs.push(await sampleSeconds(threads));
        } finally {
          for (const l of loops) {
            l.kill();
            await l.status;
          }
        }
      }
      runs.sort((x, y) => x - y);
      secs.set(name, runs[runs.length >> 1]);
    }
    const base = secs.get("fixed 2")!;
    console.log(
      `${busy} busy process${busy === 1 ? "" : "es"}: ` +
        [...secs].map(([n, s]) => `${n} ${s.toFixed(1)} s (${(s / base).toFixed(2)}×)`).join(", "),
    );
  }
} finally {
  await Deno.remove(out, { recursive: true });
}
