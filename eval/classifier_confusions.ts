/**
 * Accuracy and the most frequent confusions of the world classifier (class, property, context) on
 * the held-out test scenes under `runs/eval/scenes/` (rendered by `deno task render-eval-scenes`),
 * and its class accuracy per property edit.
 *
 * ```sh
 * deno run -A eval/classifier_confusions.ts [eval/weights/world_nets.safetensors]
 * ```
 *
 * @module
 */
import { initBackend } from "./deps.ts";
import { WorldClassifier } from "./world_classifier.ts";
import { datasetImages, loadChunks } from "./_dataset.ts";
await initBackend({ quiet: true });
const path = Deno.args[0] ?? "eval/weights/world_nets.safetensors";
using c = await WorldClassifier.load(new URL(path, `file://${Deno.cwd()}/`));
const ds = await loadChunks("runs/eval/scenes", "test");
const n = ds.classNoun.length;
if (n === 0) {
  throw new RangeError(
    "Cannot measure as 'runs/eval/scenes' has no test chunks: run deno task render-eval-scenes first",
  );
}
const images = datasetImages(ds);
const out = c.classify(images);
const count = (a: string[], b: string[]) => {
  const m = new Map<string, number>();
  let ok = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) ok++;
    else m.set(`${a[i]} → ${b[i]}`, (m.get(`${a[i]} → ${b[i]}`) ?? 0) + 1);
  }
  return { acc: ok / n, top: [...m].sort((x, y) => y[1] - x[1]).slice(0, 15) };
};
const cls = count(ds.classNoun, out.classNoun);
console.log("class", cls.acc.toFixed(3), JSON.stringify(cls.top));
const prop = count(ds.property.map((p) => p ?? "none"), out.property.map((p) => p ?? "none"));
console.log("property", prop.acc.toFixed(3), JSON.stringify(prop.top));
const ctx = count(ds.context, out.context);
console.log("context", ctx.acc.toFixed(3), JSON.stringify(ctx.top));
// Class accuracy by property edit.
const byProp = new Map<string, [number, number]>();
for (let i = 0; i < n; i++) {
  const k = ds.property[i] ?? "none";
  const v = byProp.get(k) ?? [0, 0];
  v[0] += ds.classNoun[i] === out.classNoun[i] ? 1 : 0;
  v[1]++;
  byProp.set(k, v);
}
console.log(
  "class accuracy by property:",
  [...byProp].map(([k, [a, b]]) => `${k} ${(a / b).toFixed(2)} (${b})`).join(", "),
);
