/**
 * Private: the parts of diffusers' DDPM and DDIM scheduler configs both schedulers share (betas,
 * prediction type, clipping and thresholding, timestep spacing), read and validated.
 *
 * @module
 */

/** What a DDPM/DDIM `scheduler_config.json` says about training noise and x̂ post-processing. */
export interface SharedSchedulerConfig {
  readonly numTrainTimesteps: number;
  readonly betaSchedule: "linear" | "scaled_linear" | "squaredcos_cap_v2";
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly trainedBetas: readonly number[] | null;
  readonly predictionType: "epsilon" | "sample" | "v_prediction";
  readonly clipSample: boolean;
  readonly clipSampleRange: number;
  readonly thresholding: boolean;
  readonly dynamicThresholdingRatio: number;
  readonly sampleMaxValue: number;
  readonly timestepSpacing: "leading" | "linspace" | "trailing";
  readonly stepsOffset: number;
}

/** Throws a RangeError naming the scheduler field and its value. */
export function refuseField(what: string, field: string, value: unknown, why: string): never {
  throw new RangeError(
    `Cannot build a ${what} scheduler as '${field}' ${why}: current value is ${
      JSON.stringify(value)
    }`,
  );
}

/** Reads the shared fields with diffusers v0.21's defaults. */
export function readSharedConfig(
  what: string,
  json: Record<string, unknown>,
): SharedSchedulerConfig {
  const get = (k: string, d: unknown) => (k in json && json[k] !== undefined ? json[k] : d);
  const oneOf = <T extends string>(k: string, d: T, allowed: readonly T[]): T => {
    const v = get(k, d) as T;
    if (!allowed.includes(v)) refuseField(what, k, v, `must be one of ${allowed.join(", ")}`);
    return v;
  };
  const number = (k: string, d: number, min = -Infinity) => {
    const v = get(k, d);
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
      refuseField(what, k, v, `must be a number ≥ ${min}`);
    }
    return v;
  };
  const flag = (k: string, d: boolean) => {
    const v = get(k, d);
    if (typeof v !== "boolean") refuseField(what, k, v, "must be a boolean");
    return v;
  };
  const n = number("num_train_timesteps", 1000, 1);
  if (!Number.isInteger(n)) refuseField(what, "num_train_timesteps", n, "must be an integer");
  const tb = get("trained_betas", null);
  if (tb !== null && (!Array.isArray(tb) || tb.length !== n)) {
    refuseField(what, "trained_betas", tb, `must be null or ${n} numbers`);
  }
  const offset = number("steps_offset", 0, 0);
  const ratio = number("dynamic_thresholding_ratio", 0.995, 0);
  if (ratio > 1) refuseField(what, "dynamic_thresholding_ratio", ratio, "must be in [0, 1]");
  return Object.freeze({
    numTrainTimesteps: n,
    betaSchedule: oneOf(
      "beta_schedule",
      "linear",
      [
        "linear",
        "scaled_linear",
        "squaredcos_cap_v2",
      ] as const,
    ),
    betaStart: number("beta_start", 0.0001, 0),
    betaEnd: number("beta_end", 0.02, 0),
    trainedBetas: tb as number[] | null,
    predictionType: oneOf(
      "prediction_type",
      "epsilon",
      [
        "epsilon",
        "sample",
        "v_prediction",
      ] as const,
    ),
    clipSample: flag("clip_sample", true),
    clipSampleRange: number("clip_sample_range", 1, 0),
    thresholding: flag("thresholding", false),
    dynamicThresholdingRatio: ratio,
    sampleMaxValue: number("sample_max_value", 1, 1),
    timestepSpacing: oneOf(
      "timestep_spacing",
      "leading",
      ["leading", "linspace", "trailing"] as const,
    ),
    stepsOffset: offset,
  });
}
