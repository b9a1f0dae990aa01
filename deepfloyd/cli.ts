/**
 * Command line of deepfloyd/ (`deno task sample-if …`): samples DeepFloyd IF from diffusers
 * folders, stage I (and stage II with `--sr-model`), and writes one PNG per image.
 *
 * ```sh
 * deno task sample-if --model IF-I-M-v1.0 [--sr-model IF-II-M-v1.0] --prompt TEXT [--out DIR]
 * deno task sample-if --model hf:DeepFloyd/IF-I-M-v1.0 --sr-model hf:DeepFloyd/IF-II-M-v1.0 --prompt TEXT
 * ```
 *
 * @module
 */
import { backendOption, backendParam, initBackend, tensorToImages, tf, writePng } from "./deps.ts";
import { declareParams, runCli } from "../params/mod.ts";
import { loadIFStage } from "./diffusers_folder.ts";
import { resolveModelDir } from "./hf_hub.ts";
import { DDPMScheduler } from "./ddpm_scheduler.ts";
import { sampleIF } from "./if_sampler.ts";
import { encodeIFPromptsStreaming } from "./prompt_embedding_cache.ts";

const params = declareParams("sample", {
  model: {
    type: "string",
    minLength: 1,
    metavar: "DIR",
    help:
      "stage I folder in diffusers' layout (model_index.json, unet/, text_encoder/, tokenizer/)",
  },
  srModel: {
    type: "string",
    minLength: 1,
    option: "sr-model",
    metavar: "DIR|hf:ORG/NAME[@REV]",
    help: "stage II folder or hub repository (IFSuperResolutionPipeline); omitted: stage I only",
  },
  prompt: { type: "string", notBlank: true, maxLength: 10_000, help: "the prompt (required)" },
  negativePrompt: {
    type: "string",
    option: "negative-prompt",
    default: "",
    defaultText: '""',
    help: "the negative prompt of classifier-free guidance",
  },
  count: { type: "integer", min: 1, max: 64, default: 1, help: "images to sample" },
  seed: { type: "integer", min: 0, max: 2 ** 31 - 1, default: 0, help: "seed" },
  steps: { type: "integer", min: 1, max: 1000, default: 100, help: "stage I scheduler steps" },
  srSteps: {
    type: "integer",
    min: 1,
    max: 1000,
    default: 50,
    option: "sr-steps",
    help: "stage II steps",
  },
  guidance: {
    type: "number",
    min: 0,
    max: 100,
    default: 7,
    metavar: "W",
    help: "stage I guidance",
  },
  srGuidance: {
    type: "number",
    min: 0,
    max: 100,
    default: 4,
    option: "sr-guidance",
    metavar: "W",
    help: "stage II guidance",
  },
  noiseLevel: {
    type: "integer",
    min: 0,
    max: 999,
    default: 250,
    option: "noise-level",
    help: "stage II noise augmentation of the upscaled stage I image",
  },
  variance: {
    type: "enum",
    values: ["learned_range", "fixed_small"],
    default: "learned_range",
    help:
      "DDPM variance: the folder's learned range, or fixed_small as diffusers' IF DreamBooth samples",
  },
  out: {
    type: "string",
    minLength: 1,
    metavar: "DIR",
    default: "samples-if",
    help: "output folder",
  },
  promptCache: {
    type: "string",
    option: "prompt-cache",
    metavar: "DIR",
    default: "runs/if-prompt-embeddings",
    help: 'cache of T5 prompt embeddings (by encoder fingerprint and prompt); "" for none',
  },
  backend: backendParam,
});

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code.
 */
export function main(args: readonly string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno task sample-if --model DIR --prompt TEXT [options]   (deepfloyd/cli.ts)",
    summary: "Samples DeepFloyd IF (stage I, then stage II with --sr-model) and writes PNGs.",
  }, async (v) => {
    if (v.model === undefined) throw new RangeError(`Cannot sample as '--model' is required`);
    if (v.prompt === undefined) throw new RangeError(`Cannot sample as '--prompt' is required`);
    await initBackend({ quiet: true, prefer: backendOption(v.backend) });
    const onFile = (p: string, downloaded: boolean) =>
      downloaded && console.error(`downloaded ${p}`);
    using s1 = await loadIFStage(await resolveModelDir(v.model, { onFile }));
    if (!s1.textEncoderDir || !s1.tokenizer) {
      throw new RangeError(`Cannot sample as '${v.model}' has no text_encoder/ or tokenizer/`);
    }
    using s2 = v.srModel === undefined
      ? null
      : await loadIFStage(await resolveModelDir(v.srModel, { onFile }));
    // The T5 encoder is streamed one block at a time; embeddings are cached on disk.
    const [pos, neg] = await Promise.all(
      [v.prompt, v.negativePrompt].map((p) =>
        encodeIFPromptsStreaming(s1.textEncoderDir!, s1.tokenizer!, new Array(v.count).fill(p), {
          cacheDir: v.promptCache === "" ? undefined : v.promptCache,
        })
      ),
    );
    const variance = v.variance === "fixed_small" ? { variance_type: "fixed_small" } : {};
    const sched = (s: DDPMScheduler) => new DDPMScheduler(s.json, variance);
    const progress = (stage: string) => (done: number, total: number) =>
      Deno.stderr.writeSync(new TextEncoder().encode(`\r${stage}: step ${done}/${total}`));
    try {
      let { images } = await sampleIF(s1.unet, sched(s1.scheduler), {
        promptEmbeds: pos,
        negativeEmbeds: neg,
        guidanceScale: v.guidance,
        steps: v.steps,
        seed: v.seed,
        onStep: progress("stage I"),
      });
      if (s2) {
        const lowRes = tf.clipByValue(images, -1, 1) as tf.Tensor4D;
        images.dispose();
        try {
          images = (await sampleIF(s2.unet, sched(s2.scheduler), {
            promptEmbeds: pos,
            negativeEmbeds: neg,
            guidanceScale: v.srGuidance,
            steps: v.srSteps,
            seed: v.seed + 1_000_003,
            lowRes,
            imageNoisingScheduler: s2.imageNoisingScheduler ?? undefined,
            noiseLevel: v.noiseLevel,
            onStep: progress("stage II"),
          })).images;
        } finally {
          lowRes.dispose();
        }
      }
      console.error("");
      await Deno.mkdir(v.out, { recursive: true });
      const rgb = await tensorToImages(images);
      images.dispose();
      for (let i = 0; i < rgb.length; i++) {
        const path = `${v.out}/${String(i).padStart(3, "0")}.png`;
        await writePng(path, rgb[i]);
        console.log(path);
      }
    } finally {
      tf.dispose([pos, neg]);
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
