/**
 * `deno task eval --model PATH`: generates the DreamBench-style prompt set for a subject with a
 * cascade and writes `metrics.json`, an offline `index.html` and PNG grids. See `--help`. The work
 * is eval/'s `runEval`; this file parses the flags and prints.
 *
 * @module
 */
import { declareParams, runCli, UsageError } from "../params/mod.ts";
import { backendOption, backendParam, initBackend } from "./deps.ts";
import { evalParams } from "./eval_params.ts";
import { runEval } from "./run_eval.ts";

const params = declareParams("evaluate", { ...evalParams.specs, backend: backendParam });

const SUMMARY =
  `Generates the world's DreamBench prompts ("a sks dog on the beach", … 24 prompts) and "a dog" for
PRES with a cascade, scores them with eval/'s world classifier and subject embedder, and writes
metrics.json, index.html and grids/*.png to --out.`;

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name (e.g. `Deno.args`).
 * @returns The exit code (0 written, 1 error, 2 bad input).
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args, {
    params,
    usage: "deno task eval --model PATH [options]",
    summary: SUMMARY,
  }, async ({ backend: backendName, ...values }) => {
    if (values.model === undefined) {
      throw new UsageError("Cannot evaluate as '--model' is required");
    }
    const options = { ...values, model: values.model, subject: values.subject ?? "dog" };
    const backend = await initBackend({ prefer: backendOption(backendName) });
    const { files, summary: s, seconds } = await runEval(
      { ...options, backendName: backend.name },
      {
        onProgress: ({ done, total, prompt, elapsedS, etaS }) =>
          console.log(
            `[${done}/${total}] ${prompt} — ${elapsedS.toFixed(0)} s elapsed, ETA ${
              etaS.toFixed(0)
            } s`,
          ),
      },
    );
    const f = (c: { estimate: number; low: number; high: number } | null) =>
      c === null ? "—" : `${c.estimate.toFixed(3)} [${c.low.toFixed(3)}, ${c.high.toFixed(3)}]`;
    console.log(`subject fidelity ${f(s.subjectFidelity)}, colour ${f(s.pixelFidelity)}`);
    console.log(
      `prompt fidelity ${f(s.promptFidelity)} (context ${f(s.contextAccuracy)}, property ${
        f(s.propertyAccuracy)
      }), class ${f(s.classAccuracy)}`,
    );
    console.log(`PRES ${f(s.pres)}, DIV ${f(s.diversity)}`);
    console.log(
      `wrote ${files.json}, ${files.html} and ${files.grids.length} grids in ${
        seconds.toFixed(0)
      } s`,
    );
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
