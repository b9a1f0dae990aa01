/**
 * `deno task sample`: samples DeepFloyd IF when `--model` names an IF stage I folder,
 * `hf:ORG/NAME[@REV]` or an IF model of `deno task train` (stage II with `--sr-model`, or the
 * personalised model's own), and hands every other call to diffusion/'s command line (the
 * project's cascades). The options are declared once, in diffusion/'s `sampleParams`.
 *
 * ```sh
 * deno task sample --model ~/IF-I-M-v1.0 --sr-model ~/IF-II-M-v1.0 --prompt "a photo of a dog"
 * deno task sample --model hf:DeepFloyd/IF-I-M-v1.0 --sr-model hf:DeepFloyd/IF-II-M-v1.0 --prompt TEXT
 * deno task sample --model runs/if-dog --prompt "a {identifier} {class} on the beach" --out dog.png
 * ```
 *
 * @module
 */
import { main as cascadeMain } from "../diffusion/cli.ts";
import { backendOption, backendParam, initBackend, tensorToImages, writePng } from "./deps.ts";
import { declareParams, runCli } from "../params/mod.ts";
import { CASCADE_SAMPLE_ONLY, sampleParams } from "../diffusion/mod.ts";
import { ifModelKind, loadIFCascade, sampleIFCascade } from "./if_model.ts";

const params = declareParams("sample", {
  ...sampleParams.specs,
  out: {
    type: "string",
    minLength: 1,
    metavar: "FILE",
    default: "sample.png",
    help: "output PNG",
  },
  backend: backendParam,
});

/** Where the T5 prompt embeddings are cached (by encoder fingerprint and prompt). */
const PROMPT_CACHE = "runs/if-prompt-embeddings";

/** The value of `--model` in `args`, if any (before parsing: it picks the command line). */
function modelArg(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--model") return args[i + 1];
    if (args[i].startsWith("--model=")) return args[i].slice("--model=".length);
  }
  return undefined;
}

/** The output file of image `i` of `count`: `out` itself for one image, `x-00i.png` else. */
function outputPath(out: string, i: number, count: number): string {
  if (count === 1) return out;
  return `${out.replace(/\.png$/i, "")}-${String(i).padStart(3, "0")}.png`;
}

/**
 * Runs the command line.
 *
 * @param args Arguments without the script name, starting with the command (`sample`).
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
  const model = command === "sample" ? modelArg(rest) : undefined;
  if (model === undefined || (await ifModelKind(model)) === null) return await cascadeMain(args);
  return await runCli(rest, {
    params,
    usage: "deno task sample --model DIR|hf:ORG/NAME --prompt TEXT [options]   (deepfloyd/cli.ts)",
    summary: "Samples DeepFloyd IF (stage I, then stage II) and writes PNGs.",
  }, async (v) => {
    if (v.prompt === undefined) throw new RangeError(`Cannot sample as '--prompt' is required`);
    for (const k of ["preset", "sampler", ...CASCADE_SAMPLE_ONLY] as const) {
      if (v[k] !== undefined) {
        throw new RangeError(
          `Cannot sample a DeepFloyd IF model with '${
            params.name(k, "option")
          }': current value is ${JSON.stringify(v[k])}`,
        );
      }
    }
    await initBackend({ quiet: true, prefer: backendOption(v.backend) });
    using cascade = await loadIFCascade(v.model!, {
      srModel: v.srModel,
      onFile: (p, downloaded) => downloaded && console.error(`downloaded ${p}`),
    });
    const count = v.count ?? 1;
    const { images, prompt } = await sampleIFCascade(cascade, {
      prompt: v.prompt,
      negativePrompt: v.negativePrompt,
      count,
      seed: v.seed,
      steps: v.steps,
      srSteps: v.srSteps,
      guidance: v.guidance,
      srGuidance: v.srGuidance,
      noiseLevel: v.noiseLevel,
      promptCache: PROMPT_CACHE,
      stageIOnly: v.stages === 1,
      onStep: (stage, done, total) =>
        Deno.stderr.writeSync(new TextEncoder().encode(`\r${stage}: step ${done}/${total}`)),
    });
    console.error("");
    if (prompt !== v.prompt) console.error(`personalised model → prompt ${JSON.stringify(prompt)}`);
    const rgb = await tensorToImages(images);
    const [, h, w] = images.shape;
    images.dispose();
    for (let i = 0; i < rgb.length; i++) {
      const path = outputPath(v.out, i, count);
      await writePng(path, rgb[i]);
      console.log(`wrote ${path} (${w}×${h}, seed ${v.seed})`);
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
