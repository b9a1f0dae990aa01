import assert from "assert";
import { evaluateSubject } from "./evaluate_subject.ts";
import { writeEvalReport } from "./write_eval_report.ts";
import { ForegroundColorEmbedder } from "./foreground_color_embedder.ts";
import { fakeClassifier, squareImage } from "./_test_fixtures.ts";

Deno.test("writeEvalReport writes metrics.json, an offline index.html and one grid per prompt", async () => {
  const red = squareImage(32, [-1, -1, 1], [1, -1, -1], 12);
  const result = await evaluateSubject({ name: "sq", classNoun: "dog", images: [red, red] }, {
    generate: (_p, seeds) => Promise.resolve(seeds.map(() => red)),
    classifier: fakeClassifier({ classNoun: "dog", context: "beach", property: null }),
    embedder: new ForegroundColorEmbedder(),
    samplesPerPrompt: 2,
    presSamples: 2,
    prompts: [
      {
        template: "a {0} {1} on the beach",
        prompt: "a sks dog on the beach",
        context: "beach",
        property: null,
      },
      {
        template: "a {0} {1} in the snow",
        prompt: "a sks dog in the snow <b>",
        context: "snow",
        property: null,
      },
    ],
  });
  const dir = await Deno.makeTempDir();
  try {
    const files = await writeEvalReport(dir, result, {
      realImages: [red],
      info: { model: "fixture" },
    });
    assert.equal(files.grids.length, 4); // real, 2 prompts, PRES
    const html = await Deno.readTextFile(files.html);
    assert.ok(html.includes("a sks dog on the beach"));
    assert.ok(html.includes("&lt;b&gt;"), "prompts are escaped");
    assert.ok(!/https?:\/\//.test(html), "no remote resources");
    assert.ok(!html.includes("<script"));
    for (const m of html.matchAll(/src="([^"]+)"/g)) await Deno.stat(`${dir}/${m[1]}`);
    const json = JSON.parse(await Deno.readTextFile(files.json));
    assert.equal(json.prompts.length, 2);
    assert.equal(json.summary.promptFidelity.estimate, 0.5);
    assert.equal(json.info.model, "fixture");
    assert.ok(!("images" in json.prompts[0]), "no pixels in the JSON");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeEvalReport validates its inputs", async () => {
  // deno-lint-ignore no-explicit-any
  await assert.rejects(() => writeEvalReport("", {} as any), /'dir'/);
  // deno-lint-ignore no-explicit-any
  await assert.rejects(() => writeEvalReport("/tmp/x", {} as any), /'result'/);
});
