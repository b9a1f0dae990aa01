/**
 * Renders the scenes the eval nets train and test on (64 px, uint8 chunks under
 * `runs/eval/scenes/`), resumable: run it again after an interruption and it renders only the
 * missing chunks. `deno run -A eval/render_eval_scenes.ts [--train N] [--test N] [--confirm N]`
 * (`--confirm`: a second held-out set, `runs/eval/scenes/confirm-*`, on which
 * `deno task measure-eval-nets` confirms the classifier's accuracy).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { renderChunks } from "./_dataset.ts";
import { EVAL_SEEDS } from "./eval_seeds.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      train: { type: "string", default: "40000" },
      test: { type: "string", default: "4000" },
      confirm: { type: "string", default: "4000" },
      dir: { type: "string", default: "runs/eval/scenes" },
    },
  });
  const dir = values.dir!;
  await renderChunks(dir, {
    name: "test",
    streamSeed: EVAL_SEEDS.classifierTest,
    count: Number(values.test),
    size: 64,
  });
  await renderChunks(dir, {
    name: "confirm",
    streamSeed: EVAL_SEEDS.classifierConfirm,
    count: Number(values.confirm),
    size: 64,
  });
  await renderChunks(dir, {
    name: "train",
    streamSeed: EVAL_SEEDS.classifierTrain,
    count: Number(values.train),
    size: 64,
  });
  console.log("done");
}
