import assert from "assert";
import { initBackend } from "./deps.ts";
import { loadSrCascade } from "./load_sr_cascade.ts";

await initBackend({ quiet: true });

Deno.test("loadSrCascade: no default model and no SR pretraining run → tiny preset with a loud notice", async () => {
  const root = await Deno.makeTempDir();
  try {
    const notes: string[] = [];
    const { cascade, source } = await loadSrCascade(undefined, {
      root,
      warn: (l) => notes.push(l),
    });
    assert.equal(source, "preset:tiny");
    assert.equal(notes.length, 1);
    assert.match(notes[0], /^NOTICE: .*UNTRAINED tiny preset/);
    cascade.dispose();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadSrCascade: errors name the value", async () => {
  await assert.rejects(() => loadSrCascade("preset:huge"), /'preset' must be one of .*"huge"/);
});
