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
import { join, resolve } from "node:path";
import { applySamplingLoRA, type LoRAFile, readLoRAFile } from "./io/lora_file.ts";
import { initBackend } from "./deps.ts";
import { declareParams, runCli, usageText } from "../params/mod.ts";
import { backendOption, backendParam, UsageError } from "./cli_options.ts";
import { promptFit } from "./pipeline/prompt_fit.ts";
import { IF_SAMPLE_ONLY, sampleParams } from "./pipeline/sample_params.ts";
import type { Cascade } from "./pipeline/cascade.ts";
import { loadCheckpoint } from "./io/checkpoint.ts";
import { createPreset, type PresetName } from "./pipeline/presets.ts";
import { writePng } from "./io/png.ts";
import { SamplingProgress } from "./pipeline/sampling_progress.ts";
import { fillSubjectPrompt, type ModelSubject, subjectFromMetadata } from "./io/model_subject.ts";

/** The shipped default model: a path in a checkout (its URL when this file is imported by URL). */
const DEFAULT_MODEL_URL = new URL("../models/default/cascade.safetensors", import.meta.url);
const DEFAULT_MODEL = DEFAULT_MODEL_URL.protocol === "file:"
  ? fileURLToPath(DEFAULT_MODEL_URL)
  : DEFAULT_MODEL_URL.href;

const params = declareParams("sample", {
  ...sampleParams.specs,
  out: { type: "string", minLength: 1, metavar: "FILE", default: "sample.png", help: "output PNG" },
  backend: backendParam,
});

const cliOptions = {
  params,
  usage: "deno task sample [options]   (diffusion/cli.ts sample [options])",
  summary: "Samples an image from a text prompt through every stage of a cascade and writes a PNG.",
};

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
    console.log(usageText(params, cliOptions));
    return command === undefined ? 2 : 0;
  }
  // An unknown command is reported before its options are read (so nothing is parsed for it).
  return await runCli(command === "sample" ? rest : [], cliOptions, async (values) => {
    if (command !== "sample") throw new UsageError(`Unknown command ${JSON.stringify(command)}`);
    if (values.prompt === undefined) {
      throw new UsageError("Cannot sample as '--prompt' is required");
    }
    for (const k of IF_SAMPLE_ONLY) {
      if (values[k] !== undefined) {
        throw new UsageError(
          `Cannot sample as '${
            params.name(k, "option")
          }' applies to DeepFloyd IF models (--model <IF folder>|hf:ORG/NAME), not ${
            JSON.stringify(values.model ?? values.preset ?? "the default model")
          }: current value is ${JSON.stringify(values[k])}`,
        );
      }
    }
    if (values.model !== undefined && values.preset !== undefined) {
      throw new UsageError("Cannot sample as '--model' and '--preset' exclude each other");
    }
    // LoRA adapters: read (and checked) before any work; they name their base model.
    const lora = await loraToApply(values);
    if (values.model === undefined && values.preset === undefined) {
      values.model = DEFAULT_MODEL;
      if ((await Deno.stat(DEFAULT_MODEL).catch(() => null)) === null) {
        throw new UsageError(
          `Cannot sample as the default model '${DEFAULT_MODEL}' is missing: give '--model' or '--preset'`,
        );
      }
    }
    const { seed, steps, guidance, out } = values;
    const stagesToRun = values.stages;
    const prefer = backendOption(values.backend);
    const path = await modelCheckpointPath(values.model);
    await initBackend({ prefer });
    let cascade: Cascade;
    let subject: ModelSubject | null = null;
    if (path !== undefined) {
      const loaded = await loadCheckpoint(path);
      if (loaded.kind !== "cascade") {
        loaded.model.dispose();
        throw new UsageError(
          `Cannot sample as '${values.model}' holds a ${loaded.kind}, not a cascade`,
        );
      }
      cascade = loaded.model;
      subject = subjectFromMetadata(loaded.metadata);
    } else {
      cascade = await createPreset(values.preset as PresetName, { seed: 0 });
      console.error(`note: preset '${values.preset}' has fresh, untrained weights`);
    }
    if (lora) subject = applyLoRA(cascade, lora, values) ?? subject;
    // The one identifier rule: a personalised model's identifier and class noun fill
    // {identifier} (or [V]) and {class} in the prompt.
    let prompt = values.prompt;
    const placeholder = /\{identifier(:[^}]*)?\}|\[V\]|\{class(:[^}]*)?\}/;
    if (subject !== null) {
      prompt = fillSubjectPrompt(prompt, subject);
      const concepts = subject.concepts
        ? ` (concepts: ${
          subject.concepts.map((c) => `{identifier:${c.name}} = ${JSON.stringify(c.identifier)}`)
            .join(", ")
        })`
        : "";
      console.error(
        `personalised model: identifier ${JSON.stringify(subject.identifier)}, class ${
          JSON.stringify(subject.classNoun)
        }${concepts}${prompt !== values.prompt ? ` → prompt ${JSON.stringify(prompt)}` : ""}`,
      );
    } else if (placeholder.test(prompt)) {
      cascade.dispose();
      throw new UsageError(
        `Cannot sample as '--prompt' uses {identifier}, [V] or {class} but the model carries no identifier (not a personalised model of deno task train)`,
      );
    }
    try {
      const fit = promptFit(prompt, {
        tokenizer: cascade.tokenizer,
        length: cascade.textEncoder.config.maxLength,
      });
      if (fit.warning) console.error(`warning: ${fit.warning}`);
      const count = stagesToRun ?? cascade.stages.length;
      const totalSteps = cascade.stages.slice(0, count).reduce(
        (a, s) => a + (steps ?? s.sampler.steps),
        0,
      );
      let done = 0;
      let width = 0; // the longest line so far: a shorter one is padded over it
      const progress = new SamplingProgress();
      const { images } = await cascade.sample({
        prompt,
        seed,
        steps,
        guidance,
        sampler: values.sampler,
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

/**
 * Attaches the adapters at `scale` (the cascade is freed on failure), sets the SR stages' sampling
 * levels the run recorded, and returns the subject the adapters carry.
 */
function applyLoRA(
  cascade: Cascade,
  lora: { path: string; file: LoRAFile },
  values: { loraScale?: number; model?: string; preset?: string },
): ModelSubject | null {
  const scale = values.loraScale ?? 1;
  const subject = applySamplingLoRA(cascade, lora.file, { scale });
  const parts = Object.keys(lora.file.parts).join(", ");
  const on = values.model ?? `preset:${values.preset}`;
  console.error(`LoRA adapters ${lora.path} (${parts}) at scale ${scale} on ${on}`);
  return subject;
}

/**
 * The LoRA file to apply (`--lora`, or `--model`'s lora.safetensors when only `--lora-scale` is
 * given), read before any work; sets `values.model`/`values.preset` to the adapters' recorded base
 * model when `--model` was not given or is the adapters' own run folder.
 */
async function loraToApply(
  values: { model?: string; preset?: "tiny" | "small"; lora?: string; loraScale?: number },
): Promise<{ path: string; file: LoRAFile } | null> {
  const found = await findLoRA(values);
  if (found?.base !== undefined) {
    const preset = found.base.startsWith("preset:");
    values.model = preset ? undefined : found.base;
    values.preset = preset ? found.base.slice(7) as "tiny" | "small" : undefined;
  }
  return found;
}

/** {@link loraToApply}'s search: the file, and the base model to use when it replaces --model. */
async function findLoRA(
  values: { model?: string; preset?: string; lora?: string; loraScale?: number },
): Promise<{ path: string; file: LoRAFile; base?: string } | null> {
  let spec = values.lora;
  let fromModel = false;
  if (spec === undefined) {
    if (values.loraScale === undefined) return null;
    const inModel = values.model === undefined ? null : join(values.model, "lora.safetensors");
    if (inModel === null || (await Deno.stat(inModel).catch(() => null)) === null) {
      throw new UsageError(
        `Cannot sample as '--lora-scale' (${values.loraScale}) needs LoRA adapters: give '--lora FILE' or a '--model' folder of a --method lora run (holding lora.safetensors)`,
      );
    }
    spec = values.model!;
    fromModel = true;
  }
  const info = await Deno.stat(spec).catch(() => null);
  if (info === null) {
    throw new RangeError(`Cannot sample as '--lora' ${JSON.stringify(spec)} does not exist`);
  }
  const path = info.isDirectory ? join(spec, "lora.safetensors") : spec;
  const file = await readLoRAFile(path);
  const own = fromModel || (values.model !== undefined && info.isDirectory &&
    resolve(values.model) === resolve(spec));
  const base = file.metadata.baseModel;
  if ((values.model === undefined && values.preset === undefined) || own) {
    if (base === undefined) {
      throw new UsageError(
        `Cannot sample as the LoRA file '${path}' does not name its base model: give '--model'`,
      );
    }
    return { path, file, base };
  }
  return { path, file };
}

/**
 * The checkpoint file of `--model`, found before any work: a model folder (models/default holds
 * cascade.safetensors, a personalised model of deno task train model.safetensors) or a file;
 * undefined without `--model`.
 */
async function modelCheckpointPath(model: string | undefined): Promise<string | undefined> {
  let path = model;
  if (path === undefined) return undefined;
  const info = await Deno.stat(path).catch(() => null);
  if (info === null) {
    throw new RangeError(`Cannot sample as '--model' ${JSON.stringify(path)} does not exist`);
  }
  if (info.isDirectory) {
    const found = [`${path}/cascade.safetensors`, `${path}/model.safetensors`];
    const exists = await Promise.all(
      found.map((f) => Deno.stat(f).then(() => true, () => false)),
    );
    if (!exists.includes(true)) {
      throw new RangeError(
        `Cannot sample as '--model' ${
          JSON.stringify(path)
        } is a folder without cascade.safetensors or model.safetensors (give a model folder, a .safetensors checkpoint, or a DeepFloyd IF folder with model_index.json)`,
      );
    }
    path = found[exists.indexOf(true)];
  }
  return path;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
