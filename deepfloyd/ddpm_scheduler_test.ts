import assert from "assert";
import { initBackend, type NamedTensor, tf } from "./deps.ts";
import { fixture, maxRelativeError, nhwc, readFixture, TESTDATA } from "./_test_util.ts";
import { alphasCumprod, cosineBetas, DDPMScheduler } from "./ddpm_scheduler.ts";
import { DDIMScheduler } from "./ddim_scheduler.ts";
import { readJsonFile } from "./diffusers_folder.ts";

await initBackend({ quiet: true });

const traj = await readFixture("scheduler_trajectories.safetensors");
const meta = await readJsonFile(`${TESTDATA}scheduler_trajectories.json`) as Record<
  string,
  { timesteps: number[]; config: Record<string, unknown> }
>;
const ifConfig = await readJsonFile(`${TESTDATA}if_tiny_i/scheduler/scheduler_config.json`);

/** Row k of a stacked `[S, B, C, H, W]` fixture as an NHWC tensor. */
function row(t: NamedTensor, k: number): tf.Tensor4D {
  const [, ...shape] = t.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  return nhwc({ shape, data: (t.data as Float32Array).subarray(k * size, (k + 1) * size) });
}

/** The fixture's toy model: channels [0.8 x + a_k, tanh(b_k)]. */
function toyModel(x: tf.Tensor4D, k: number, withVariance: boolean): tf.Tensor4D {
  return tf.tidy(() => {
    const eps = tf.add(tf.mul(x, 0.8), row(fixture(traj, "a"), k));
    return (withVariance
      ? tf.concat([eps, tf.tanh(row(fixture(traj, "b"), k))], 3)
      : eps) as tf.Tensor4D;
  });
}

async function run(
  name: string,
  scheduler: DDPMScheduler | DDIMScheduler,
  withVariance: boolean,
): Promise<number> {
  const steps = 5;
  const ts = scheduler.timesteps(steps);
  assert.deepEqual(ts, meta[name].timesteps);
  let x = nhwc(fixture(traj, "x_T"));
  let worst = 0;
  for (let k = 0; k < steps; k++) {
    const out = toyModel(x, k, withVariance);
    const noise = row(fixture(traj, "noise"), k);
    const r = await scheduler.step(out, ts[k], x, { steps, noise });
    const want = row(fixture(traj, name), k);
    worst = Math.max(worst, maxRelativeError(r.prevSample.dataSync(), want.dataSync()));
    tf.dispose([out, noise, want, x, r.predOriginalSample]);
    x = r.prevSample;
  }
  x.dispose();
  return worst;
}

Deno.test("cosine betas and ᾱ equal diffusers' squaredcos_cap_v2 (float32)", () => {
  const s = new DDPMScheduler(ifConfig);
  const want = fixture(traj, "alphas_cumprod").data as Float32Array;
  assert.ok(maxRelativeError(s.alphasCumprod, want) < 1e-6);
  assert.equal(cosineBetas(1000)[999], Math.fround(0.999));
  assert.equal(alphasCumprod(s.config).length, 1000);
});

Deno.test("DDPM learned_range + dynamic thresholding: 5-step trajectory equals diffusers within 1e-3", async () => {
  const before = tf.memory().numTensors;
  const err = await run("ddpm_learned_range", new DDPMScheduler(ifConfig), true);
  console.log(`DDPM learned_range max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-3, `max relative error ${err}`);
  assert.equal(tf.memory().numTensors, before, "leaked tensors");
});

Deno.test("DDPM sampled as fixed_small (diffusers' IF DreamBooth): 5-step trajectory within 1e-3", async () => {
  const s = new DDPMScheduler(ifConfig, { variance_type: "fixed_small" });
  // The variance channels are dropped for a fixed variance, as IF's pipeline does.
  const err = await run("ddpm_fixed_small", s, true);
  console.log(`DDPM fixed_small max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-3, `max relative error ${err}`);
});

Deno.test("DDIM (leading, steps_offset 1, thresholding): 5-step trajectory equals diffusers within 1e-3", async () => {
  const err = await run("ddim", new DDIMScheduler(meta.ddim.config), false);
  console.log(`DDIM max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-3, `max relative error ${err}`);
});

Deno.test("schedulers refuse what they do not implement, naming field and value", () => {
  assert.throws(
    () => new DDPMScheduler({ variance_type: "learned" }),
    /'variance_type'.*"learned"/,
  );
  assert.throws(
    () => new DDPMScheduler({ beta_schedule: "sigmoid" }),
    /'beta_schedule'.*"sigmoid"/,
  );
  assert.throws(
    () => new DDPMScheduler({ _class_name: "PNDMScheduler" }),
    /'_class_name'.*"PNDMScheduler"/,
  );
  assert.throws(
    () => new DDPMScheduler({ timestep_spacing: "karras" }),
    /'timestep_spacing'.*"karras"/,
  );
  assert.throws(
    () => new DDIMScheduler({ rescale_betas_zero_snr: true }),
    /'rescale_betas_zero_snr'.*true/,
  );
  assert.throws(() => new DDPMScheduler({}).timesteps(0), /'steps'.*0/);
});

Deno.test("timestep spacings match diffusers' set_timesteps", () => {
  const sp = (timestep_spacing: string, extra = {}) =>
    new DDPMScheduler({ timestep_spacing, ...extra });
  assert.deepEqual(sp("leading").timesteps(5), [800, 600, 400, 200, 0]);
  assert.deepEqual(sp("leading", { steps_offset: 1 }).timesteps(3), [667, 334, 1]);
  assert.deepEqual(sp("linspace").timesteps(4), [999, 666, 333, 0]);
  assert.deepEqual(sp("trailing").timesteps(3), [999, 666, 332]);
});
