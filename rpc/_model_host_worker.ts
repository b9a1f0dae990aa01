/**
 * The worker behind `ModelHost`: keeps cascades loaded by name (tfjs lives only here, never in
 * the server's thread) and samples from them on request, one request at a time, with progress
 * messages and cancellation through a shared flag checked at every sampler step.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { initBackend, parseBackendName } from "../backend/mod.ts";
import {
  type Cascade,
  createPreset,
  loadCheckpoint,
  promptFit,
  writePng,
} from "../diffusion/mod.ts";

type Request =
  | { op: "load"; id: number; name: string; path?: string; preset?: string; backend?: string }
  | { op: "unload"; id: number; name: string }
  | {
    op: "sample";
    id: number;
    name: string;
    out: string;
    flag: Int32Array;
    params: {
      prompt: string;
      seed?: number;
      steps?: number;
      guidance?: number;
      sampler?: "ddim" | "ancestral";
      stages?: number;
    };
  };

const models = new Map<string, Cascade>();
let backendName: string | undefined;
let chain: Promise<void> = Promise.resolve();

self.onmessage = (e: MessageEvent<Request>) => {
  const req = e.data;
  chain = chain.then(() => handle(req)).catch((err) => {
    const error = err instanceof Error ? err : new Error(String(err));
    self.postMessage({ id: req.id, error: { name: error.name, message: error.message } });
  });
};

async function handle(req: Request): Promise<void> {
  if (req.op === "load") {
    if (backendName === undefined) {
      backendName =
        (await initBackend({ prefer: parseBackendName(req.backend), quiet: true })).name;
    }
    let cascade: Cascade;
    if (req.path !== undefined) {
      const loaded = await loadCheckpoint(req.path);
      if (loaded.kind !== "cascade") {
        loaded.model.dispose();
        throw new RangeError(`Cannot load the model as it holds a ${loaded.kind}, not a cascade`);
      }
      cascade = loaded.model;
    } else {
      cascade = await createPreset((req.preset ?? "tiny") as "tiny", { seed: 0 });
    }
    models.get(req.name)?.dispose();
    models.set(req.name, cascade);
    self.postMessage({
      id: req.id,
      result: {
        stages: cascade.stages.map((s) => ({ imageSize: s.imageSize, steps: s.sampler.steps })),
        backend: backendName,
      },
    });
  } else if (req.op === "unload") {
    const cascade = models.get(req.name);
    cascade?.dispose();
    models.delete(req.name);
    self.postMessage({ id: req.id, result: { unloaded: cascade !== undefined } });
  } else {
    const cascade = models.get(req.name);
    if (cascade === undefined) throw new RangeError(`No model '${req.name}' is loaded`);
    const p = req.params;
    const { warning } = promptFit(p.prompt, {
      tokenizer: cascade.tokenizer,
      length: cascade.textEncoder.config.maxLength,
    });
    const count = Math.min(p.stages ?? cascade.stages.length, cascade.stages.length);
    const total = cascade.stages.slice(0, count).reduce(
      (a, s) => a + (p.steps ?? s.sampler.steps),
      0,
    );
    let done = 0;
    const seed = p.seed ?? 0;
    const { images } = await cascade.sample({
      prompt: p.prompt,
      seed,
      steps: p.steps,
      guidance: p.guidance,
      sampler: p.sampler,
      stages: count,
      onProgress: ({ stage, stages, step, steps }) => {
        if (Atomics.load(req.flag, 0) === 1) {
          throw new DOMException("Sampling was cancelled", "AbortError");
        }
        done++;
        self.postMessage({
          id: req.id,
          progress: {
            step: done,
            total,
            message: `stage ${stage + 1}/${stages} step ${step}/${steps}`,
          },
        });
      },
    });
    await writePng(req.out, images[0]);
    self.postMessage({
      id: req.id,
      result: {
        width: images[0].width,
        height: images[0].height,
        seed,
        backend: backendName,
        ...(warning ? { warnings: [warning] } : {}),
      },
    });
  }
}
