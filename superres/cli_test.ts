import assert from "assert";
import { main } from "./cli.ts";

Deno.test("train-sr CLI: --help is 0, bad usage is 2 and names the option", async () => {
  const errors: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = () => {};
  console.error = (m: string) => errors.push(m);
  try {
    assert.equal(await main(["--help"]), 0);
    assert.equal(await main(["--stage", "2", "--all-stages"]), 2);
    assert.match(errors.pop()!, /'--stage' together with '--all-stages'/);
    assert.equal(await main(["--steps", "x"]), 2);
    assert.match(
      errors.pop()!,
      /Cannot fine-tune as '--steps' must be an integer ≥ 1 and ≤ 10000000: current value is "x"/,
    );
    assert.equal(await main(["--nope"]), 2);
  } finally {
    console.log = log;
    console.error = error;
  }
});
