/**
 * Private: the registered job kinds of a queue, kept alike by both queues ({@link JobQueue} and
 * `RedisJobQueue`): a name is taken once, and submitted params are checked against their kind.
 *
 * @module
 */
import type { JobKind } from "./job_kind.ts";
import type { JobRecord } from "./job_record.ts";
import { RpcError, RpcErrorCode } from "./rpc_error.ts";
import { showValue } from "./_show_value.ts";
import { newJobId } from "./_job_progress.ts";

/** The kinds of one queue, in registration order. */
export class JobKinds {
  readonly #map = new Map<string, JobKind>();

  /** Registers `kind`; a taken name is a RangeError. */
  add(kind: JobKind): void {
    if (this.#map.has(kind.name)) {
      throw new RangeError(
        `Cannot register the job kind as 'name' is taken: current value is ${showValue(kind.name)}`,
      );
    }
    this.#map.set(kind.name, kind);
  }

  /** The kind named `name`, if registered. */
  get(name: string): JobKind | undefined {
    return this.#map.get(name);
  }

  /** Every kind, in registration order. */
  list(): JobKind[] {
    return [...this.#map.values()];
  }

  /**
   * The kind named `kindName` and `params` parsed by its schema.
   *
   * @throws {RpcError} -32602 for an unknown kind or invalid params.
   */
  parse(kindName: string, params: unknown): { kind: JobKind; checked: unknown } {
    const kind = this.#map.get(kindName);
    if (kind === undefined) {
      throw new RpcError(RpcErrorCode.InvalidParams, `Unknown job kind '${kindName}'`, {
        field: "kind",
      });
    }
    return { kind, checked: kind.params.parse(params) };
  }

  /**
   * Checks that a job may be queued again: its kind is registered here and resumable, and the
   * job is stopped (interrupted, cancelled or failed).
   *
   * @throws {RpcError} -32009 naming what is missing.
   */
  assertResumable(record: JobRecord): void {
    const kind = this.#map.get(record.kind);
    if (kind === undefined) {
      throw new RpcError(
        RpcErrorCode.Conflict,
        `Cannot resume job '${record.id}' as its kind '${record.kind}' is not available on this server`,
        { id: record.id, kind: record.kind },
      );
    }
    if (kind.resumable !== true) {
      throw new RpcError(
        RpcErrorCode.Conflict,
        `Cannot resume job '${record.id}' as jobs of kind '${record.kind}' are not resumable`,
        { id: record.id, kind: record.kind },
      );
    }
    if (!["interrupted", "cancelled", "failed"].includes(record.status)) {
      throw new RpcError(
        RpcErrorCode.Conflict,
        `Cannot resume job '${record.id}' as it is not stopped: status is ${record.status}`,
        { id: record.id, status: record.status },
      );
    }
  }
}

/** The record of a new job of `kind` with its checked (and prepared) `params`: queued, in `jobs/<id>`. */
export function newJobRecord(kind: JobKind, params: unknown): JobRecord {
  const id = newJobId();
  return {
    id,
    kind: kind.name,
    params,
    status: "queued",
    createdAt: new Date().toISOString(),
    attempts: 0,
    resumable: kind.resumable === true,
    dir: `jobs/${id}`,
  };
}
