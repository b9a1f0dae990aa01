/**
 * `deno task eval --model PATH`: generates the DreamBench-style prompt set for a subject with a
 * cascade and writes `metrics.json`, an offline `index.html` and PNG grids. See `--help`. The work
 * is eval/'s `runEval`; this file parses the flags and prints.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { builtInSubjects, initBackend, parseBackendName, PRESET_NAMES } from "./deps.ts";
import { runEval } from "./run_eval.ts";

const HELP = `deno task eval --model PATH [options]

Generates the world's DreamBench prompts ("a sks dog on the beach", … 24 prompts) and "a dog" for
PRES with a cascade, scores them with eval/'s world classifier and subject embedder, and writes
metrics.json, index.html and grids/*.png to --out.

  --model PATH        cascade checkpoint (.safetensors written by diffusion's saveCheckpoint), or a
                      folder holding cascade.safetensors, model.safetensors or one checkpoint; preset:NAME for
                      an untrained preset (${
  PRESET_NAMES.join(", ")
}); "real" to score the subject's
                      own images as if generated (the paper's "real images" reference row)
  --subject NAME|DIR  built-in subject (${
  builtInSubjects().map((s) => s.name).join(", ")
}) or a folder of images (default dog)
  --class NOUN        class noun (default: the built-in subject's; required with a folder)
  --identifier WORD   rare-token identifier in the prompts (default sks)
  --out DIR           output folder (default runs/eval/report)
  --samples N         images per prompt (default 4)
  --pres N            images of the class prompt for PRES (default 8)
  --prompts N         use only the first N prompts (default all 24)
  --steps N           sampler steps of every stage (default: the cascade's for the base, --sr-steps
                      for the super-resolution stages)
  --sr-steps N        sampler steps of each super-resolution stage (default 10, or the stage's own
                      when fewer; the 64² the eval nets read hardly changes, and it halves SR's time)
  --stages N          run only the first N stages (default: up to the first stage at ≥ 128², the
                      eval nets read 64²; all stages of a smaller cascade)
  --guidance W        guidance weight (default: the cascade's)
  --seed N            generation and bootstrap seed (default 0)
  --backend NAME      auto, tensorflow, native, wasm-native, wasm, cpu, webgpu (default auto)
  --help              this text`;

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot evaluate as '--${name}' must be a non-negative integer: current value is ${v}`,
    );
  }
  return n;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      subject: { type: "string", default: "dog" },
      class: { type: "string" },
      identifier: { type: "string", default: "sks" },
      out: { type: "string", default: "runs/eval/report" },
      samples: { type: "string", default: "4" },
      pres: { type: "string", default: "8" },
      prompts: { type: "string" },
      steps: { type: "string" },
      "sr-steps": { type: "string" },
      stages: { type: "string" },
      guidance: { type: "string" },
      seed: { type: "string", default: "0" },
      backend: { type: "string", default: "auto" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  if (values.model === undefined) {
    console.error("Cannot evaluate as --model is missing\n\n" + HELP);
    Deno.exit(2);
  }
  const options = {
    model: values.model,
    out: values.out!,
    subject: values.subject,
    classNoun: values.class,
    identifier: values.identifier,
    samples: int("samples", values.samples),
    pres: int("pres", values.pres),
    prompts: int("prompts", values.prompts),
    steps: int("steps", values.steps),
    srSteps: int("sr-steps", values["sr-steps"]),
    stages: int("stages", values.stages),
    guidance: values.guidance === undefined ? undefined : Number(values.guidance),
    seed: int("seed", values.seed),
  };
  const backend = await initBackend({ prefer: parseBackendName(values.backend!) });
  const { files, summary: s, seconds } = await runEval({ ...options, backendName: backend.name }, {
    onProgress: ({ done, total, prompt, elapsedS, etaS }) =>
      console.log(
        `[${done}/${total}] ${prompt} — ${elapsedS.toFixed(0)} s elapsed, ETA ${etaS.toFixed(0)} s`,
      ),
  });
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
    `wrote ${files.json}, ${files.html} and ${files.grids.length} grids in ${seconds.toFixed(0)} s`,
  );
}
