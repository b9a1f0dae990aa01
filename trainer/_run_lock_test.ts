import assert from "assert";
import { join } from "node:path";
import { acquireRunLock } from "./_run_lock.ts";

/** A child process that takes or releases the lock of a folder on each line of its stdin. */
const starterCode = `
const { acquireRunLock } = await import(${
  JSON.stringify(new URL("./_run_lock.ts", import.meta.url).href)
});
const out = Deno.stdout;
const say = (s) => out.writeSync(new TextEncoder().encode(s + "\\n"));
let lock = null;
let buf = "";
say("ready");
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const [cmd, dir] = buf.slice(0, i).split(" ");
    buf = buf.slice(i + 1);
    if (cmd === "try") {
      try {
        lock = await acquireRunLock(dir);
        say("won");
      } catch (e) {
        say(e instanceof RangeError && /is training there/.test(e.message) ? "lost" : "error " + e);
      }
    } else if (cmd === "release") {
      await lock?.release();
      lock = null;
      say("released");
    }
  }
}
`;

class Starter {
  readonly child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;

  constructor() {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", starterCode],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    const lines = this.child.stdout.pipeThrough(new TextDecoderStream());
    this.#lines = (async function* () {
      let buf = "";
      for await (const chunk of lines) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          yield buf.slice(0, i);
          buf = buf.slice(i + 1);
        }
      }
    })();
  }

  send(line: string): Promise<void> {
    return this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  async next(): Promise<string> {
    const r = await this.#lines.next();
    if (r.done) throw new Error("starter exited");
    return r.value;
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.child.status;
  }
}

Deno.test("run lock: 20 concurrent starters in separate processes, exactly one wins, 50 times over", async () => {
  const dir = await Deno.makeTempDir();
  const starters = Array.from({ length: 20 }, () => new Starter());
  try {
    for (const s of starters) assert.equal(await s.next(), "ready");
    for (let round = 0; round < 50; round++) {
      const runDir = join(dir, `r${round % 5}`);
      await Deno.mkdir(runDir, { recursive: true });
      // Every other round starts with a lock file a killed run left behind (a dead pid in it).
      if (round % 2 === 1) await Deno.writeTextFile(join(runDir, "run.lock"), "4194303\n");
      await Promise.all(starters.map((s) => s.send(`try ${runDir}`)));
      const answers = await Promise.all(starters.map((s) => s.next()));
      const winners = answers.flatMap((a, i) => (a === "won" ? [i] : []));
      assert.deepEqual(
        answers.filter((a) => a !== "won" && a !== "lost"),
        [],
        `round ${round}: unexpected answers`,
      );
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
      const pid = Number((await Deno.readTextFile(join(runDir, "run.lock"))).trim());
      assert.equal(
        pid,
        starters[winners[0]].child.pid,
        `round ${round}: the lock names the winner`,
      );
      await starters[winners[0]].send("release");
      assert.equal(await starters[winners[0]].next(), "released");
      await assert.rejects(() => Deno.stat(join(runDir, "run.lock")), Deno.errors.NotFound);
    }
  } finally {
    await Promise.all(starters.map((s) => s.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run lock: a holder that is killed leaves a lock the next run takes; a live holder is named", async () => {
  const dir = await Deno.makeTempDir();
  const holder = new Starter();
  try {
    assert.equal(await holder.next(), "ready");
    await holder.send(`try ${dir}`);
    assert.equal(await holder.next(), "won");
    await assert.rejects(
      () => acquireRunLock(dir),
      new RegExp(`process ${holder.child.pid} is training there`),
    );
    holder.child.kill("SIGKILL");
    await holder.child.status;
    // The file is still there (with the dead pid), but nobody holds it any more.
    assert.equal(
      Number((await Deno.readTextFile(join(dir, "run.lock"))).trim()),
      holder.child.pid,
    );
    const lock = await acquireRunLock(dir);
    assert.equal(Number((await Deno.readTextFile(lock.path)).trim()), Deno.pid);
    // A second starter in this same process (as two RPC jobs in workers) is refused too.
    await assert.rejects(() => acquireRunLock(dir), /is training there/);
    await lock.release();
    await lock.release();
    await assert.rejects(() => Deno.stat(join(dir, "run.lock")), Deno.errors.NotFound);
  } finally {
    await holder.close();
    await Deno.remove(dir, { recursive: true });
  }
});
