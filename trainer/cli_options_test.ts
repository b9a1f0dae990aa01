import assert from "assert";
import { declareParams } from "../params/mod.ts";
import { stoppableMain } from "./cli_options.ts";

const params = declareParams("count", {
  n: { type: "integer", default: 2, min: 1, help: "steps" },
});

Deno.test("stoppableMain: values, args and the caller's signal reach the body; usage errors give 2", async () => {
  const seen: unknown[] = [];
  const main = stoppableMain(
    { params, usage: "count [options]" },
    async (v, { args, stoppable }) => {
      seen.push(v.n, args);
      return await stoppable(async (stop) => {
        controller.abort();
        await Promise.resolve();
        return stop.aborted ? 7 : 0;
      });
    },
  );
  const controller = new AbortController();
  assert.equal(await main(["--n", "3"], { signal: controller.signal }), 7);
  assert.deepEqual(seen, [3, ["--n", "3"]]);
  assert.equal(await main(["--help"]), 0);
  assert.equal(await main(["--n", "0"]), 2);
});
