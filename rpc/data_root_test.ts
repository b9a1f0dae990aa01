import assert from "assert";
import { DataRoot } from "./data_root.ts";

Deno.test("DataRoot: resolves inside paths and refuses '..', absolute paths and symlink escapes", async () => {
  const outside = await Deno.makeTempDir({ prefix: "outside-" });
  const dir = await Deno.makeTempDir({ prefix: "root-" });
  try {
    const root = await DataRoot.open(`${dir}/data`);
    await Deno.mkdir(`${root.path}/jobs/a`, { recursive: true });
    await Deno.writeTextFile(`${root.path}/jobs/a/x.png`, "png");
    await Deno.writeTextFile(`${outside}/secret.txt`, "secret");
    await Deno.symlink(outside, `${root.path}/link-out`);
    await Deno.symlink(`${root.path}/jobs`, `${root.path}/link-in`);
    await Deno.symlink(`${outside}/nothing-here`, `${root.path}/dangling`);

    assert.equal(await root.resolve("jobs/a/x.png"), `${root.path}/jobs/a/x.png`);
    assert.equal(await root.resolve("link-in/a/x.png"), `${root.path}/jobs/a/x.png`);
    assert.equal(await root.resolve("./jobs/a/x.png"), `${root.path}/jobs/a/x.png`);
    assert.equal(
      await root.resolve("jobs/b/new.png", { mustExist: false }),
      `${root.path}/jobs/b/new.png`,
    );
    assert.equal(root.relative(`${root.path}/jobs/a/x.png`), "jobs/a/x.png");

    const refused: [string, RegExp, boolean?][] = [
      ["../secret.txt", /no '\.\.'/],
      ["jobs/../../x", /no '\.\.'/],
      ["jobs\\..\\..\\x", /no '\.\.'/],
      ["/etc/passwd", /not absolute/],
      ["link-out/secret.txt", /symbolic link leads out/],
      ["link-out/new.txt", /symbolic link leads out/, false],
      ["dangling", /symbolic link leads out/, false],
      ["missing.png", /existing file/],
      ["", /non-empty relative path/],
      ["a\u0000b", /NUL/],
    ];
    for (const [path, message, mustExist = true] of refused) {
      await assert.rejects(
        root.resolve(path, { field: "image", mustExist }),
        (err: Error & { code?: number; data?: unknown }) => {
          assert.equal(err.code, -32602, path);
          assert.deepEqual(err.data, { field: "image" });
          assert.match(err.message, /^Invalid params: 'image' must/);
          assert.match(err.message, message, path);
          return true;
        },
      );
    }
    await assert.rejects(
      root.resolve(42),
      /must be a non-empty relative path: current value is 42/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
