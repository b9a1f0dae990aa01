/**
 * Replaces the frozen text encoder copy in an SR pretraining run's checkpoint with the base run's
 * current one, so that an SR run started while the base stage was still training (to use both
 * cores) finishes on the text encoder the exported cascade will ship. Run it while the SR run is
 * stopped, then resume the SR run as usual (`deno task pretrain --stage sr1 --resume`): its
 * remaining steps train against the refreshed encoder, and `training/export_cli.ts` no longer
 * notes a difference. Everything else in the checkpoint (UNet weights, Adam moments, step, data
 * position) is kept; the file is rewritten atomically.
 *
 * ```sh
 * deno run -A tools/refresh_text_encoder.ts --run runs/pretrain/sr1 --base runs/pretrain/base
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { readRunCheckpoint, writeRunCheckpoint } from "../trainer/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    run: { type: "string" },
    base: { type: "string", default: join("runs", "pretrain", "base") },
  },
});
if (values.run === undefined) {
  console.error("usage: deno run -A tools/refresh_text_encoder.ts --run SR_RUN_DIR [--base DIR]");
  Deno.exit(2);
}
const lock = join(values.run, "run.lock");
const pid = await Deno.readTextFile(lock).then((s) => Number(s.trim())).catch(() => null);
if (pid !== null && (await Deno.stat(`/proc/${pid}`).catch(() => null)) !== null) {
  console.error(`Cannot refresh as process ${pid} is training in '${values.run}' (run.lock)`);
  Deno.exit(1);
}
const srPath = join(values.run, "checkpoint.safetensors");
const sr = await readRunCheckpoint(srPath);
const base = await readRunCheckpoint(join(values.base!, "checkpoint.safetensors"));
if (base.metadata.stage !== "base") {
  throw new RangeError(`Cannot refresh as '${values.base}' is not a base-stage run`);
}
if (sr.metadata.stage === "base") {
  throw new RangeError(`Cannot refresh as '${values.run}' is the base run itself`);
}
const stepOf = (state: unknown) => (state as { run?: { step?: number } }).run?.step ?? "?";
let n = 0, maxDiff = 0;
for (const [name, t] of base.tensors) {
  if (!name.startsWith("text_encoder.")) continue;
  const old = sr.tensors.get(name);
  if (old === undefined || old.shape.join() !== t.shape.join()) {
    throw new RangeError(
      `Cannot refresh as '${name}' is missing or shaped differently in '${srPath}'`,
    );
  }
  for (let i = 0; i < t.data.length; i++) {
    maxDiff = Math.max(
      maxDiff,
      Math.abs((t.data as Float32Array)[i] - (old.data as Float32Array)[i]),
    );
  }
  sr.tensors.set(name, t);
  n++;
}
await writeRunCheckpoint(srPath, { tensors: sr.tensors, state: sr.state, metadata: sr.metadata });
console.log(
  `refreshed ${n} text-encoder tensors of '${srPath}' from base step ${
    stepOf(base.state)
  } (max |Δ| ${maxDiff.toExponential(2)}); SR step ${stepOf(sr.state)} kept`,
);
