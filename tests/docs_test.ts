/**
 * The front door stays a front door (issue 33, acceptance 4): README.md ≤ 250 lines, the model
 * card ≤ 120, and every relative link in them, the reports and the package READMEs resolves.
 *
 * @module
 */
import assert from "assert";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

async function lines(path: string): Promise<number> {
  return (await Deno.readTextFile(join(root, path))).trimEnd().split("\n").length;
}

Deno.test("README.md is at most 250 lines and the model card at most 120", async () => {
  assert.ok(await lines("README.md") <= 250, `README.md has ${await lines("README.md")} lines`);
  const card = "models/default/README.md";
  assert.ok(await lines(card) <= 120, `${card} has ${await lines(card)} lines`);
});

Deno.test("the README's first screen states the engine's requirements and what runs without them", async () => {
  const screen = (await Deno.readTextFile(join(root, "README.md"))).split("\n").slice(0, 40)
    .join(" ");
  // The install line the CLIs' first line names, and both fallbacks (issue 30, acceptance 6).
  assert.match(screen, /apt-get install -y libopenblas0-pthread gcc/);
  assert.match(screen, /native CPU engine/);
  assert.match(screen, /without gcc on wasm \+ OpenBLAS, without OpenBLAS on plain\s+wasm/);
});

Deno.test("every relative link in the READMEs and reports resolves", async () => {
  const files = ["README.md", "models/README.md", "models/default/README.md"];
  for (const dir of ["reports", "experiments", "rpc", "deepfloyd"]) {
    for await (const e of Deno.readDir(join(root, dir))) {
      if (e.isFile && e.name.endsWith(".md")) files.push(`${dir}/${e.name}`);
    }
  }
  const broken: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(root, file));
    } catch {
      continue;
    }
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)\s]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue;
      const path = normalize(join(root, dirname(file), target));
      try {
        await Deno.stat(path);
      } catch {
        broken.push(`${file}: ${target}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("every figure the model card shows lives beside the report behind it", async () => {
  const card = await Deno.readTextFile(join(root, "models/default/README.md"));
  const images = [...card.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(images.length > 0);
  for (const image of images) assert.match(image, /^\.\.\/\.\.\/reports\/figures\//);
});
