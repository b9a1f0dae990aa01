/**
 * `deno task train`: DreamBooth personalisation of the default model (see {@link trainDreamBooth}).
 *
 * ```sh
 * deno task train [--instance-dir DIR] [--class-noun NOUN] [--identifier TEXT] [--model PATH|preset:NAME]
 *   [--out DIR] [--steps N] [--lr X] [--batch N] [--no-prior-preservation] [--prior-weight L]
 *   [--num-class-images N] [--class-steps N] [--train-text-encoder] [--method dreambooth|textual-inversion]
 *   [--resume] [--checkpoint-every N] [--sample-every N] [--log-every N] [--time-budget-min M]
 *   [--cache-dir DIR] [--seed S] [--no-flip] [--no-samples] [--no-superres] [--backend NAME]
 * ```
 *
 * @module
 */
import { initBackend } from "./deps.ts";
import { trainDreamBooth } from "./dreambooth_train.ts";
import { backendOption, numberOption, runCli, runStoppable, UsageError } from "./cli_options.ts";

const USAGE = `Usage: deno task train [options]

Personalises a text-to-image cascade on 3–5 photos of a subject (DreamBooth): binds a rare-token
identifier [V] to the subject by fine-tuning the base stage on "a [V] [class noun]" with the
class-specific prior-preservation loss (Eq. 2), then (when superres/ provides it) fine-tunes the SR
stages, then renders DreamBench prompts. With no options: the default model, the built-in dog.
Until models/default ships, the default model is the newest pretraining checkpoint under
runs/pretrain/, else the untrained tiny preset (a notice says which).

Options:
  --instance-dir DIR        folder of subject photos (default: the built-in dog, data/subjects/dog)
  --class-noun NOUN         class noun (default: the folder's subject.json; "" = ablation, needs --no-prior-preservation)
  --identifier TEXT         the identifier [V] (default: drawn by the paper's rule; must round-trip)
  --model PATH|preset:NAME  base model: cascade checkpoint, model folder, pretraining checkpoint, preset:tiny|small
  --out DIR                 output model folder (default runs/dreambooth/<subject>)
  --steps N                 training steps (default 200)
  --lr X                    learning rate (default 1e-4)
  --batch N                 instance examples per step; as many class examples join them (default 4)
  --no-prior-preservation   naive fine-tuning (no class-prior term)
  --prior-weight L          λ of Eq. 2 (default 1)
  --num-class-images N      class-prior images (default 64; cached in --cache-dir)
  --class-steps N           ancestral sampler steps for class images (default 25)
  --train-text-encoder      fine-tune the text encoder too (default frozen)
  --method NAME             dreambooth (default) or textual-inversion (only the identifier's
                            embedding rows are trained; default lr 5e-3; no prior term)
  --resume                  continue the run in --out from its last checkpoint
  --checkpoint-every N      checkpoint every N steps (default 50)
  --sample-every N          validation grid every N steps (default 100; 0 = end only)
  --log-every N             progress line every N steps (default 10)
  --time-budget-min M       stop cleanly (checkpoint) before M minutes of training
  --cache-dir DIR           class-image cache (default runs/cache/class_images)
  --seed S                  seed of the identifier draw, data, class images, noise (default 0)
  --no-flip                 no flip augmentation
  --no-samples              skip the final DreamBench samples
  --no-superres             skip the SR fine-tuning hook
  --backend NAME            auto, tensorflow, wasm-native, wasm, cpu, webgpu (default auto)
  --help                    show this help`;

const num = (name: string, v: string | undefined) => numberOption("train", name, v, { min: 0 });

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @param options `signal`: stop after the current step (default: SIGINT/SIGTERM do it).
 * @returns The exit code (0 done or stopped cleanly, 1 error or non-finite loss, 2 bad input).
 *
 * @example
 * ```ts
 * import { main } from "./train_cli.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export async function main(
  args: string[],
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  return await runCli(args, {
    usage: USAGE,
    options: {
      "instance-dir": { type: "string" },
      "class-noun": { type: "string" },
      identifier: { type: "string" },
      model: { type: "string" },
      out: { type: "string" },
      steps: { type: "string" },
      lr: { type: "string" },
      batch: { type: "string" },
      "no-prior-preservation": { type: "boolean" },
      "prior-weight": { type: "string" },
      "num-class-images": { type: "string" },
      "class-steps": { type: "string" },
      "train-text-encoder": { type: "boolean" },
      method: { type: "string" },
      resume: { type: "boolean" },
      "checkpoint-every": { type: "string" },
      "sample-every": { type: "string" },
      "log-every": { type: "string" },
      "time-budget-min": { type: "string" },
      "cache-dir": { type: "string" },
      seed: { type: "string" },
      "no-flip": { type: "boolean" },
      "no-samples": { type: "boolean" },
      "no-superres": { type: "boolean" },
      backend: { type: "string" },
    },
    usageOnError: false,
    stackOnError: false,
  }, async (values) => {
    const prefer = backendOption(values.backend);
    const method = values.method ?? "dreambooth";
    if (method !== "dreambooth" && method !== "textual-inversion") {
      throw new UsageError(
        `Cannot train as '--method' must be dreambooth or textual-inversion: current value is ${
          JSON.stringify(method)
        }`,
      );
    }
    const lr = num("lr", values.lr);
    if (lr === 0) throw new UsageError(`Cannot train as '--lr' must be > 0: current value is "0"`);
    const budget = num("time-budget-min", values["time-budget-min"]);
    if (budget === 0) {
      throw new UsageError(`Cannot train as '--time-budget-min' must be > 0: current value is "0"`);
    }
    const opts = {
      model: values.model ?? null,
      instanceDir: values["instance-dir"],
      classNoun: values["class-noun"],
      identifier: values.identifier ?? null,
      out: values.out,
      method: method as "dreambooth" | "textual-inversion",
      steps: num("steps", values.steps),
      learningRate: lr,
      instanceBatch: num("batch", values.batch),
      priorPreservation: !values["no-prior-preservation"],
      priorLossWeight: num("prior-weight", values["prior-weight"]),
      numClassImages: num("num-class-images", values["num-class-images"]),
      classSteps: num("class-steps", values["class-steps"]),
      cacheDir: values["cache-dir"],
      trainTextEncoder: values["train-text-encoder"] ?? false,
      flip: !values["no-flip"],
      resume: values.resume ?? false,
      checkpointEverySteps: num("checkpoint-every", values["checkpoint-every"]),
      sampleEverySteps: num("sample-every", values["sample-every"]),
      logEverySteps: num("log-every", values["log-every"]),
      timeBudgetMinutes: budget,
      seed: values.seed === undefined ? undefined : Number(values.seed),
      finalSamples: !values["no-samples"],
      superRes: !values["no-superres"],
      args,
    };
    await initBackend({ prefer });
    const r = await runStoppable(options.signal, (signal) => trainDreamBooth({ ...opts, signal }));
    return r.summary.reason === "non-finite loss" ? 1 : 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
