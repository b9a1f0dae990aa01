/**
 * `deno task train`: DreamBooth personalisation of the default model (see {@link trainDreamBooth}).
 *
 * The options, their defaults and bounds are declared once in `dreambooth_params.ts` (the RPC
 * `train.start` params come from the same declaration); `--help` prints them.
 *
 * @module
 */
import { declareParams, initBackend } from "./deps.ts";
import { dreamboothParams } from "./dreambooth_params.ts";
import { trainDreamBooth } from "./dreambooth_train.ts";
import { backendOption, backendParam, type StoppableMain, stoppableMain } from "./deps.ts";

const params = declareParams("train", { ...dreamboothParams.specs, backend: backendParam });

const SUMMARY =
  `Personalises a text-to-image cascade on 3–5 photos of a subject (DreamBooth): binds a rare-token
identifier [V] to the subject by fine-tuning the base stage on "a [V] [class noun]" with the
class-specific prior-preservation loss (Eq. 2), then fine-tunes the SR stages, then renders
DreamBench prompts. With no options: the default model, the built-in dog. Until models/default
ships, the default model is the newest pretraining checkpoint under runs/pretrain/, else the
untrained tiny preset (a notice says which).`;

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
export const main: StoppableMain = stoppableMain({
  params,
  usage: "deno task train [options]",
  summary: SUMMARY,
  usageOnError: false,
}, async ({ backend, ...values }, { args, stoppable }) => {
  const prefer = backendOption(backend);
  await initBackend({ prefer });
  const r = await stoppable(
    (signal) => trainDreamBooth({ ...values, args, command: "deno task train", signal }),
  );
  return r.summary.reason === "non-finite loss" ? 1 : 0;
});

if (import.meta.main) Deno.exit(await main(Deno.args));
