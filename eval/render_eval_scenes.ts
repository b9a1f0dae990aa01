/**
 * Renders the scenes the eval nets train and test on (64 px, uint8 chunks under
 * `runs/eval/scenes/`), resumable: run it again after an interruption and it renders only the
 * missing chunks. `deno run -A eval/render_eval_scenes.ts [--train N] [--test N] [--confirm N]`
 * (`--confirm`: a second held-out set, `runs/eval/scenes/confirm-*`, on which
 * `deno task measure-eval-nets` confirms the classifier's accuracy).
 *
 * @module
 */
import { declareParams, runCli } from "../params/mod.ts";
import { renderChunks } from "./_dataset.ts";
import { EVAL_SEEDS } from "./eval_seeds.ts";

const count = (help: string) =>
  ({ type: "integer", min: 0, max: 10_000_000, default: 4000, help }) as const;

const params = declareParams("render eval scenes", {
  train: { ...count("training scenes"), default: 40000 },
  test: count("held-out test scenes"),
  confirm: count("second held-out set (runs/eval/scenes/confirm-*)"),
  dir: {
    type: "string",
    minLength: 1,
    default: "runs/eval/scenes",
    metavar: "DIR",
    help: "output",
  },
});

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name.
 * @returns The exit code (0 done, 2 bad input, 1 error).
 *
 * @example
 * ```ts
 * import { main } from "./render_eval_scenes.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno task render-eval-scenes [options]",
    summary: "Renders the scenes the eval nets train and test on (64 px, resumable).",
  }, async (values) => {
    for (
      const [name, streamSeed] of [
        ["test", EVAL_SEEDS.classifierTest],
        ["confirm", EVAL_SEEDS.classifierConfirm],
        ["train", EVAL_SEEDS.classifierTrain],
      ] as const
    ) {
      await renderChunks(values.dir, { name, streamSeed, count: values[name], size: 64 });
    }
    console.log("done");
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
