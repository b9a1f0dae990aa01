// Private test helpers: BLAS availability policy and error metrics.
import { openBlas } from "./blas.ts";

/** Whether tests that need BLAS run; `CI=true` turns a missing library into a failure. */
export function blasForTests(): { run: boolean; reason: string } {
  const blas = openBlas();
  if (blas !== null) return { run: true, reason: "" };
  let ci = false;
  try {
    ci = Deno.env.get("CI") === "true";
  } catch {
    // no env permission: not CI
  }
  if (ci) {
    throw new Error(
      "CI=true but no BLAS library opens (install libopenblas0-pthread): native kernels untested",
    );
  }
  return {
    run: false,
    reason: "skipped: libopenblas.so.0 not found (apt-get install libopenblas0-pthread)",
  };
}

/** max|a − b| / max|b| and ‖a − b‖ / ‖b‖. */
export function relativeErrors(a: ArrayLike<number>, b: ArrayLike<number>): [number, number] {
  if (a.length !== b.length) return [Infinity, Infinity];
  let maxDiff = 0, maxRef = 0, num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates
    maxRef = Math.max(maxRef, Math.abs(b[i]));
    num += d * d;
    den += b[i] * b[i];
  }
  return [maxDiff / Math.max(maxRef, 1e-30), Math.sqrt(num / Math.max(den, 1e-30))];
}
