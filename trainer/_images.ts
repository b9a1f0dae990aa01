// Private image helpers of the training jobs (exported as imagesToTensor for training/ and dreambooth/).
import { type FloatImage, tf } from "./deps.ts";

/** Float images (same size) as one `[B, H, W, 3]` tensor, owned by the caller. */
export function imagesToTensor(images: FloatImage[]): tf.Tensor4D {
  const { width: w, height: h } = images[0];
  const data = new Float32Array(images.length * w * h * 3);
  images.forEach((im, i) => data.set(im.data, i * w * h * 3));
  return tf.tensor4d(data, [images.length, h, w, 3]);
}
