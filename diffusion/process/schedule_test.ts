import assert from "assert";
import {
  alphaSigma,
  createSchedule,
  DEFAULT_SCHEDULE,
  logSnr,
  scheduleAt,
  timeAtLogSnr,
} from "./schedule.ts";

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} is not within ${tol} of ${b}`);

Deno.test("schedule: endpoints hit logSnrMax at t=0 and logSnrMin at t=1 for both kinds", () => {
  for (const kind of ["cosine", "linear"] as const) {
    const s = createSchedule({ kind, logSnrMin: -15, logSnrMax: 12 });
    close(logSnr(s, 0), 12, 1e-9);
    close(logSnr(s, 1), -15, 1e-9);
  }
});

Deno.test("schedule: hand-computed values", () => {
  // Linear: λ(t) = λmax + (λmin − λmax) t = 10 − 20 · 0.25 = 5.
  close(logSnr(createSchedule({ kind: "linear", logSnrMin: -10, logSnrMax: 10 }), 0.25), 5);
  // Cosine with symmetric clipping: λ(1/2) = −2 log tan(π/4) = 0 exactly.
  close(logSnr(DEFAULT_SCHEDULE, 0.5), 0, 1e-12);
  // Away from the clipped ends the cosine schedule is α = cos(πt/2), σ = sin(πt/2):
  // at t = 1/3, λ = −2 log tan(π/6) = log 3 ≈ 1.0986123, α = cos(π/6) = √3/2. The ±20 clipping
  // shifts tan's argument by b = atan(e^−10) ≈ 4.5e-5 (and scales it by a = π/2 − 2b), which moves
  // λ by about 7e-5 here: allow 2e-4.
  const at = scheduleAt(DEFAULT_SCHEDULE, 1 / 3);
  close(at.logSnr, Math.log(3), 2e-4);
  close(at.alpha, Math.sqrt(3) / 2, 1e-4);
  close(at.sigma, 0.5, 1e-4);
  // Without clipping (λ ∈ [−60, 60]) the match is tight.
  close(logSnr(createSchedule({ logSnrMin: -60, logSnrMax: 60 }), 1 / 3), Math.log(3), 1e-9);
  // λ = 0 → α = σ = 1/√2; λ = log 3 → α² = 3/4.
  close(alphaSigma(0).alpha, Math.SQRT1_2, 1e-15);
  close(alphaSigma(Math.log(3)).alpha ** 2, 0.75, 1e-15);
});

Deno.test("schedule: α² + σ² = 1 and α²/σ² = e^λ everywhere", () => {
  for (const kind of ["cosine", "linear"] as const) {
    const s = createSchedule({ kind });
    for (let i = 0; i <= 100; i++) {
      const { logSnr: l, alpha, sigma } = scheduleAt(s, i / 100);
      close(alpha * alpha + sigma * sigma, 1, 1e-12);
      close(Math.log((alpha * alpha) / (sigma * sigma)), l, 1e-6);
    }
  }
});

Deno.test("schedule: log-SNR strictly decreases in t and timeAtLogSnr inverts it", () => {
  for (const kind of ["cosine", "linear"] as const) {
    const s = createSchedule({ kind });
    let prev = Infinity;
    for (let i = 0; i <= 1000; i++) {
      const l = logSnr(s, i / 1000);
      assert.ok(l < prev, `${kind}: λ(${i / 1000}) = ${l} is not below ${prev}`);
      prev = l;
      close(timeAtLogSnr(s, l), i / 1000, 1e-9);
    }
  }
});

Deno.test("schedule: invalid options and times fail naming the value", () => {
  assert.throws(() => createSchedule({ kind: "quadratic" as "linear" }), /'kind' must be one of/);
  assert.throws(
    () => createSchedule({ logSnrMin: 5, logSnrMax: 1 }),
    /'logSnrMax' must be greater/,
  );
  assert.throws(
    () => logSnr(DEFAULT_SCHEDULE, 1.5),
    /'t' must be a number in \[0, 1\]: current value is 1.5/,
  );
});
