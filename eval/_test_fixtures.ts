// Private test fixtures: synthetic images and a fake classifier.
import type { RgbImage } from "./deps.ts";
import type { ImageClassifier } from "./prompt_fidelity.ts";

/** A `size`² image of a background colour with a centred square of another colour. */
export function squareImage(
  size: number,
  background: readonly [number, number, number],
  square: readonly [number, number, number],
  side = Math.floor(size / 2),
): RgbImage {
  const data = new Float32Array(size * size * 3);
  const lo = Math.floor((size - side) / 2);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= lo && x < lo + side && y >= lo && y < lo + side;
      data.set(inside ? square : background, (y * size + x) * 3);
    }
  }
  return { data, width: size, height: size };
}

/** A classifier that reads fixed labels for every image. */
export function fakeClassifier(
  labels: { classNoun: string; context: string; property: string | null },
): ImageClassifier {
  return {
    classes: ["dog", "cat"],
    contexts: ["beach", "snow"],
    properties: ["none", "red"],
    classify: (ims) => ({
      classNoun: ims.map(() => labels.classNoun),
      context: ims.map(() => labels.context),
      property: ims.map(() => labels.property),
      classProbs: new Float32Array(ims.length * 2),
      contextProbs: new Float32Array(ims.length * 2),
      propertyProbs: new Float32Array(ims.length * 2),
    }),
  };
}
