import { Buffer } from "node:buffer";
import { defineMethod, type MethodSpec } from "../define_method.ts";
import type { JobKind } from "../job_kind.ts";
import { invalidParams, RpcError, RpcErrorCode } from "../rpc_error.ts";
import { s, type Schema } from "../schema.ts";
import { workerJobKind } from "../worker_job_kind.ts";
// The declaration alone (no tfjs in the server thread).
import {
  CASCADE_SAMPLE_ONLY,
  IF_SAMPLE_ONLY,
  type SampleFields,
  sampleParams as declaredSampleParams,
} from "../../diffusion/pipeline/sample_params.ts";
import type { DataRoot } from "../data_root.ts";
import { isHubSource } from "./_model_folder_kind.ts";
import type { ModelHost } from "../model_host.ts";

/**
 * Whether `model` names a DeepFloyd IF model (sampled by the worker through deepfloyd/): `hf:…`, or
 * a folder under the data root with `model_index.json` or `if_model.json` (no tfjs needed).
 */
async function isIFModel(model: string | undefined, dataRoot: DataRoot): Promise<boolean> {
  if (model === undefined) return false;
  if (isHubSource(model)) return true;
  const dir = await dataRoot.resolve(model, { field: "model" });
  for (const f of ["model_index.json", "if_model.json"]) {
    if (await Deno.stat(`${dir}/${f}`).then(() => true, () => false)) return true;
  }
  return false;
}

/**
 * Checks `lora` and `loraScale` before queueing: cascades only, not with `loaded`, `loraScale` only
 * with `lora`, and `lora` a `.safetensors` file or a folder holding `lora.safetensors`, under the
 * data root.
 */
async function checkLoRA(
  params: SampleParams,
  options: { dataRoot: DataRoot; ifModel: boolean },
): Promise<void> {
  for (const k of CASCADE_SAMPLE_ONLY) {
    if (params[k] === undefined) continue;
    if (options.ifModel) {
      throw invalidParams(k, `applies to the cascades of this project only, not DeepFloyd IF`);
    }
    if (params.loaded !== undefined) {
      throw invalidParams(k, `must not be given together with 'loaded'`);
    }
  }
  if (params.lora === undefined) {
    if (params.loraScale !== undefined) {
      throw invalidParams(
        "loraScale",
        `needs 'lora' (the adapters to scale): current value is ${params.loraScale}`,
      );
    }
    return;
  }
  const path = await options.dataRoot.resolve(params.lora, { field: "lora" });
  const file = (await Deno.stat(path)).isDirectory ? `${path}/lora.safetensors` : path;
  if (
    !file.endsWith(".safetensors") || !(await Deno.stat(file).then((i) => i.isFile, () => false))
  ) {
    throw invalidParams(
      "lora",
      `must name a LoRA .safetensors file or a folder holding lora.safetensors: current value is ${
        JSON.stringify(params.lora)
      }`,
    );
  }
}

/** Preset cascades with fresh (untrained) weights, as `deno task sample --preset` offers. */
export const samplePresets = ["tiny", "small"] as const;

const loadedField = {
  loaded: s.optional(s.string({
    maxLength: 64,
    description: "A model kept loaded by model.load (skips loading).",
  })),
};

/**
 * The validated params of a sample job: the sampling parameters declared in
 * diffusion/pipeline/sample_params.ts (`model` relative to the data root) plus `loaded`.
 */
export type SampleParams = SampleFields & {
  /** The prompt. */
  prompt: string;
  /** A model loaded with `model.load`. */
  loaded?: string;
};

/** The params of `sample.start`, derived from the sampling declaration. */
export const sampleParams: Schema<SampleParams> = s.declared(declaredSampleParams, loadedField, {
  required: ["prompt"],
}) as Schema<SampleParams>;

/**
 * The `sample` job kind (served as `sample.start`): text → image through the cascade, run in a
 * Worker (a tiny-preset sample blocks its thread for seconds), the PNG written to
 * `jobs/<id>/sample.png`. Cancellation stops it at the next sampler step.
 *
 * With `loaded`, the job samples from a model kept loaded by `model.load` in the model worker
 * instead of loading one in a fresh worker.
 *
 * @param options `backend`: the server's `--backend` (default automatic); `models`: the model
 * host for `loaded` (without it, `loaded` is refused).
 * @returns The job kind.
 *
 * @example
 * ```ts
 * import { sampleJobKind } from "./sample.ts";
 * console.log(sampleJobKind().name); // sample
 * ```
 */
export function sampleJobKind(
  options: { backend?: string; models?: ModelHost } = {},
): JobKind<SampleParams, unknown> {
  const { models } = options;
  const kind = workerJobKind({
    name: "sample",
    summary: "Samples an image from a prompt through the cascade (a checkpoint or a preset).",
    params: sampleParams,
    module: new URL("./sample_worker.ts", import.meta.url),
    data: { backend: options.backend },
    graceMs: 30_000,
    prepare: async (params, { dataRoot }) => {
      const given = (["model", "preset", "loaded"] as const).filter((k) => params[k] !== undefined);
      if (given.length > 1) {
        throw invalidParams(given[1], `must not be given together with '${given[0]}'`);
      }
      if (params.loaded !== undefined && !models?.has(params.loaded)) {
        throw invalidParams(
          "loaded",
          `must name a model loaded with model.load: current value is ${
            JSON.stringify(params.loaded)
          }`,
        );
      }
      const ifModel = await isIFModel(params.model, dataRoot);
      if (params.model !== undefined && !ifModel) {
        await dataRoot.resolve(params.model, { field: "model" });
        if (!params.model.endsWith(".safetensors")) {
          throw invalidParams(
            "model",
            `must name a .safetensors checkpoint or a DeepFloyd IF folder (model_index.json or if_model.json): current value is ${
              JSON.stringify(params.model)
            }`,
          );
        }
      }
      for (const k of IF_SAMPLE_ONLY) {
        const v = (params as Record<string, unknown>)[k];
        if (v !== undefined && !ifModel) {
          throw invalidParams(k, `applies to DeepFloyd IF models only (see 'model')`);
        }
      }
      await checkLoRA(params, { dataRoot, ifModel });
      if (params.srModel !== undefined && !isHubSource(params.srModel)) {
        await dataRoot.resolve(params.srModel, { field: "srModel" });
      }
    },
  });
  return {
    ...kind,
    run: async (params, ctx) => {
      if (params.loaded === undefined) return await kind.run(params, ctx);
      if (models === undefined) throw new RangeError("Cannot sample as no model host is set");
      const { loaded, model: _m, preset: _p, ...rest } = params;
      const r = await models.sample(loaded, rest, `${ctx.dir}/sample.png`, {
        signal: ctx.signal,
        progress: ctx.progress,
      });
      return { file: `${ctx.relDir}/sample.png`, ...r };
    },
  };
}

/** What the `sample` method returns. */
export interface SampleResult {
  /** The job that made the image. */
  id: string;
  /** The PNG relative to the data root (`jobs/<id>/sample.png`). */
  file: string;
  /** Its URL path on this server (`/files/jobs/<id>/sample.png`; add the token on GET if set). */
  url: string;
  /** Width and height in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The seed used. */
  seed: number;
  /** The PNG, base64 (unless `png: false`). */
  png?: string;
  /** The prompt sampled, when a personalised model filled {identifier}/[V]/{class} in it. */
  prompt?: string;
  /** Warnings, e.g. that the prompt was longer than the text encoder reads (what was dropped). */
  warnings?: string[];
}

/**
 * The synchronous `sample` method: queues a `sample` job, waits for it (after any job ahead of
 * it), and answers with the image as base64 PNG plus its file path and URL. No time limit applies (the
 * job queue bounds it); use `sample.start` + `GET /events` to follow progress instead.
 *
 * @example
 * ```ts
 * import { sampleMethod } from "./sample.ts";
 * console.log(sampleMethod.name); // sample
 * ```
 */
export const sampleMethod: MethodSpec<SampleParams & { png: boolean }, SampleResult> = defineMethod(
  {
    name: "sample",
    summary: "Samples an image and waits for it: base64 PNG and its file under the data root.",
    params: s.declared(declaredSampleParams, {
      ...loadedField,
      png: s.optional(
        s.boolean({ description: "Include the PNG as base64 (default true)." }),
        true,
      ),
    }, { required: ["prompt"] }) as Schema<SampleParams & { png: boolean }>,
    timeoutMs: Infinity,
    handler: async (params, { services }) => {
      const { png, ...rest } = params;
      const job = await services.jobs.submit("sample", rest);
      const done = await services.jobs.wait(job.id);
      if (done.status !== "succeeded") {
        throw new RpcError(
          RpcErrorCode.InternalError,
          `Sampling job '${job.id}' ${done.status}${done.error ? `: ${done.error.message}` : ""}`,
          { id: job.id, status: done.status },
        );
      }
      const r = done.result as {
        file: string;
        width: number;
        height: number;
        seed: number;
        prompt?: string;
        warnings?: string[];
      };
      const url = `/files/${r.file.split("/").map(encodeURIComponent).join("/")}`;
      const out: SampleResult = { id: job.id, ...r, url };
      if (png) {
        const path = await services.dataRoot.resolve(r.file, { field: "file" });
        out.png = Buffer.from(await Deno.readFile(path)).toString("base64");
      }
      return out;
    },
  },
);
