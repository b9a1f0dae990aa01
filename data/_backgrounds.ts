// Private procedural backgrounds, one per context of SCENE_CONTEXTS. Each draws on a canvas in
// normalised coordinates with its own seeded randomness and returns where the ground starts
// (`horizon`, a v coordinate) so that the object can stand on it.
import { type Canvas, fbm, hex, lattice, mix, type Rgb, shade, valueNoise } from "./_canvas.ts";
import type { Rng } from "./_world_rng.ts";

export interface Background {
  /** v where the ground/surface begins (objects stand below it). */
  horizon: number;
}

type Draw = (c: Canvas, r: Rng, seed: number) => Background;

function jitter(r: Rng, c: Rgb, amount = 0.08): Rgb {
  const f = 1 + r.uniform(-amount, amount);
  return [c[0] * f + r.uniform(-0.03, 0.03), c[1] * f + r.uniform(-0.03, 0.03), c[2] * f];
}

function sky(c: Canvas, r: Rng, horizon: number): void {
  const top = jitter(r, r.chance(0.75) ? hex("#4a90d9") : hex("#8fb3d9"));
  c.gradient(0, horizon, top, mix(top, hex("#f2f6fa"), 0.65));
  // A few soft clouds.
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const cu = r.uniform(0, 1), cv = r.uniform(0.05, horizon * 0.6), s = r.uniform(0.05, 0.1);
    for (let k = 0; k < 4; k++) {
      c.ellipse(
        cu + (k - 1.5) * s * 0.8,
        cv + r.uniform(-0.3, 0.3) * s,
        s,
        s * 0.55,
        hex("#ffffff"),
        0.85,
      );
    }
  }
}

function leaf(c: Canvas, u: number, v: number, size: number, col: Rgb, angle: number): void {
  c.ellipse(u, v, size, size * 0.38, col, 1, angle);
  c.line(
    u - Math.cos(angle) * size * 0.9,
    v - Math.sin(angle) * size * 0.9,
    u + Math.cos(angle) * size * 0.9,
    v + Math.sin(angle) * size * 0.9,
    size * 0.06,
    shade(col, 0.7),
  );
}

const jungle: Draw = (c, r, seed) => {
  c.gradient(0, 1, hex("#163f1c"), hex("#0c2410"));
  c.noise(0, 1, 0.25, 5, seed);
  // Light through the canopy.
  for (let i = 0; i < 3; i++) {
    c.ellipse(r.uniform(0, 1), r.uniform(0, 0.4), 0.2, 0.12, hex("#a5d66a"), 0.18);
  }
  // Tree trunks and hanging vines.
  for (let i = 0; i < 3; i++) {
    const u = r.uniform(0, 1), w = r.uniform(0.03, 0.07);
    c.rect(u, 0, u + w, 0.85, hex("#3b2a17"), 0.9);
  }
  for (let i = 0; i < 6; i++) {
    const u = r.uniform(0, 1);
    c.line(u, 0, u + r.uniform(-0.05, 0.05), r.uniform(0.3, 0.7), 0.008, hex("#2f5d1e"));
  }
  // Big leaves in many greens, denser at the edges and bottom.
  const greens = ["#2e7d32", "#43a047", "#1b5e20", "#66bb6a", "#558b2f", "#7cb342"].map(hex);
  for (let i = 0; i < 70; i++) {
    const u = r.uniform(-0.05, 1.05), v = r.chance(0.5) ? r.uniform(0, 1) : r.uniform(0.7, 1.05);
    leaf(c, u, v, r.uniform(0.04, 0.11), jitter(r, r.pick(greens)), r.uniform(0, Math.PI));
  }
  return { horizon: 0.7 };
};

const snow: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.45, 0.6);
  c.gradient(0, horizon, jitter(r, hex("#9fb4c8")), hex("#e4ebf2"));
  // Distant snowy pines.
  for (let i = 0; i < 10; i++) {
    const u = r.uniform(0, 1), hgt = r.uniform(0.08, 0.18), w = hgt * 0.4;
    c.polygon(
      [[u, horizon - hgt], [u - w, horizon + 0.01], [u + w, horizon + 0.01]],
      hex("#2f4a3a"),
    );
    c.polygon([[u, horizon - hgt], [u - w * 0.4, horizon - hgt * 0.6], [
      u + w * 0.4,
      horizon - hgt * 0.6,
    ]], hex("#f5f8fb"));
  }
  c.gradient(horizon, 1, hex("#e9f0f7"), hex("#fbfdff"));
  c.noise(horizon, 1, 0.05, 6, seed);
  // Snow drifts with blue shadows.
  for (let i = 0; i < 4; i++) {
    c.ellipse(
      r.uniform(0, 1),
      r.uniform(horizon + 0.1, 1),
      r.uniform(0.15, 0.35),
      0.04,
      hex("#c9d8ea"),
      0.5,
    );
  }
  // Falling snow.
  for (let i = 0; i < 90; i++) {
    c.ellipse(r.uniform(), r.uniform(), 0.006, 0.006, hex("#ffffff"), 0.9);
  }
  return { horizon };
};

const beach: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.35, 0.45);
  sky(c, r, horizon);
  const sea = r.uniform(0.1, 0.18);
  c.gradient(horizon, horizon + sea, hex("#1565a8"), hex("#2a9fd6"));
  c.each(horizon, horizon + sea, (u, v, p) => {
    const w = Math.sin(u * 60 + v * 200 + valueNoise(u * 8, v * 40, seed) * 6);
    if (w > 0.85) c.blend(p, hex("#e3f4ff"), 0.5);
  });
  c.gradient(horizon + sea, 1, hex("#e6cf96"), hex("#f1dcaa"));
  c.noise(horizon + sea, 1, 0.08, 14, seed + 1);
  // Foam line where the waves reach the sand.
  c.each(horizon + sea - 0.01, horizon + sea + 0.05, (u, v, p) => {
    const edge = horizon + sea + 0.02 + 0.015 * Math.sin(u * 25 + seed);
    if (v < edge) c.blend(p, hex("#ffffff"), 0.8);
  });
  if (r.chance(0.5)) {
    // A palm-less beach umbrella or a starfish, for variety.
    const u = r.uniform(0.05, 0.95);
    c.ellipse(u, r.uniform(0.8, 0.95), 0.025, 0.025, hex("#e8703a"), 1);
  }
  return { horizon: horizon + sea };
};

const cobblestone: Draw = (c, _r, seed) => {
  c.each(0, 1, (u, v, p) => {
    // A ground plane in perspective (horizon above the frame): stones of one size in the world.
    const z = 1 / (v + 0.4);
    const y = z * 12 + 20;
    const row = Math.floor(y);
    const x = (u - 0.5) * z * 12 + (row % 2) * 0.5 + lattice(row, 7, seed);
    const col = Math.floor(x);
    const h = lattice(row, col, seed);
    const fx = x - col - 0.5 + (h - 0.5) * 0.1, fy = y - row - 0.5;
    // Rounded-square stones: a superellipse distance.
    const fx2 = fx * fx, fy2 = fy * fy;
    const d = Math.sqrt(Math.sqrt(fx2 * fx2 + fy2 * fy2));
    const base = mix(hex("#8a857c"), hex("#b5ada0"), h);
    const f = 0.85 + 0.3 * valueNoise(u * 30, v * 30, seed + 3) - 0.35 * d * d - 0.12 * fy;
    const t = Math.min(1, Math.max(0, (0.44 - d) / 0.06));
    const gap = 0.3 + 0.1 * h;
    const k = gap + (f - gap) * t;
    c.data[3 * p] = base[0] * k, c.data[3 * p + 1] = base[1] * k, c.data[3 * p + 2] = base[2] * k;
  });
  // House fronts at the far end of the street.
  c.gradient(0, 0.12, hex("#b08968"), hex("#8a6d55"));
  for (let u = 0.03; u < 1; u += 0.12) c.rect(u, 0.03, u + 0.05, 0.09, hex("#3d4a57"), 0.9);
  return { horizon: 0.2 };
};

const pinkFabric: Draw = (c, r, seed) => {
  const base = jitter(r, hex("#f48fb1"), 0.06);
  const a = r.uniform(0, Math.PI), ca = Math.cos(a), sa = Math.sin(a);
  c.each(0, 1, (u, v, p) => {
    const s = u * ca + v * sa;
    const fold = Math.sin(s * 9 + 3 * fbm(u * 2, v * 2, seed, 2)) * 0.5 + 0.5;
    const weave = 0.04 * Math.sin(u * 300) * Math.sin(v * 300);
    const f = 0.72 + 0.38 * fold + weave;
    c.data[3 * p] = base[0] * f, c.data[3 * p + 1] = base[1] * f, c.data[3 * p + 2] = base[2] * f;
  });
  return { horizon: 0 };
};

const woodenFloor: Draw = (c, r, seed) => {
  const wall = r.uniform(0.15, 0.3);
  c.gradient(0, wall, jitter(r, hex("#e8dcc8")), hex("#d6c7ae"));
  c.rect(0, wall - 0.025, 1, wall, hex("#f7f2ea"));
  const tone = jitter(r, r.chance(0.5) ? hex("#a0683a") : hex("#c08a55"), 0.1);
  c.each(wall, 1, (u, v, p) => {
    const depth = 0.4 + (v - wall) / (1 - wall) * 0.8;
    const y = (v - wall) * 7 / depth;
    const row = Math.floor(y);
    const x = (u - 0.5) * 3 / depth + lattice(row, 11, seed);
    const board = Math.floor(x);
    const h = lattice(row, board, seed);
    const grain = 0.5 + 0.5 * Math.sin(x * 40 + 8 * fbm(x * 3, y * 12, seed + row, 2));
    const f = (0.8 + 0.3 * h) * (0.9 + 0.12 * grain);
    const edge = Math.min(y - row, 1 - (y - row)) < 0.04 ||
      Math.min(x - board, 1 - (x - board)) < 0.006;
    const k = edge ? 0.45 : f;
    c.data[3 * p] = tone[0] * k, c.data[3 * p + 1] = tone[1] * k, c.data[3 * p + 2] = tone[2] * k;
  });
  return { horizon: wall };
};

const city: Draw = (c, r, _seed) => {
  const horizon = r.uniform(0.6, 0.72);
  const dusk = r.chance(0.3);
  c.gradient(
    0,
    horizon,
    dusk ? hex("#3a3f7a") : jitter(r, hex("#5a9bd8")),
    dusk ? hex("#f0a070") : hex("#dbe9f5"),
  );
  for (const layer of [0, 1]) {
    let u = -0.05;
    while (u < 1) {
      const w = r.uniform(0.06, 0.14), top = r.uniform(0.12, 0.45) + layer * 0.12;
      const col = layer === 0
        ? jitter(r, hex("#8796a8"))
        : jitter(r, r.pick(["#4f5b6b", "#5d6d7e", "#6b5b56", "#3e4a5a"].map(hex)));
      c.rect(u, top, u + w, horizon, col);
      if (layer === 1) {
        const lit = dusk ? hex("#ffd27a") : hex("#cfe3f2");
        for (let wy = top + 0.02; wy < horizon - 0.03; wy += 0.045) {
          for (let wx = u + 0.012; wx < u + w - 0.015; wx += 0.03) {
            if (r.chance(0.75)) c.rect(wx, wy, wx + 0.015, wy + 0.022, lit, 0.9);
          }
        }
      }
      u += w + r.uniform(0, 0.02);
    }
  }
  c.gradient(horizon, 1, hex("#6f6f6f"), hex("#4a4a4a"));
  c.rect(0, horizon, 1, horizon + 0.015, hex("#b5b5b5"));
  return { horizon };
};

const mountain: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.55, 0.68);
  sky(c, r, horizon);
  const layers: Array<[string, number]> = [["#8aa0b8", 0.12], ["#5d7288", 0.22]];
  for (const [col, top] of layers) {
    const peaks = 1 + r.int(3);
    for (let k = 0; k < peaks; k++) {
      const pu = r.uniform(0.05, 0.95), pv = top + r.uniform(0, 0.12), w = r.uniform(0.3, 0.55);
      const pts: Array<[number, number]> = [[pu - w, horizon + 0.02]];
      for (let s = 1; s < 8; s++) {
        const t = s / 8, uu = pu - w + t * w * 2;
        const vv = pv + Math.abs(t - 0.5) * 2 * (horizon - pv) +
          (valueNoise(t * 6, k, seed) - 0.5) * 0.04;
        pts.push([uu, vv]);
      }
      pts.push([pu + w, horizon + 0.02]);
      c.polygon(pts, jitter(r, hex(col), 0.05));
      // Snow cap.
      const cap = (horizon - pv) * 0.3;
      c.polygon([[pu, pv], [pu - w * 0.3 * cap / (horizon - pv) * 3.3, pv + cap], [
        pu,
        pv + cap * 0.8,
      ], [pu + w * 0.3 * cap / (horizon - pv) * 3.3, pv + cap]], hex("#f4f7fa"));
    }
  }
  c.gradient(horizon, 1, hex("#6f9e4a"), hex("#4f7d34"));
  c.noise(horizon, 1, 0.12, 12, seed + 5);
  return { horizon };
};

const blueHouse: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.62, 0.72);
  sky(c, r, horizon);
  c.gradient(horizon, 1, hex("#6aa84f"), hex("#4c8a35"));
  c.noise(horizon, 1, 0.1, 14, seed);
  const left = r.chance(0.5);
  const w = r.uniform(0.45, 0.6), u0 = left ? r.uniform(-0.05, 0.1) : 1 - w - r.uniform(-0.05, 0.1);
  const top = r.uniform(0.3, 0.4);
  const blue = jitter(r, hex("#3f7fcf"), 0.1);
  c.rect(u0, top, u0 + w, horizon + 0.02, blue);
  // Siding lines.
  for (let v = top + 0.03; v < horizon; v += 0.03) {
    c.rect(u0, v, u0 + w, v + 0.004, shade(blue, 0.85));
  }
  c.polygon(
    [[u0 - 0.04, top], [u0 + w / 2, top - 0.2], [u0 + w + 0.04, top]],
    jitter(r, hex("#7a3b2e")),
  );
  const wc = hex("#f5f5f0");
  c.rect(u0 + w * 0.42, horizon - 0.17, u0 + w * 0.58, horizon + 0.02, hex("#ffffff"));
  c.rect(u0 + w * 0.44, horizon - 0.155, u0 + w * 0.56, horizon + 0.02, hex("#8b5a2b"));
  for (const fu of [0.12, 0.7]) {
    c.rect(u0 + w * fu, top + 0.07, u0 + w * (fu + 0.18), top + 0.17, wc);
    c.rect(u0 + w * (fu + 0.02), top + 0.08, u0 + w * (fu + 0.16), top + 0.16, hex("#9cc7e8"));
  }
  return { horizon };
};

function tree(c: Canvas, r: Rng, u: number, base: number, height: number, leaves: Rgb[]): void {
  c.rect(u - height * 0.06, base - height * 0.6, u + height * 0.06, base, hex("#5a3d22"));
  for (let i = 0; i < 14; i++) {
    c.ellipse(
      u + r.uniform(-0.3, 0.3) * height,
      base - height * r.uniform(0.55, 1),
      height * r.uniform(0.15, 0.28),
      height * r.uniform(0.12, 0.22),
      jitter(r, r.pick(leaves)),
    );
  }
}

const purpleRugForest: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.5, 0.6);
  c.gradient(0, horizon, hex("#7fae8a"), hex("#b9d4b0"));
  const greens = ["#2e6b34", "#3f8a3f", "#25552a", "#4f7f3a"].map(hex);
  for (let i = 0; i < 9; i++) {
    tree(c, r, r.uniform(0, 1), horizon + r.uniform(0, 0.05), r.uniform(0.4, 0.7), greens);
  }
  c.gradient(horizon, 1, hex("#5b6e36"), hex("#3f4f25"));
  c.noise(horizon, 1, 0.15, 12, seed);
  // The rug, in perspective, under where the object stands.
  const purple = jitter(r, hex("#7b3fa8"), 0.1);
  const t = horizon + 0.15, b = 0.99;
  c.polygon([[0.25, t], [0.75, t], [0.98, b], [0.02, b]], purple);
  c.polygon(
    [[0.29, t + 0.03], [0.71, t + 0.03], [0.9, b - 0.04], [0.1, b - 0.04]],
    shade(purple, 0.75),
  );
  c.polygon(
    [[0.33, t + 0.06], [0.67, t + 0.06], [0.82, b - 0.08], [0.18, b - 0.08]],
    mix(purple, hex("#e0b0ff"), 0.3),
  );
  return { horizon: t + 0.1 };
};

const wheatField: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.4, 0.55);
  sky(c, r, horizon);
  const gold = jitter(r, hex("#d9b44a"), 0.08);
  c.each(horizon, 1, (u, v, p) => {
    const depth = (v - horizon) / (1 - horizon);
    const stalk = 0.5 +
      0.5 * Math.sin(u * (400 - depth * 250) + 5 * valueNoise(u * 20, v * 5, seed));
    const head = fbm(u * 40, v * (20 + depth * 20), seed + 1, 2);
    const f = 0.7 + 0.2 * stalk * depth + 0.35 * head;
    c.data[3 * p] = gold[0] * f, c.data[3 * p + 1] = gold[1] * f, c.data[3 * p + 2] = gold[2] * f;
  });
  // Ears of wheat in the foreground.
  for (let i = 0; i < 40; i++) {
    const u = r.uniform(), v = r.uniform(horizon + 0.2, 1.05), len = r.uniform(0.06, 0.12);
    c.line(u, v, u + r.uniform(-0.02, 0.02), v - len, 0.006, hex("#b08a2e"));
    c.ellipse(u, v - len, 0.01, 0.03, hex("#e8c65a"), 1, r.uniform(-0.3, 0.3) + Math.PI / 2);
  }
  return { horizon: horizon + 0.1 };
};

const autumnTree: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.6, 0.7);
  sky(c, r, horizon);
  c.gradient(horizon, 1, hex("#7a8f3a"), hex("#5f7030"));
  c.noise(horizon, 1, 0.12, 12, seed);
  const autumn = ["#d35400", "#e67e22", "#c0392b", "#f1c40f", "#e59b2f", "#a8401c"].map(hex);
  const u = r.chance(0.5) ? r.uniform(0.15, 0.35) : r.uniform(0.65, 0.85);
  const h = r.uniform(0.55, 0.7);
  c.rect(u - 0.04, horizon - h * 0.45, u + 0.04, horizon + 0.03, hex("#4e3320"));
  c.line(u, horizon - h * 0.35, u - 0.15, horizon - h * 0.7, 0.025, hex("#4e3320"));
  c.line(u, horizon - h * 0.35, u + 0.14, horizon - h * 0.75, 0.025, hex("#4e3320"));
  for (let i = 0; i < 45; i++) {
    c.ellipse(
      u + r.uniform(-0.3, 0.3),
      horizon - h * r.uniform(0.5, 1.0),
      r.uniform(0.05, 0.1),
      r.uniform(0.04, 0.08),
      jitter(r, r.pick(autumn)),
    );
  }
  // Fallen leaves on the ground.
  for (let i = 0; i < 60; i++) {
    c.ellipse(
      r.uniform(),
      r.uniform(horizon, 1),
      0.012,
      0.007,
      jitter(r, r.pick(autumn)),
      1,
      r.uniform(0, Math.PI),
    );
  }
  return { horizon };
};

const eiffelTower: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.7, 0.78);
  sky(c, r, horizon);
  c.gradient(horizon, 1, hex("#88a86a"), hex("#6d8c52"));
  c.noise(horizon, 1, 0.1, 12, seed);
  const u = r.uniform(0.3, 0.7), top = r.uniform(0.04, 0.1), base = horizon + 0.01;
  const H = base - top, W = H * 0.42;
  const iron = jitter(r, hex("#5a4a3c"), 0.1);
  // Legs curving out to the base, with the big arch cut out.
  const pts: Array<[number, number]> = [];
  for (let s = 0; s <= 10; s++) {
    const t = s / 10;
    pts.push([u - W / 2 * Math.pow(t, 2.2) - 0.004, top + t * H]);
  }
  for (let s = 10; s >= 0; s--) {
    const t = s / 10;
    pts.push([u + W / 2 * Math.pow(t, 2.2) + 0.004, top + t * H]);
  }
  c.polygon(pts, iron);
  const skyCol = mix(hex("#4a90d9"), hex("#f2f6fa"), 0.6);
  c.ellipse(u, base, W * 0.27, H * 0.2, skyCol);
  // Platforms and lattice.
  for (const t of [0.3, 0.62]) {
    c.rect(
      u - W * 0.5 * Math.pow(t, 2.2) - 0.02,
      top + t * H - 0.008,
      u + W * 0.5 * Math.pow(t, 2.2) + 0.02,
      top + t * H + 0.006,
      shade(iron, 0.8),
    );
  }
  for (let t = 0.35; t < 1; t += 0.08) {
    const hw = W / 2 * Math.pow(t, 2.2);
    c.line(u - hw, top + t * H, u + hw, top + (t + 0.08) * H, 0.003, skyCol, 0.6);
    c.line(u + hw, top + t * H, u - hw, top + (t + 0.08) * H, 0.003, skyCol, 0.6);
  }
  c.line(u, top - 0.04, u, top, 0.005, iron);
  return { horizon };
};

function waves(c: Canvas, seed: number, deep: Rgb, light: Rgb, crest: Rgb, v0: number): void {
  c.each(v0, 1, (u, v, p) => {
    const depth = (v - v0) / (1 - v0);
    const freq = 10 + 50 * (1 - depth);
    const w = Math.sin(v * freq * 6 + Math.sin(u * 6 + seed) * 2 + 3 * fbm(u * 4, v * 4, seed, 2));
    const base = mix(
      light,
      deep,
      0.4 + 0.6 * depth * 0.5 + 0.3 * (fbm(u * 3, v * 6, seed + 1) - 0.5),
    );
    const o = w > 0.8 ? mix(base, crest, (w - 0.8) * 3) : w < -0.7 ? shade(base, 0.9) : base;
    c.data[3 * p] = o[0], c.data[3 * p + 1] = o[1], c.data[3 * p + 2] = o[2];
  });
}

const water: Draw = (c, r, seed) => {
  const horizon = r.chance(0.5) ? r.uniform(0.15, 0.3) : 0;
  if (horizon > 0) sky(c, r, horizon);
  waves(c, seed, hex("#0b4f8a"), jitter(r, hex("#3fa3e0")), hex("#e8f6ff"), horizon);
  return { horizon };
};

const milk: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.18, 0.32);
  sky(c, r, horizon);
  const cream = jitter(r, hex("#fbf6ea"), 0.02);
  c.each(horizon, 1, (u, v, p) => {
    // Slow, heavy swells: broad soft shading, glossy highlights, no foam.
    const depth = (v - horizon) / (1 - horizon);
    const phase = v * (14 + 10 * (1 - depth)) * 3 + Math.sin(u * 4 + seed) * 1.5 +
      2 * fbm(u * 3, v * 3, seed, 2);
    const s = Math.sin(phase);
    const f = 0.86 + 0.1 * s + 0.04 * depth;
    const gloss = Math.max(0, s - 0.8) * 1.5;
    c.data[3 * p] = Math.min(1, cream[0] * f + gloss * 0.1);
    c.data[3 * p + 1] = Math.min(1, cream[1] * f + gloss * 0.1);
    c.data[3 * p + 2] = Math.min(1, cream[2] * f * 0.98 + gloss * 0.1);
  });
  return { horizon };
};

function sunflower(c: Canvas, u: number, v: number, s: number, r: Rng): void {
  c.line(u, v, u + r.uniform(-0.01, 0.01), 1.05, s * 0.12, hex("#3f7d2a"));
  for (let k = 0; k < 12; k++) {
    const a = k / 12 * Math.PI * 2;
    c.ellipse(
      u + Math.cos(a) * s * 0.55,
      v + Math.sin(a) * s * 0.55,
      s * 0.42,
      s * 0.16,
      hex("#f6c21c"),
      1,
      a,
    );
  }
  c.ellipse(u, v, s * 0.38, s * 0.38, hex("#5b3513"));
}

const grassSunflowers: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.3, 0.45);
  sky(c, r, horizon);
  c.each(horizon, 1, (u, v, p) => {
    const blade = 0.5 + 0.5 * Math.sin(u * 320 + 6 * valueNoise(u * 30, v * 8, seed));
    const g = mix(
      hex("#3f8f2f"),
      hex("#7cc24a"),
      0.35 * blade + 0.5 * fbm(u * 6, v * 6, seed + 1, 2),
    );
    c.data[3 * p] = g[0], c.data[3 * p + 1] = g[1], c.data[3 * p + 2] = g[2];
  });
  // Sunflowers around the middle: behind (upper) on both sides.
  const n = 5 + r.int(4);
  for (let i = 0; i < n; i++) {
    const side = i % 2 === 0 ? r.uniform(0, 0.28) : r.uniform(0.72, 1);
    sunflower(c, side, r.uniform(horizon - 0.05, 0.75), r.uniform(0.05, 0.09), r);
  }
  return { horizon: horizon + 0.15 };
};

const mirror: Draw = (c, r, seed) => {
  // A large mirror lying on a table, in perspective, reflecting a pale sky/ceiling.
  const wall = r.uniform(0.08, 0.18);
  c.gradient(0, wall, jitter(r, hex("#d8d2c8")), hex("#c4bcb0"));
  const wood = jitter(r, hex("#8a5a32"), 0.1);
  c.gradient(wall, 1, shade(wood, 0.85), wood);
  c.noise(wall, 1, 0.08, 10, seed + 2);
  const top = wall + r.uniform(0.06, 0.12), inset = r.uniform(0.08, 0.16);
  const frame: Array<[number, number]> = [[inset, top], [1 - inset, top], [1.02, 1.02], [
    -0.02,
    1.02,
  ]];
  c.polygon(frame, hex("#c9a55a"));
  const d = 0.025;
  const glass: Array<[number, number]> = [[inset + d, top + d], [1 - inset - d, top + d], [
    1.02 - d,
    1.02,
  ], [d - 0.02, 1.02]];
  c.polygon(glass, hex("#dfe7ee"));
  c.each(top + d, 1, (u, v, p) => {
    const t = (v - top) / (1 - top);
    const left = inset + d + (d - 0.02 - inset - d) * t,
      right = 1 - inset - d + (1.02 - d - 1 + inset + d) * t;
    if (u < left || u > right) return;
    const base = mix(hex("#f4f8fb"), hex("#9fb0c0"), t * 0.8);
    const streak = Math.max(0, Math.sin((u + v) * 9 + seed)) ** 6 * 0.35;
    const o = mix(base, hex("#ffffff"), streak);
    c.data[3 * p] = o[0], c.data[3 * p + 1] = o[1], c.data[3 * p + 2] = o[2];
  });
  return { horizon: top + 0.12 };
};

const crowdedStreet: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.5, 0.58);
  c.gradient(0, horizon, jitter(r, hex("#a99a88")), hex("#8d7f70"));
  // Shop windows.
  for (let u = r.uniform(-0.1, 0); u < 1; u += 0.3) {
    c.rect(u, 0.05, u + 0.22, horizon - 0.2, hex("#50606e"), 0.8);
  }
  c.gradient(horizon, 1, hex("#b3b0aa"), hex("#9c9892"));
  c.noise(horizon, 1, 0.06, 20, seed);
  for (let v = horizon + 0.08; v < 1; v += 0.12) c.rect(0, v, 1, v + 0.006, hex("#7d7a75"));
  for (let u = 0.1; u < 1; u += 0.25) {
    c.line(u, horizon, u + (u - 0.5) * 0.6, 1, 0.006, hex("#7d7a75"));
  }
  // People: legs, torso, arms, head, in many clothing colours, far to near.
  const clothes = [
    "#c0392b",
    "#2c3e50",
    "#27ae60",
    "#8e44ad",
    "#f39c12",
    "#16a085",
    "#34495e",
    "#d35400",
    "#7f8c8d",
    "#e84393",
  ].map(hex);
  const trousers = ["#2b2b33", "#34495e", "#5d4037", "#1f3a5f"].map(hex);
  const skin = ["#f1c27d", "#c68642", "#8d5524", "#e0ac69"].map(hex);
  for (const depth of [0.55, 0.75, 1]) {
    const n = Math.round(8 / depth);
    for (let i = 0; i < n; i++) {
      const u = r.uniform(-0.05, 1.05), base = horizon + (depth - 0.5) * 0.25, h = 0.5 * depth;
      const w = 0.045 * depth, legs = r.pick(trousers), body = r.pick(clothes);
      c.rect(u - w * 0.8, base - h * 0.48, u - w * 0.08, base, legs);
      c.rect(u + w * 0.08, base - h * 0.48, u + w * 0.8, base, legs);
      c.rect(u - w * 1.25, base - h * 0.86, u - w, base - h * 0.5, body);
      c.rect(u + w, base - h * 0.86, u + w * 1.25, base - h * 0.5, body);
      c.rect(u - w, base - h * 0.88, u + w, base - h * 0.45, body);
      c.ellipse(u, base - h * 0.95, w * 0.6, h * 0.075, r.pick(skin));
    }
  }
  return { horizon: horizon + 0.2 };
};

const dirtRoad: Draw = (c, r, seed) => {
  const horizon = r.uniform(0.35, 0.45);
  sky(c, r, horizon);
  c.gradient(horizon, 1, hex("#6f9a45"), hex("#4e7a2f"));
  c.noise(horizon, 1, 0.12, 12, seed);
  const vu = r.uniform(0.4, 0.6);
  const dirt = jitter(r, hex("#9b7653"), 0.08);
  c.polygon([[vu - 0.02, horizon], [vu + 0.02, horizon], [1.2, 1], [-0.2, 1]], dirt);
  c.each(horizon, 1, (u, v, p) => {
    const t = (v - horizon) / (1 - horizon);
    const half = 0.02 + t * 0.68;
    const x = (u - vu) / half;
    if (Math.abs(x) > 1) return;
    const rut = Math.exp(-((Math.abs(x) - 0.45) ** 2) / 0.004) * 0.25;
    const f = 0.85 + 0.3 * fbm(u * 25, v * 25, seed + 2, 3) - rut;
    c.data[3 * p] *= f, c.data[3 * p + 1] *= f, c.data[3 * p + 2] *= f;
  });
  for (let i = 0; i < 40; i++) {
    c.ellipse(r.uniform(0.1, 0.9), r.uniform(horizon + 0.2, 1), 0.006, 0.004, hex("#6b5238"));
  }
  return { horizon: horizon + 0.2 };
};

const whiteRug: Draw = (c, r, seed) => {
  // A shaggy white rug on a wooden floor, seen from above at an angle; fringe on the far edge.
  const wood = jitter(r, hex("#a0703f"), 0.1);
  c.gradient(0, 1, shade(wood, 0.85), wood);
  c.each(0, 1, (u, v, p) => {
    const row = Math.floor(v * 6);
    const f = 0.9 +
      0.12 * Math.sin(u * 30 + 6 * fbm(u * 3, v * 20, seed + row, 2)) *
        (v * 6 - row > 0.05 ? 1 : -3);
    c.data[3 * p] *= f, c.data[3 * p + 1] *= f, c.data[3 * p + 2] *= f;
  });
  const top = r.uniform(0.12, 0.25), inset = r.uniform(0.04, 0.12);
  const base = jitter(r, hex("#f4f1ea"), 0.02);
  c.each(top, 1, (u, v, p) => {
    const t = (v - top) / (1 - top);
    const left = inset * (1 - t) - 0.03 * t, right = 1 - left;
    if (u < left || u > right) return;
    const shag = fbm(u * 70, v * 70, seed, 2) * 0.6 + fbm(u * 8, v * 8, seed + 1, 2) * 0.4;
    const edge = Math.min(u - left, right - u, v - top) < 0.01 ? 0.85 : 1;
    const f = (0.8 + 0.25 * shag) * edge;
    c.data[3 * p] = base[0] * f, c.data[3 * p + 1] = base[1] * f, c.data[3 * p + 2] = base[2] * f;
  });
  for (let u = inset; u < 1 - inset; u += 0.02) {
    c.line(u, top, u + r.uniform(-0.004, 0.004), top - 0.03, 0.005, base);
  }
  return { horizon: top + 0.1 };
};

export const BACKGROUNDS: Record<string, Draw> = {
  "jungle": jungle,
  "snow": snow,
  "beach": beach,
  "cobblestone street": cobblestone,
  "pink fabric": pinkFabric,
  "wooden floor": woodenFloor,
  "city": city,
  "mountain": mountain,
  "blue house": blueHouse,
  "purple rug in a forest": purpleRugForest,
  "wheat field": wheatField,
  "autumn tree": autumnTree,
  "eiffel tower": eiffelTower,
  "water": water,
  "ocean of milk": milk,
  "grass with sunflowers": grassSunflowers,
  "mirror": mirror,
  "crowded street": crowdedStreet,
  "dirt road": dirtRoad,
  "white rug": whiteRug,
};
