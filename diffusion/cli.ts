/**
 * Command line of diffusion/ (`deno task sample …`):
 *
 * ```sh
 * deno run -A diffusion/cli.ts sample [--model FILE | --preset NAME] --prompt TEXT [--seed N]
 *   [--steps N] [--guidance W] [--sampler ddim|ancestral] [--stages N] [--out FILE] [--backend NAME]
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { initBackend } from "./deps.ts";
import { backendOption, runCli, UsageError } from "./cli_options.ts";
import type { Cascade } from "./cascade.ts";
import { loadCheckpoint } from "./checkpoint.ts";
import { createPreset, PRESET_NAMES, type PresetName } from "./presets.ts";
import { writePng } from "./png.ts";
import { SamplingProgress } from "./sampling_progress.ts";
import type { SamplerKind } from "./sampler.ts";

/** The shipped default model: a path in a checkout (its URL when this file is imported by URL). */
const DEFAULT_MODEL_URL = new URL("../models/default/cascade.safetensors", import.meta.url);
const DEFAULT_MODEL = DEFAULT_MODEL_URL.protocol === "file:"
  ? fileURLToPath(DEFAULT_MODEL_URL)
  : DEFAULT_MODEL_URL.href;

const USAGE = `Usage: diffusion/cli.ts sample [options]

Samples an image from a text prompt through every stage of a cascade and writes a PNG.

Options:
  --model FILE|DIR   cascade checkpoint (.safetensors written by saveCheckpoint), or a folder
                     holding cascade.safetensors (models/default) or model.safetensors (a
                     personalised model of deno task train) (default: the shipped default model,
                     models/default/cascade.safetensors)
  --preset NAME      fresh (untrained) preset instead of a checkpoint: ${
  PRESET_NAMES.filter((n) => n !== "paper").join(", ")
}
  --prompt TEXT      the prompt (required)
  --seed N           integer seed (default 0)
  --steps N          sampler steps for every stage (default: each stage's own)
  --guidance W       classifier-free guidance weight, 1 = none (default: each stage's own)
  --sampler KIND     ddim or ancestral (default: each stage's own)
  --stages N         run only the first N stages (default: all)
  --out FILE         output PNG (default sample.png)
  --backend NAME     auto, tensorflow, wasm-native, wasm, cpu, webgpu (default auto)
  --help             show this help`;

function int(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(
      `Cannot sample as '--${name}' must be an integer ≥ ${min}: current value is ${
        JSON.stringify(value)
      }`,
    );
  }
  return n;
}

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @returns The exit code.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * console.log(await main(["sample", "--help"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  // An unknown command is reported before its options are read (so nothing is parsed for it).
  return await runCli(command === "sample" ? rest : [], {
    usage: USAGE,
    options: {
      model: { type: "string" },
      preset: { type: "string" },
      prompt: { type: "string" },
      seed: { type: "string" },
      steps: { type: "string" },
      guidance: { type: "string" },
      sampler: { type: "string" },
      stages: { type: "string" },
      out: { type: "string" },
      backend: { type: "string" },
    },
    stackOnError: false,
  }, async (values) => {
    if (command !== "sample") throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
    if (values.prompt === undefined) {
      throw new UsageError("Cannot sample as '--prompt' is required");
    }
    if (values.model !== undefined && values.preset !== undefined) {
      throw new UsageError("Cannot sample as '--model' and '--preset' exclude each other");
    }
    if (values.model === undefined && values.preset === undefined) {
      values.model = DEFAULT_MODEL;
      if ((await Deno.stat(DEFAULT_MODEL).catch(() => null)) === null) {
        throw new UsageError(
          `Cannot sample as the default model '${DEFAULT_MODEL}' is missing: give '--model' or '--preset'`,
        );
      }
    }
    if (values.preset !== undefined && !["tiny", "small"].includes(values.preset)) {
      throw new UsageError(
        `Cannot sample as '--preset' must be one of tiny, small: current value is ${
          JSON.stringify(values.preset)
        }`,
      );
    }
    if (values.sampler !== undefined && !["ddim", "ancestral"].includes(values.sampler)) {
      throw new UsageError(
        `Cannot sample as '--sampler' must be one of ddim, ancestral: current value is ${
          JSON.stringify(values.sampler)
        }`,
      );
    }
    const seed = int("seed", values.seed, -(2 ** 31)) ?? 0;
    const steps = int("steps", values.steps, 1);
    const stagesToRun = int("stages", values.stages, 1);
    const guidance = values.guidance === undefined ? undefined : Number(values.guidance);
    if (guidance !== undefined && !(Number.isFinite(guidance) && guidance >= 0)) {
      throw new UsageError(
        `Cannot sample as '--guidance' must be a number ≥ 0: current value is ${
          JSON.stringify(values.guidance)
        }`,
      );
    }
    const prefer = backendOption(values.backend);
    const out = values.out ?? "sample.png";
    await initBackend({ prefer });
    let cascade: Cascade;
    if (values.model !== undefined) {
      // A model folder: models/default holds cascade.safetensors, a personalised model of deno
      // task train model.safetensors.
      let path = values.model;
      if ((await Deno.stat(path).catch(() => null))?.isDirectory) {
        const cascadeFile = `${path}/cascade.safetensors`;
        path = (await Deno.stat(cascadeFile).catch(() => null)) !== null
          ? cascadeFile
          : `${path}/model.safetensors`;
      }
      const loaded = await loadCheckpoint(path);
      if (loaded.kind !== "cascade") {
        loaded.model.dispose();
        throw new UsageError(
          `Cannot sample as '${values.model}' holds a ${loaded.kind}, not a cascade`,
        );
      }
      cascade = loaded.model;
    } else {
      cascade = await createPreset(values.preset as PresetName, { seed: 0 });
      console.error(`note: preset '${values.preset}' has fresh, untrained weights`);
    }
    try {
      const count = stagesToRun ?? cascade.stages.length;
      const totalSteps = cascade.stages.slice(0, count).reduce(
        (a, s) => a + (steps ?? s.sampler.steps),
        0,
      );
      let done = 0;
      let width = 0; // the longest line so far: a shorter one is padded over it
      const progress = new SamplingProgress();
      const { images } = await cascade.sample({
        prompt: values.prompt,
        seed,
        steps,
        guidance,
        sampler: values.sampler as SamplerKind | undefined,
        stages: stagesToRun,
        onProgress: ({ stage, stages, step, steps: n }) => {
          done++;
          const size = cascade.stages[stage].imageSize;
          const line = progress.update({ stage, stages, step, steps: n, size });
          width = Math.max(width, line.length);
          Deno.stderr.writeSync(
            new TextEncoder().encode(`\r${line.padEnd(width)}${done === totalSteps ? "\n" : ""}`),
          );
        },
      });
      await writePng(out, images[0]);
      console.log(`wrote ${out} (${images[0].width}×${images[0].height}, seed ${seed})`);
    } finally {
      cascade.dispose();
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
