import type { MethodSpec } from "./define_method.ts";
import type { JobKind } from "./job_kind.ts";
import { jobsCancel } from "./methods/jobs_cancel.ts";
import { jobsGet } from "./methods/jobs_get.ts";
import { jobsList } from "./methods/jobs_list.ts";
import { jobsResume } from "./methods/jobs_resume.ts";
import { tokenizerDecode } from "./methods/tokenizer_decode.ts";
import { tokenizerEncode } from "./methods/tokenizer_encode.ts";
import { tokenizerIdentifier } from "./methods/tokenizer_identifier.ts";

/**
 * What `deno task serve` offers: the plug-in point for compute.
 *
 * - `methods`: synchronous methods (answered within the call's time limit). Add `model.list`,
 *   `model.load`, `model.unload` and `sample` here when diffusion/ has a loadable pipeline.
 * - `jobKinds`: long-running jobs; each kind `x` is served as `x.start` and runs on the job
 *   queue. Add `train` (training/), `superres` (superres/) and `eval` (eval/) here when those
 *   packages exist.
 *
 * A method whose module is not there yet is left out rather than stubbed, so `rpc.discover`
 * tells a client exactly what this server can do.
 *
 * @returns Fresh arrays (callers may add to them).
 *
 * @example
 * ```ts
 * import { servedMethods } from "./served_methods.ts";
 * const { methods, jobKinds } = servedMethods();
 * console.log(methods.some((m) => m.name === "tokenizer.encode"), jobKinds.length >= 0); // true true
 * ```
 */
export function servedMethods(): { methods: MethodSpec[]; jobKinds: JobKind[] } {
  const methods: MethodSpec[] = [
    tokenizerEncode,
    tokenizerDecode,
    tokenizerIdentifier,
    jobsGet,
    jobsList,
    jobsCancel,
    jobsResume,
  ];
  const jobKinds: JobKind[] = [];
  return { methods, jobKinds };
}
