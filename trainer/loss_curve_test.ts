import assert from "assert";
import { lossCurveSvg, saveLossCurve } from "./loss_curve.ts";

Deno.test("lossCurveSvg: raw and EMA lines, non-finite points skipped, empty data says so", () => {
  const pts = Array.from(
    { length: 50 },
    (_, i) => ({ step: i + 1, loss: 1 / (i + 1), lossEma: 1.5 / (i + 1) }),
  );
  pts.push({ step: 51, loss: NaN, lossEma: NaN });
  const svg = lossCurveSvg(pts, { title: "a & b" });
  assert.equal(svg.match(/<polyline/g)?.length, 2);
  assert.match(svg, /a &amp; b/);
  assert.doesNotMatch(svg, /NaN/);
  assert.match(svg, /step 50/);
  assert.match(lossCurveSvg([]), /no data yet/);
  // Zero or negative losses fall back to a linear axis.
  assert.equal(
    lossCurveSvg([{ step: 1, loss: 0 }, { step: 2, loss: -1 }]).match(/<polyline/g)?.length,
    1,
  );
});

Deno.test("saveLossCurve: writes a PNG of the requested size", async () => {
  const path = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await saveLossCurve(path, [{ step: 1, loss: 0.3 }, { step: 2, loss: 0.2 }], {
      width: 300,
      height: 200,
    });
    const bytes = await Deno.readFile(path);
    assert.deepEqual([...bytes.subarray(1, 4)], [80, 78, 71]);
    const view = new DataView(bytes.buffer);
    assert.deepEqual([view.getUint32(16), view.getUint32(20)], [300, 200]);
  } finally {
    await Deno.remove(path);
  }
});
