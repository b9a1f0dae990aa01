/**
 * Whether this runtime has a WebGPU adapter, asked once in one place: {@link initBackend}'s
 * fallback chain and the webgpu tests (backend/'s kernels, tests/' DreamBooth run) use it.
 *
 * @module
 */

/**
 * Why no WebGPU adapter is available, or `undefined` when there is one.
 *
 * @returns The reason (no `navigator.gpu`, `requestAdapter` failed or gave none), or undefined.
 *
 * @example
 * ```ts
 * import { webgpuAdapterMissing } from "./webgpu_adapter.ts";
 * const why = await webgpuAdapterMissing();
 * console.log(why === undefined || why.length > 0); // true
 * ```
 */
export async function webgpuAdapterMissing(): Promise<string | undefined> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu === undefined) return "no navigator.gpu in this runtime";
  try {
    if ((await gpu.requestAdapter()) === null) return "no GPU adapter";
  } catch (err) {
    return `requestAdapter failed: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * For tests of webgpu code paths: run them where an adapter exists, skip them with the reason
 * elsewhere, and fail under `CI=true` (CI installs Mesa's lavapipe, so the adapter must be there).
 *
 * @returns `run`, and the `reason` to put in a skipped test's name.
 * @throws {Error} Under `CI=true` without an adapter, naming the fix.
 *
 * @example
 * ```ts
 * import { webgpuTestGate } from "./webgpu_adapter.ts";
 * const gate = Deno.env.get("CI") === "true" ? { run: true, reason: "" } : await webgpuTestGate();
 * console.log(gate.run || gate.reason.startsWith("skipped")); // true
 * ```
 */
export async function webgpuTestGate(): Promise<{ run: boolean; reason: string }> {
  const why = await webgpuAdapterMissing();
  if (why === undefined) return { run: true, reason: "" };
  if (Deno.env.get("CI") === "true") {
    throw new Error(`CI=true but ${why} (install mesa-vulkan-drivers; set XDG_RUNTIME_DIR)`);
  }
  return { run: false, reason: `skipped: ${why} (apt-get install mesa-vulkan-drivers)` };
}
