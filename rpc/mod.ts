/**
 * rpc/: the JSON-RPC 2.0 server (Hono + json-rpc-2.0) that exposes the toolkit to notebooks and
 * other languages: validated methods, a job queue with progress over Server-Sent Events and
 * records on disk, a bearer token, paths confined to a data root. Nothing imports rpc/; start it
 * with `deno task serve`, or build the app yourself:
 *
 * @example
 * ```ts
 * import { createRpcApp } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const rpc = await createRpcApp({ dataRoot: dir });
 * const res = await rpc.fetch(new Request("http://127.0.0.1/health"));
 * console.log((await res.json()).status); // ok
 * await rpc.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * Plugging in compute: write a {@linkcode JobKind} (`run(params, { signal, progress, dir })`) or
 * a {@linkcode MethodSpec}, and add it to `servedMethods()` in served_methods.ts.
 *
 * @module
 */
export { createRpcApp, type RpcApp, type RpcAppOptions } from "./create_rpc_app.ts";
export {
  parseServeArgs,
  type ServeConfig,
  serveConfig,
  type ServeFlags,
  serveParams,
} from "./serve_args.ts";
export { servedMethods } from "./served_methods.ts";
export { defineMethod, type MethodContext, type MethodSpec } from "./define_method.ts";
export { MethodRegistry, type OpenRpcDocument, type OpenRpcMethod } from "./method_registry.ts";
export { RpcHandler, type RpcHandlerOptions, type RpcResponse } from "./rpc_handler.ts";
export { invalidParams, RpcError, RpcErrorCode, type RpcErrorCodeValue } from "./rpc_error.ts";
export {
  type Infer,
  type JsonSchema,
  type ObjectOf,
  s,
  type Schema,
  type Shape,
} from "./schema.ts";
export { DataRoot, type ResolveOptions } from "./data_root.ts";
export { defineJobKind, type JobContext, type JobKind, type ProgressUpdate } from "./job_kind.ts";
export { busyMainThreadJob, busyWorkerJob, sleepJob } from "./debug_jobs.ts";
export {
  finishedStatuses,
  type JobProgress,
  type JobRecord,
  type JobStatus,
  jobStatuses,
} from "./job_record.ts";
export { jobIdPattern, JobStore, type JobStoreOptions } from "./job_store.ts";
export {
  type JobEvent,
  type JobFilter,
  JobQueue,
  type JobQueueOptions,
  type JobService,
} from "./job_queue.ts";
export { jobStartMethod } from "./job_start_method.ts";
export {
  type WorkerJobContext,
  workerJobKind,
  type WorkerJobKindOptions,
} from "./worker_job_kind.ts";
export type { RpcServices } from "./rpc_services.ts";
export { TokenizerCache } from "./tokenizer_cache.ts";
export {
  RpcClient,
  RpcClientError,
  type RpcClientOptions,
  type RpcEvent,
  type RpcMethods,
  type SampleCallParams,
  type SampleCallResult,
} from "./client.ts";
export { sampleJobKind, sampleMethod, type SampleParams, sampleParams } from "./methods/sample.ts";
export { type CheckpointEntry, modelList, type ModelListResult } from "./methods/model_list.ts";
export { modelLoad, type ModelLoadParams, modelNamePattern } from "./methods/model_load.ts";
export { modelUnload } from "./methods/model_unload.ts";
export { type LoadedModel, ModelHost } from "./model_host.ts";
export {
  trainJobKind,
  type TrainParams,
  trainParams,
  trainPathFields,
  type TrainPhoto,
} from "./methods/train.ts";
export {
  PHOTO_UPLOAD_LIMITS,
  photoNameProblem,
  type PhotoUploadResult,
  savePhotoUpload,
  type UploadedPhoto,
  uploadIdPattern,
} from "./photo_upload.ts";
