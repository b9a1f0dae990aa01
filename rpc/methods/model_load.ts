import { defineMethod, type MethodSpec } from "../define_method.ts";
import type { LoadedModel } from "../model_host.ts";
import { invalidParams } from "../rpc_error.ts";
import { s } from "../schema.ts";
import { samplePresets } from "./sample.ts";

/** Params of `model.load`. */
export interface ModelLoadParams {
  /** The name to load it under. */
  name: string;
  /** A cascade checkpoint relative to the data root. */
  model?: string;
  /** A fresh preset instead. */
  preset?: typeof samplePresets[number];
}

/** Names of loaded models. */
export const modelNamePattern: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * `model.load {name, model | preset}` → the loaded model (`name`, `source`, stages, backend):
 * keeps a cascade loaded in the model worker so that `sample {loaded: name}` skips loading.
 * Loading again under a name replaces the old model. Paths are confined to the data root.
 *
 * @example
 * ```ts
 * import { modelLoad } from "./model_load.ts";
 * console.log(modelLoad.params.parse({ name: "dog", preset: "tiny" })); // { name: "dog", preset: "tiny" }
 * ```
 */
export const modelLoad: MethodSpec<ModelLoadParams, LoadedModel> = defineMethod({
  name: "model.load",
  summary: "Keeps a cascade (checkpoint or preset) loaded under a name, for sample {loaded}.",
  params: s.object({
    name: s.string({ pattern: modelNamePattern, description: "The name to load it under." }),
    model: s.optional(s.string({
      maxLength: 4096,
      description: "A cascade checkpoint (.safetensors) relative to the data root.",
    })),
    preset: s.optional(s.enum(samplePresets, { description: "A fresh, untrained preset." })),
  }),
  result: { type: "object", description: "LoadedModel" },
  timeoutMs: 10 * 60_000,
  handler: async ({ name, model, preset }, { services }) => {
    if ((model === undefined) === (preset === undefined)) {
      throw invalidParams(
        model === undefined ? "model" : "preset",
        "exactly one of 'model' and 'preset' must be given",
      );
    }
    try {
      if (model !== undefined) {
        const path = await services.dataRoot.resolve(model, { field: "model" });
        if (!model.endsWith(".safetensors")) {
          throw invalidParams(
            "model",
            `must name a .safetensors checkpoint: current value is ${JSON.stringify(model)}`,
          );
        }
        return await services.models.load(name, { path, label: model });
      }
      return await services.models.load(name, { preset: preset! });
    } catch (err) {
      const kind = (err as Error)?.name;
      if (kind === "RangeError" || kind === "TypeError" || kind === "SafetensorsError") {
        throw invalidParams("model", `must be a cascade checkpoint: ${(err as Error).message}`);
      }
      throw err;
    }
  },
});
