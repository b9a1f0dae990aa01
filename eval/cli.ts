/**
 * `deno task eval --model PATH`: generates the DreamBench-style prompt set for a subject with a
 * cascade and writes `metrics.json`, an offline `index.html` and PNG grids. See `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  builtInSubjects,
  type Cascade,
  createPreset,
  initBackend,
  loadCheckpoint,
  loadSubjectFolder,
  parseBackendName,
  PRESET_NAMES,
  type RgbImage,
} from "./deps.ts";
import { evaluateSubject, type GenerateFn } from "./evaluate_subject.ts";
import { writeEvalReport } from "./write_eval_report.ts";
import { WorldClassifier } from "./world_classifier.ts";
import { SubjectEmbedder } from "./subject_embedder.ts";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import { dreambenchPrompts } from "./dreambench_prompts.ts";
import { rgbImageFromUint8 } from "./deps.ts";

const HELP = `deno task eval --model PATH [options]

Generates the world's DreamBench prompts ("a sks dog on the beach", … 24 prompts) and "a dog" for
PRES with a cascade, scores them with eval/'s world classifier and subject embedder, and writes
metrics.json, index.html and grids/*.png to --out.

  --model PATH        cascade checkpoint (.safetensors written by diffusion's saveCheckpoint), or a
                      folder holding cascade.safetensors (or one cascade checkpoint); preset:NAME for
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
  --steps N           sampler steps per stage (default: the cascade's)
  --stages N          run only the first N stages (default all)
  --guidance W        guidance weight (default: the cascade's)
  --seed N            generation and bootstrap seed (default 0)
  --backend NAME      auto, tensorflow, wasm-native, wasm, cpu, webgpu (default auto)
  --help              this text`;

async function findCascade(path: string): Promise<string> {
  const stat = await Deno.stat(path).catch(() => null);
  if (stat === null) throw new Error(`Cannot evaluate as --model '${path}' does not exist`);
  if (stat.isFile) return path;
  const preferred = join(path, "cascade.safetensors");
  if (await Deno.stat(preferred).then(() => true, () => false)) return preferred;
  const files: string[] = [];
  for await (const e of Deno.readDir(path)) {
    if (e.isFile && e.name.endsWith(".safetensors")) files.push(e.name);
  }
  if (files.length !== 1) {
    throw new Error(
      `Cannot evaluate as --model '${path}' must hold cascade.safetensors or exactly one .safetensors file: found ${files.length}`,
    );
  }
  return join(path, files[0]);
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
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot evaluate as '--${name}' must be a non-negative integer: current value is ${v}`,
      );
    }
    return n;
  };
  const t0 = performance.now();
  const backend = await initBackend({ prefer: parseBackendName(values.backend!) });
  const builtIn = builtInSubjects().find((s) => s.name === values.subject);
  const subjectDir = builtIn?.dir ?? values.subject!;
  const classNoun = values.class ?? builtIn?.classNoun;
  if (classNoun === undefined) {
    throw new RangeError(
      `Cannot evaluate as '--class' is required with a subject folder ('${subjectDir}')`,
    );
  }
  const real = (await loadSubjectFolder(subjectDir, { size: 128 })).images;
  using classifier = await WorldClassifier.load();
  using embedder = await SubjectEmbedder.load();
  const pixel = new ForegroundColorEmbedder();

  let cascade: Cascade | null = null;
  let generate: GenerateFn;
  const model = values.model;
  if (model === "real") {
    generate = (_p, seeds) => Promise.resolve(seeds.map((_, i) => real[i % real.length]));
  } else {
    if (model.startsWith("preset:")) {
      const name = model.slice(7);
      if (!(PRESET_NAMES as readonly string[]).includes(name)) {
        throw new RangeError(
          `Cannot evaluate as preset '${name}' is not one of ${PRESET_NAMES.join(", ")}`,
        );
      }
      cascade = await createPreset(name as (typeof PRESET_NAMES)[number]);
    } else {
      const file = await findCascade(model);
      const loaded = await loadCheckpoint(file);
      if (loaded.kind !== "cascade") {
        loaded.model.dispose();
        throw new Error(`Cannot evaluate as '${file}' holds a ${loaded.kind}, not a cascade`);
      }
      cascade = loaded.model as Cascade;
    }
    const c = cascade;
    const steps = int("steps", values.steps), stages = int("stages", values.stages);
    const guidance = values.guidance === undefined ? undefined : Number(values.guidance);
    generate = async (prompt, seeds) => {
      // One batch per prompt: the images differ by their noise; the first seed seeds the batch.
      const { images } = await c.sample({
        prompt: seeds.map(() => prompt),
        seed: seeds[0],
        ...(steps !== undefined ? { steps } : {}),
        ...(stages !== undefined ? { stages } : {}),
        ...(guidance !== undefined ? { guidance } : {}),
      });
      // diffusion's images are 8-bit; eval/ works on data/'s Float32 [-1, 1] images.
      return images.map((im): RgbImage => rgbImageFromUint8(im));
    };
  }
  try {
    let prompts = dreambenchPrompts(values.identifier!, classNoun);
    const np = int("prompts", values.prompts);
    if (np !== undefined) prompts = prompts.slice(0, Math.max(1, np));
    const tGen = performance.now();
    const result = await evaluateSubject(
      { name: builtIn?.name ?? subjectDir, classNoun, images: real },
      {
        generate,
        identifier: values.identifier,
        classifier,
        embedder,
        pixelEmbedder: pixel,
        samplesPerPrompt: int("samples", values.samples),
        presSamples: int("pres", values.pres),
        prompts,
        seed: int("seed", values.seed),
        onProgress: (done, total, prompt) => {
          const el = (performance.now() - tGen) / 1000;
          const eta = el / done * (total - done);
          console.log(
            `[${done}/${total}] ${prompt} — ${el.toFixed(0)} s elapsed, ETA ${eta.toFixed(0)} s`,
          );
        },
      },
    );
    const measures: Record<string, string> = {};
    if (classifier.metadata.heldOutAccuracy) {
      measures["world classifier held-out accuracy"] = classifier.metadata.heldOutAccuracy;
    }
    if (embedder.metadata.heldOutAuc) {
      measures["subject embedder held-out ROC AUC"] = embedder.metadata.heldOutAuc;
    }
    const files = await writeEvalReport(values.out!, result, {
      realImages: real,
      info: {
        model,
        subject: builtIn?.name ?? subjectDir,
        backend: backend.name,
        "images per prompt": Number(values.samples),
        "seconds": Math.round((performance.now() - t0) / 1000),
        date: new Date().toISOString(),
      },
      measures,
    });
    const s = result.summary;
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
        ((performance.now() - t0) / 1000).toFixed(0)
      } s`,
    );
  } finally {
    cascade?.dispose();
  }
}
