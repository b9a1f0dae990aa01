import type { MethodSpec } from "./define_method.ts";
import type { JobKind } from "./job_kind.ts";
import { jobsCancel } from "./methods/jobs_cancel.ts";
import { jobsGet } from "./methods/jobs_get.ts";
import { jobsList } from "./methods/jobs_list.ts";
import { jobsResume } from "./methods/jobs_resume.ts";
import { tokenizerDecode } from "./methods/tokenizer_decode.ts";
import { tokenizerEncode } from "./methods/tokenizer_encode.ts";
import { tokenizerIdentifier } from "./methods/tokenizer_identifier.ts";
import { modelList } from "./methods/model_list.ts";
import { modelLoad } from "./methods/model_load.ts";
import { modelUnload } from "./methods/model_unload.ts";
import type { ModelHost } from "./model_host.ts";
import { sampleJobKind, sampleMethod } from "./methods/sample.ts";
import { trainJobKind } from "./methods/train.ts";
import { superResJobKind } from "./methods/superres.ts";
import { evalJobKind } from "./methods/eval.ts";

/**
 * What `deno task serve` offers: the plug-in point for compute.
 *
 * - `methods`: synchronous methods (answered within the call's time limit, unless they set their
 *   own): tokenizer, jobs, `model.list`/`model.load`/`model.unload` (models kept loaded in a
 *   worker, see `ModelHost`) and `sample` (waits for a `sample` job).
 * - `jobKinds`: long-running jobs; each kind `x` is served as `x.start` and runs on the job
 *   queue (use `workerJobKind` for compute so the server stays responsive): `sample`, `train`
 *   (training/), `superres` (superres/) and `eval` (eval/).
 *
 * A method whose module is not there yet is left out rather than stubbed, so `rpc.discover`
 * tells a client exactly what this server can do.
 *
 * @param options `backend`: the `--backend` choice handed to compute jobs (default automatic);
 * `models`: the model host `sample {loaded}` uses (default none: only checkpoints and presets).
 * @returns Fresh arrays (callers may add to them).
 *
 * @example
 * ```ts
 * import { servedMethods } from "./served_methods.ts";
 * const { methods, jobKinds } = servedMethods();
 * console.log(methods.some((m) => m.name === "tokenizer.encode"), jobKinds.length >= 0); // true true
 * ```
 */
export function servedMethods(
  options: { backend?: string; models?: ModelHost } = {},
): { methods: MethodSpec[]; jobKinds: JobKind[] } {
  const methods: MethodSpec[] = [
    tokenizerEncode,
    tokenizerDecode,
    tokenizerIdentifier,
    jobsGet,
    jobsList,
    jobsCancel,
    jobsResume,
    modelList,
    modelLoad,
    modelUnload,
    sampleMethod,
  ];
  const jobKinds: JobKind[] = [
    sampleJobKind(options),
    trainJobKind(options),
    superResJobKind(options),
    evalJobKind(options),
  ];
  return { methods, jobKinds };
}
