/**
 * The npm dependencies of rpc/'s Redis job queue (`--queue redis://…`), pinned exactly: BullMQ is
 * not officially tested on Deno, so CI proves these versions (tests/rpc_redis_queue_test.ts).
 * They live apart from deps.ts so that the embedded queue (the default) never loads them.
 *
 * @module
 */
export { Queue, QueueEvents, Worker } from "npm:bullmq@6.7.6";
export type { Job } from "npm:bullmq@6.7.6";
export { Redis } from "npm:ioredis@5.9.3";
