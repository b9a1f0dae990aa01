import assert from "assert";

const script = new URL("./train_eval_nets.ts", import.meta.url).pathname;

Deno.test("train-eval-nets: bad options fail before any work, naming the option and value", async () => {
  for (
    const [args, option] of [
      [["--steps", "abc"], "'--steps'"],
      [["--batch", "1"], "'--batch'"],
      [["--lr", "0"], "'--lr'"],
      [["--grey", "2"], "'--grey'"],
      [["--trunk", "huge"], "'--trunk'"],
      [["--net", "dog"], "'--net'"],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args, "--dir", "/nonexistent/scenes"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.success, false, args.join(" "));
    assert.ok(err.includes(option) && err.includes(args[1]), `${args.join(" ")}: ${err}`);
  }
});
