/**
 * DreamBooth on DeepFloyd IF (Ruiz et al. 2022, Eq. 2, in IF's ε parameterisation as diffusers'
 * `train_dreambooth_lora.py` trains it): deepfloyd/'s `ifTrainingPrediction` runs the UNet on the
 * noised instance and class rows, and {@link dreamboothLoss} (the one Eq. 2 of this project, with
 * the ε-uniform weighting, i.e. ‖ε̂ − ε‖²) combines them.
 *
 * @module
 */
import {
  type Adam,
  type DDPMScheduler,
  type IFDreamBoothLossOptions,
  type IFTrainBatch,
  ifTrainingPrediction,
  type IFUNet,
  tf,
} from "./deps.ts";
import { dreamboothLoss } from "./dreambooth_loss.ts";

/**
 * The DreamBooth loss of one IF step: E‖ε̂(x_t, c) − ε‖² over the instance batch plus
 * `priorLossWeight` × the same over the class batch (Eq. 2), t ~ U{0, …, T − 1}.
 *
 * @param unet The UNet (its trainable variables get gradients; call inside `minimize`).
 * @param scheduler Gives ᾱ_t (the stage's DDPM scheduler).
 * @param instance The subject's images and prompt embeddings.
 * @param prior The class images and embeddings, or null (no prior preservation).
 * @param options Seed, λ and stage II's augmentation.
 * @returns The scalar loss, owned by the caller.
 */
export function ifDreamBoothLoss(
  unet: IFUNet,
  scheduler: DDPMScheduler,
  instance: IFTrainBatch,
  prior: IFTrainBatch | null,
  options: IFDreamBoothLossOptions,
): tf.Scalar {
  const p = ifTrainingPrediction(unet, scheduler, prior ? [instance, prior] : [instance], options);
  try {
    const r = dreamboothLoss(p.prediction, {
      prediction: "epsilon",
      weighting: "epsilon",
      xStart: p.xStart,
      noise: p.noise,
      logSnr: p.logSnr,
      numInstance: instance.images.shape[0],
      priorLossWeight: options.priorLossWeight ?? 1,
    });
    tf.dispose([r.instance, r.prior]);
    return r.loss;
  } finally {
    tf.dispose([p.prediction, p.xStart, p.noise]);
  }
}

/**
 * One DreamBooth optimisation step on an IF UNet: gradients of {@link ifDreamBoothLoss} with
 * respect to `variables` (default the UNet's LoRA adapters, see `IFUNet.initLoRA`; all weights
 * with `IFUNet.trainableWeights()`), one Adam update.
 *
 * @param unet The UNet.
 * @param adam The optimizer (backend's `createAdam`).
 * @param scheduler The stage's DDPM scheduler.
 * @param batches `{ instance, prior }` (prior null: no prior preservation).
 * @param options The loss options and `variables`.
 * @returns The loss before the update.
 */
export async function ifDreamBoothStep(
  unet: IFUNet,
  adam: Adam,
  scheduler: DDPMScheduler,
  batches: { instance: IFTrainBatch; prior: IFTrainBatch | null },
  options: IFDreamBoothLossOptions & { variables?: tf.Variable[] },
): Promise<number> {
  const variables = options.variables ?? unet.loraVariables();
  if (variables.length === 0) {
    throw new RangeError(
      `Cannot train as there is nothing to train: add LoRA adapters (initLoRA) or pass 'variables'`,
    );
  }
  const loss = adam.minimize(
    () => ifDreamBoothLoss(unet, scheduler, batches.instance, batches.prior, options),
    variables,
  );
  const value = (await loss.data())[0];
  loss.dispose();
  return value;
}
