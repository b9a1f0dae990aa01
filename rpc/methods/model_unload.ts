import { defineMethod, type MethodSpec } from "../define_method.ts";
import { RpcError, RpcErrorCode } from "../rpc_error.ts";
import { s } from "../schema.ts";
import { modelNamePattern } from "./model_load.ts";

/**
 * `model.unload {name}` → `{unloaded: true}`: frees a loaded model. An unknown name answers
 * -32004.
 *
 * @example
 * ```ts
 * import { modelUnload } from "./model_unload.ts";
 * console.log(modelUnload.name); // model.unload
 * ```
 */
export const modelUnload: MethodSpec<{ name: string }, { unloaded: boolean }> = defineMethod({
  name: "model.unload",
  summary: "Frees a model loaded with model.load.",
  params: s.object({ name: s.string({ pattern: modelNamePattern }) }),
  result: { type: "object", properties: { unloaded: { type: "boolean" } } },
  handler: async ({ name }, { services }) => {
    if (!(await services.models.unload(name))) {
      throw new RpcError(RpcErrorCode.NotFound, `No model '${name}' is loaded`, { name });
    }
    return { unloaded: true };
  },
});
