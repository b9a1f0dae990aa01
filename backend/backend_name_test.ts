import assert from "assert";
import { backendNames, isBackendName, parseBackendName } from "./backend_name.ts";

Deno.test("parseBackendName accepts every backend name and auto", () => {
  for (const name of backendNames) assert.equal(parseBackendName(name), name);
  assert.equal(parseBackendName(undefined), undefined);
  assert.equal(parseBackendName("auto"), undefined);
  assert.ok(isBackendName("wasm-native"));
  assert.ok(!isBackendName("gpu"));
});

Deno.test("parseBackendName rejects an unknown name with a message naming it", () => {
  assert.throws(
    () => parseBackendName("gpu"),
    /Cannot choose a backend as '--backend' must be one of auto, tensorflow, native, wasm-native, wasm, cpu, webgpu: current value is "gpu"/,
  );
});
