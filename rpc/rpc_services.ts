import type { DataRoot } from "./data_root.ts";
import type { JobService } from "./job_queue.ts";
import type { ModelHost } from "./model_host.ts";
import type { TokenizerCache } from "./tokenizer_cache.ts";

/**
 * The server's shared state, handed to every method handler as `context.services`. Compute
 * plug-ins (a model cache for `model.load`/`sample`) become fields here when they exist.
 *
 * @example
 * ```ts
 * import type { RpcServices } from "./rpc_services.ts";
 * const describe = (s: RpcServices) => `${s.dataRoot.path} (${s.backend ?? "auto"})`;
 * console.log(typeof describe); // function
 * ```
 */
export interface RpcServices {
  /** Every path parameter is resolved against it. */
  readonly dataRoot: DataRoot;
  /** Compute jobs (the embedded queue, or BullMQ on Redis with `--queue`). */
  readonly jobs: JobService;
  /** Loaded SentencePiece models (the T5 vocabulary, or `.model` files under the data root). */
  readonly tokenizers: TokenizerCache;
  /** Models kept loaded between calls (`model.load`), in their own worker. */
  readonly models: ModelHost;
  /** The `--backend` choice for compute plug-ins (`undefined`: automatic). */
  readonly backend: string | undefined;
  /** `Date.now()` when the server started. */
  readonly startedAt: number;
}
