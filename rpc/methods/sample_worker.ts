/**
 * The worker side of the `sample` job (loaded only inside a Worker, so the server process never
 * loads tfjs): initialises the backend, loads the cascade (a checkpoint under the data root, or a
 * fresh preset), samples with progress per step, writes `sample.png` into the job's folder.
 *
 * Exported (`@dreambooth/rpc/sample-worker`) so a test or another host can run the job in-process.
 *
 * @module
 */
import { initBackend, parseBackendName } from "../../backend/mod.ts";
import { isAbsolute, join, relative } from "node:path";
import {
  applySamplingLoRA,
  type Cascade,
  createPreset,
  fillSubjectPrompt,
  loadCheckpoint,
  type LoRAFile,
  type ModelSubject,
  promptFit,
  readLoRAFile,
  subjectFromMetadata,
  writePng,
} from "../../diffusion/mod.ts";
import { DataRoot } from "../data_root.ts";
import { ifModelKind, loadIFCascade, sampleIFCascade } from "../../deepfloyd/mod.ts";
import { tensorToImages } from "../../diffusion/mod.ts";
import type { WorkerJobContext } from "../worker_job_kind.ts";
import type { SampleParams } from "./sample.ts";

/**
 * Runs one sampling job.
 *
 * @param params The validated params.
 * @param ctx The job context (`data.backend`: the server's `--backend`).
 * @returns The image's path (relative to the data root), size, seed and backend.
 */
export async function run(
  params: SampleParams,
  ctx: WorkerJobContext,
): Promise<
  {
    file: string;
    width: number;
    height: number;
    seed: number;
    backend: string;
    prompt?: string;
    warnings?: string[];
  }
> {
  const backend = await initBackend({
    prefer: parseBackendName((ctx.data as { backend?: string } | null)?.backend),
    quiet: true,
  });
  ctx.signal.throwIfAborted();
  if (params.model !== undefined) {
    const root = await DataRoot.open(ctx.dataRoot);
    const source = (v: string) => v.startsWith("hf:") ? v : root.resolve(v, { field: "model" });
    const model = await source(params.model);
    if (await ifModelKind(model)) {
      const srModel = params.srModel === undefined ? undefined : await source(params.srModel);
      return { ...await sampleIFJob(model, srModel, params, ctx), backend: backend.name };
    }
  }
  const { cascade, subject } = await loadSampleCascade(params, ctx);
  try {
    // The one identifier rule (as deno task sample): a personalised model fills {identifier} (or
    // [V]) and {class}; a model without them refuses the placeholders.
    const prompt = subject ? fillSubjectPrompt(params.prompt, subject) : params.prompt;
    if (!subject && /\{identifier\}|\[V\]|\{class\}/.test(prompt)) {
      throw new RangeError(
        `Cannot sample as 'prompt' uses {identifier}, [V] or {class} but the model carries no identifier`,
      );
    }
    // The prompt rule of deno task sample too: blank refused, a long prompt warned about.
    const { warning } = promptFit(prompt, {
      tokenizer: cascade.tokenizer,
      length: cascade.textEncoder.config.maxLength,
    });
    if (warning) ctx.progress({ step: 0, message: `warning: ${warning}` });
    const count = Math.min(params.stages ?? cascade.stages.length, cascade.stages.length);
    const total = cascade.stages.slice(0, count)
      .reduce((sum, s) => sum + (params.steps ?? s.sampler.steps), 0);
    let done = 0;
    const seed = params.seed ?? 0;
    const { images } = await cascade.sample({
      prompt,
      seed,
      steps: params.steps,
      guidance: params.guidance,
      sampler: params.sampler,
      stages: count,
      onProgress: ({ stage, stages, step, steps }) => {
        done++;
        ctx.progress({
          step: done,
          total,
          message: `stage ${stage + 1}/${stages} step ${step}/${steps}`,
        });
      },
    });
    const file = `${ctx.dir}/sample.png`;
    await writePng(file, images[0]);
    return {
      file: `${ctx.relDir}/sample.png`,
      width: images[0].width,
      height: images[0].height,
      seed,
      backend: backend.name,
      ...(prompt !== params.prompt ? { prompt } : {}),
      ...(warning ? { warnings: [warning] } : {}),
    };
  } finally {
    cascade.dispose();
  }
}

/**
 * The cascade of a sample job: `model` (a checkpoint under the data root) or a fresh preset, with
 * `lora`'s adapters attached at `loraScale` (their recorded base model when neither `model` nor
 * `preset` is given: a preset, or a checkpoint under the data root); and the subject it carries.
 */
async function loadSampleCascade(
  params: SampleParams,
  ctx: WorkerJobContext,
): Promise<{ cascade: Cascade; subject: ModelSubject | null }> {
  const root = await DataRoot.open(ctx.dataRoot);
  let lora: LoRAFile | null = null;
  if (params.lora !== undefined) {
    let path = await root.resolve(params.lora, { field: "lora" });
    if ((await Deno.stat(path)).isDirectory) path = join(path, "lora.safetensors");
    lora = await readLoRAFile(path);
  }
  let { model, preset } = params;
  if (lora && model === undefined && preset === undefined) {
    const base = lora.metadata.baseModel;
    if (base === undefined) {
      throw new RangeError(
        `Cannot sample as the 'lora' file does not name its base model: give 'model'`,
      );
    }
    if (base.startsWith("preset:")) preset = base.slice(7) as "tiny" | "small";
    else model = await recordedBase(base, root);
  }
  let cascade: Cascade;
  let subject: ModelSubject | null = null;
  if (model !== undefined) {
    let path = await root.resolve(model, { field: "model" });
    if ((await Deno.stat(path)).isDirectory) {
      const inside = ["cascade.safetensors", "model.safetensors"].map((f) => join(path, f));
      path = (await Promise.all(inside.map((f) => Deno.stat(f).then(() => f, () => null))))
        .find((f) => f !== null) ?? inside[0];
    }
    const loaded = await loadCheckpoint(path);
    if (loaded.kind !== "cascade") {
      loaded.model.dispose();
      throw new RangeError(`Cannot sample as 'model' holds a ${loaded.kind}, not a cascade`);
    }
    cascade = loaded.model;
    subject = subjectFromMetadata(loaded.metadata);
  } else {
    cascade = await createPreset(preset ?? "tiny", { seed: 0 });
  }
  if (lora) subject = applySamplingLoRA(cascade, lora, { scale: params.loraScale ?? 1 }) ?? subject;
  return { cascade, subject };
}

/**
 * The base model a LoRA file records as a path relative to the data root: a run trained over RPC
 * records the data root's absolute path, one of `deno task train` a path of its own (refused unless
 * it lies under the data root).
 */
async function recordedBase(base: string, root: DataRoot): Promise<string> {
  const rel = isAbsolute(base) ? relative(root.path, base) : base;
  const inside = await root.resolve(rel, { field: "model" }).then(() => true, () => false);
  if (!inside) {
    throw new RangeError(
      `Cannot sample as the adapters' base model ${
        JSON.stringify(base)
      } is not under the data root: give 'model'`,
    );
  }
  return rel;
}

/** The IF branch of {@link run}: stage I (and stage II) of a DeepFloyd IF model to `sample.png`. */
async function sampleIFJob(
  model: string,
  srModel: string | undefined,
  params: SampleParams,
  ctx: WorkerJobContext,
): Promise<{ file: string; width: number; height: number; seed: number; prompt?: string }> {
  using cascade = await loadIFCascade(model, { srModel });
  const seed = params.seed ?? 0;
  let done = 0;
  const { images, prompt } = await sampleIFCascade(cascade, {
    prompt: params.prompt,
    negativePrompt: params.negativePrompt,
    seed,
    steps: params.steps,
    srSteps: params.srSteps,
    guidance: params.guidance,
    srGuidance: params.srGuidance,
    noiseLevel: params.noiseLevel,
    promptCache: `${ctx.dataRoot}/cache/if-prompt-embeddings`,
    stageIOnly: params.stages === 1,
    onStep: (stage, step, steps) => {
      ctx.signal.throwIfAborted();
      ctx.progress({ step: ++done, message: `${stage} step ${step}/${steps}` });
    },
  });
  const [rgb] = await tensorToImages(images);
  images.dispose();
  await writePng(`${ctx.dir}/sample.png`, rgb);
  return {
    file: `${ctx.relDir}/sample.png`,
    width: rgb.width,
    height: rgb.height,
    seed,
    ...(prompt !== params.prompt ? { prompt } : {}),
  };
}
