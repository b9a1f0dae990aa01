// The eval report opens in headless Chromium (Debian `chromium`) and shows its grids: runs
// `deno task eval --model real` on a few prompts, screenshots index.html and checks that the
// picture is not blank (many distinct colours, not mostly one colour). Skipped with a reason when
// /usr/bin/chromium is absent, unless CI=true (then it fails: CI must install chromium).
import assert from "assert";
import { join } from "node:path";
import { loadImage } from "../data/mod.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
const ci = Deno.env.get("CI") === "true";
const root = new URL("..", import.meta.url).pathname;

Deno.test({
  name: "eval report: HTML screenshot in headless Chromium shows the grids",
  ignore: !hasChromium && !ci,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    assert.ok(hasChromium, `${CHROMIUM} is missing: CI must install Debian's chromium`);
    const out = await Deno.makeTempDir();
    const profile = await Deno.makeTempDir();
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(root, "eval/cli.ts"),
          "--model",
          "real",
          "--prompts",
          "3",
          "--samples",
          "4",
          "--pres",
          "4",
          "--out",
          out,
        ],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      const shot = join(out, "shot.png");
      const res = await new Deno.Command(CHROMIUM, {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
          `--screenshot=${shot}`,
          "--window-size=1000,1600",
          `file://${join(out, "index.html")}`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
      const img = await loadImage(shot);
      assert.equal(img.width, 1000);
      const counts = new Map<number, number>();
      const d = img.data;
      for (let i = 0; i < d.length; i += 3) {
        const key = (Math.round((d[i] + 1) * 15) << 10) | (Math.round((d[i + 1] + 1) * 15) << 5) |
          Math.round((d[i + 2] + 1) * 15);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const top = Math.max(...counts.values()) / (d.length / 3);
      assert.ok(counts.size > 200, `only ${counts.size} distinct colours: the grids are not shown`);
      assert.ok(top < 0.9, `${(top * 100).toFixed(0)}% of the screenshot is one colour`);
    } finally {
      await Deno.remove(out, { recursive: true });
      await Deno.remove(profile, { recursive: true });
    }
  },
});

if (!hasChromium && !ci) {
  console.log(
    `eval report screenshot test skipped: ${CHROMIUM} is absent (apt-get install chromium)`,
  );
}
