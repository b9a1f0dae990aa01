/**
 * Test fixture: rpc/'s throwaway `redis-server` and watched child processes (one implementation,
 * shared with bench/queue_bench.ts), under the names the Redis tests use.
 *
 * @module
 */
export {
  freePort,
  redisCli,
  redisMissing,
  startQueueProcess,
  startRedis,
  WatchedProcess as Proc,
} from "../rpc/local_redis.ts";
