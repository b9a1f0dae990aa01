"""PyTorch twin of the shipped ``small`` preset's base-stage training step (same-machine baseline).

Builds the base stage of ``presetConfig("small")`` (diffusion/pipeline/presets.ts) in PyTorch, layer
for layer as ``diffusion/model/unet.ts`` and ``diffusion/model/t5_encoder.ts`` build it, and times
the step that ``trainer/stage_trainer.ts`` takes when pretraining that stage: the text encoder
trained with the UNet (``trainTextEncoder``), batch 16 of 32²×3 images with 24-token captions.
``bench/backend_bench.ts --small-preset`` runs it and prints the ratio of its own step to this one.

Model (the TypeScript files are the reference; the parameter count is asserted equal, 13,015,875):

- T5-style encoder: vocabulary 32128, d_model 256, 8 heads of 32, gated-GELU (tanh) feed-forward
  512, 4 layers, RMS norms (ε 1e-6), relative position bias (32 buckets, max distance 128, layer 0's
  table shared by all layers, HF's bucketing), attention without 1/√d, mask bias −1e9; output the
  final-normed tokens and their masked mean (the pooled vector).
- UNet: channels 32 × (1, 2, 2), residual blocks (1, 2, 2) per level, self-attention at 8², cross-
  attention to the text at 16² and 8², heads of 32 channels, GroupNorm with up to 8 groups (ε 1e-5),
  SiLU, scale-shift norm from a 128-wide embedding (sinusoidal log-SNR embedding through a 2-layer
  MLP, plus the pooled text through a dense layer), zero-initialised last convs of each block and of
  the output, 2×2 average pooling then a 3×3 conv down, nearest upsampling then a 3×3 conv up,
  skip connections by concatenation, learned null tokens for classifier-free guidance (10 % of the
  rows).

Step: v-prediction loss with Min-SNR-γ weighting (γ 5), the global gradient norm read back with the
loss (as ``dataSync`` there), clipping to norm 1, Adam (lr 2e-4, betas 0.9/0.99, ε 1e-8).
Differences that do not change the work: NCHW layout, other random numbers (same distributions),
log-SNR drawn directly from the cosine schedule.

Needs Debian's PyTorch 1.13 (``apt-get install python3-torch``; run ``/usr/bin/python3`` where
another Python comes first on ``PATH``). Run it on a quiet machine::

    /usr/bin/python3 bench/torch_small_preset_step.py --threads 2

Options: ``--threads N`` (default 2), ``--warmup N`` (2), ``--steps N`` (timed, 5), ``--batch N``
(16). Prints the parameter count, then the median and best seconds per step.
"""

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

from _torch_timing import print_machine, time_steps

# unet.ts's UNet.countParams(small base) + t5_encoder.ts's T5Encoder(small).numParams
EXPECTED_PARAMS = 2167107 + 10848768

UNET = dict(image_size=32, image_channels=3, channels=32, channel_mult=(1, 2, 2),
            num_res_blocks=(1, 2, 2), attention_resolutions=(8,),
            cross_attention_resolutions=(16, 8), head_channels=32, text_dim=256, groups=8)
T5 = dict(vocab=32128, d_model=256, d_kv=32, heads=8, d_ff=512, layers=4, buckets=32,
          max_distance=128, eps=1e-6, max_length=24)


def normal(shape, std):
    return nn.Parameter(torch.randn(*shape) * std)


def groups_for(channels, groups):
    g = min(groups, channels)
    while channels % g:
        g -= 1
    return g


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))


def attention(q, k, v, heads, scale, bias=None):
    """softmax(q kᵀ·scale + bias) v over heads: q [B, N, H·D], k/v [B, M, H·D]."""
    b, n, hd = q.shape
    m, d = k.shape[1], hd // heads
    qh = q.reshape(b, n, heads, d).transpose(1, 2)
    kh = k.reshape(b, m, heads, d).transpose(1, 2)
    vh = v.reshape(b, m, heads, d).transpose(1, 2)
    scores = torch.matmul(qh * scale if scale != 1 else qh, kh.transpose(-1, -2))
    if bias is not None:
        scores = scores + bias
    return torch.matmul(torch.softmax(scores, -1), vh).transpose(1, 2).reshape(b, n, hd)


def relative_position_bucket(rel, num_buckets, max_distance):
    """relative_position_bucket.ts, bidirectional."""
    num_buckets //= 2
    bucket = num_buckets if rel > 0 else 0
    n = abs(rel)
    max_exact = num_buckets // 2
    if n < max_exact:
        return bucket + n
    large = max_exact + int(math.log(n / max_exact) / math.log(max_distance / max_exact)
                            * (num_buckets - max_exact))
    return bucket + min(large, num_buckets - 1)


class T5Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d, inner, ff = c["d_model"], c["heads"] * c["d_kv"], c["d_ff"]
        self.shared = normal((c["vocab"], d), 1)
        self.rel = normal((c["buckets"], c["heads"]), d ** -0.5)
        self.blocks = nn.ModuleList()
        for _ in range(c["layers"]):
            blk = nn.Module()
            blk.q = normal((inner, d), (d * c["d_kv"]) ** -0.5)
            blk.k = normal((inner, d), d ** -0.5)
            blk.v = normal((inner, d), d ** -0.5)
            blk.o = normal((d, inner), inner ** -0.5)
            blk.norm1 = nn.Parameter(torch.ones(d))
            blk.wi0 = normal((ff, d), d ** -0.5)
            blk.wi1 = normal((ff, d), d ** -0.5)
            blk.wo = normal((d, ff), ff ** -0.5)
            blk.norm2 = nn.Parameter(torch.ones(d))
            self.blocks.append(blk)
        self.final = nn.Parameter(torch.ones(d))
        length = c["max_length"]
        self.register_buffer("buckets", torch.tensor(
            [[relative_position_bucket(m - q, c["buckets"], c["max_distance"])
              for m in range(length)] for q in range(length)]))

    def forward(self, ids, mask):
        c, eps = self.c, self.c["eps"]
        h = F.embedding(ids, self.shared)  # [B, L, D]
        pos = self.rel[self.buckets].permute(2, 0, 1)[None]  # [1, H, L, L]
        bias = pos + ((1 - mask) * -1e9)[:, None, None, :]
        for blk in self.blocks:
            n1 = rms_norm(h, blk.norm1, eps)
            a = attention(F.linear(n1, blk.q), F.linear(n1, blk.k), F.linear(n1, blk.v),
                          c["heads"], 1, bias)
            h = h + F.linear(a, blk.o)
            n2 = rms_norm(h, blk.norm2, eps)
            h = h + F.linear(gelu_tanh(F.linear(n2, blk.wi0)) * F.linear(n2, blk.wi1), blk.wo)
        tokens = rms_norm(h, self.final, eps)
        m3 = mask[:, :, None]
        pooled = (tokens * m3).sum(1) / m3.sum(1).clamp(min=1)
        return tokens, pooled


class Linear(nn.Module):
    """``lin`` of unet.ts: weight [i, o] with std 1/√i (zero when asked), bias zero."""

    def __init__(self, i, o, zero=False):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(o, i)) if zero else normal((o, i), i ** -0.5)
        self.bias = nn.Parameter(torch.zeros(o))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Conv(nn.Module):
    """``conv`` of unet.ts: k×k, stride 1, "same", bias."""

    def __init__(self, i, o, k=3, zero=False):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(o, i, k, k)) if zero else normal(
            (o, i, k, k), (k * k * i) ** -0.5)
        self.bias = nn.Parameter(torch.zeros(o))
        self.pad = k // 2

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, padding=self.pad)


class Norm(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.groups = groups_for(ch, groups)
        self.weight = nn.Parameter(torch.ones(ch))
        self.bias = nn.Parameter(torch.zeros(ch))

    def forward(self, x):
        return F.group_norm(x, self.groups, self.weight, self.bias, 1e-5)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, e, groups):
        super().__init__()
        self.norm1 = Norm(cin, groups)
        self.conv1 = Conv(cin, cout)
        self.emb = Linear(e, 2 * cout)
        self.norm2 = Norm(cout, groups)
        self.conv2 = Conv(cout, cout, 3, True)
        self.skip = Conv(cin, cout, 1) if cin != cout else None
        self.cout = cout

    def forward(self, x, emb_act):
        h = self.conv1(F.silu(self.norm1(x)))
        ss = self.emb(emb_act)[:, :, None, None]
        scale, shift = ss[:, :self.cout], ss[:, self.cout:]
        h = self.conv2(F.silu(self.norm2(h) * (1 + scale) + shift))
        return (x if self.skip is None else self.skip(x)) + h


class AttnBlock(nn.Module):
    def __init__(self, ch, self_attn, cross, text_dim, head_channels, groups):
        super().__init__()
        self.heads = max(1, ch // head_channels)
        if self_attn:
            self.s_norm = Norm(ch, groups)
            self.s_q, self.s_k, self.s_v = Linear(ch, ch), Linear(ch, ch), Linear(ch, ch)
            self.s_out = Linear(ch, ch, True)
        if cross:
            self.c_norm = Norm(ch, groups)
            self.c_q = Linear(ch, ch)
            self.c_k, self.c_v = Linear(text_dim, ch), Linear(text_dim, ch)
            self.c_out = Linear(ch, ch, True)
        self.self_attn, self.cross = self_attn, cross

    def forward(self, x, tokens, bias):
        b, c, h, w = x.shape
        scale = 1 / math.sqrt(c // self.heads)
        seq = lambda t: t.reshape(b, c, h * w).transpose(1, 2)  # noqa: E731
        back = lambda t: t.transpose(1, 2).reshape(b, c, h, w)  # noqa: E731
        if self.self_attn:
            n = seq(self.s_norm(x))
            a = attention(self.s_q(n), self.s_k(n), self.s_v(n), self.heads, scale)
            x = x + back(self.s_out(a))
        if self.cross:
            n = seq(self.c_norm(x))
            a = attention(self.c_q(n), self.c_k(tokens), self.c_v(tokens), self.heads, scale,
                          bias)
            x = x + back(self.c_out(a))
        return x


class UNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        ch0, g, td = c["channels"], c["groups"], c["text_dim"]
        e = 4 * ch0
        self.time0, self.time1 = Linear(ch0, e), Linear(e, e)
        self.text_pooled = Linear(td, e)
        self.null_tokens = normal((1, 1, td), 1)
        self.null_pooled = normal((1, td), 1)
        self.blocks = nn.ModuleList()
        self.plan = []  # ("res"|"attn"|"down"|"up"|"push"|"pop", module index)

        def add(kind, module=None):
            if module is not None:
                self.blocks.append(module)
            self.plan.append((kind, len(self.blocks) - 1 if module is not None else -1))

        def attn(ch, resolution, mid=False):
            self_attn = mid or resolution in c["attention_resolutions"]
            cross = td > 0 and (mid or resolution in c["cross_attention_resolutions"])
            if self_attn or cross:
                add("attn", AttnBlock(ch, self_attn, cross, td, c["head_channels"], g))

        ch = ch0 * c["channel_mult"][0]
        self.input = Conv(c["image_channels"], ch)
        resolution = c["image_size"]
        skips = [ch]
        add("push")
        levels = len(c["channel_mult"])
        for lv in range(levels):
            out = ch0 * c["channel_mult"][lv]
            for _ in range(c["num_res_blocks"][lv]):
                add("res", ResBlock(ch, out, e, g))
                ch = out
                attn(ch, resolution)
                skips.append(ch)
                add("push")
            if lv < levels - 1:
                add("down", Conv(ch, ch))
                resolution //= 2
                skips.append(ch)
                add("push")
        add("res", ResBlock(ch, ch, e, g))
        attn(ch, resolution, True)
        add("res", ResBlock(ch, ch, e, g))
        for lv in range(levels - 1, -1, -1):
            out = ch0 * c["channel_mult"][lv]
            for _ in range(c["num_res_blocks"][lv] + 1):
                add("pop")
                add("res", ResBlock(ch + skips.pop(), out, e, g))
                ch = out
                attn(ch, resolution)
            if lv > 0:
                add("up", Conv(ch, ch))
                resolution *= 2
        self.out_norm = Norm(ch, g)
        self.out_conv = Conv(ch, c["image_channels"], 3, True)

    def time_embedding(self, lam):
        half = self.c["channels"] // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        u = (2 / math.pi) * torch.atan(torch.exp(-0.5 * lam))
        args = (u * 1000)[:, None] * freqs[None]
        return torch.cat([torch.sin(args), torch.cos(args)], 1)

    def forward(self, zt, lam, tokens, pooled, mask, keep):
        b = zt.shape[0]
        emb = self.time1(F.silu(self.time0(self.time_embedding(lam))))
        k3, k2 = keep[:, None, None], keep[:, None]
        tokens = tokens * k3 + self.null_tokens * (1 - k3)
        pooled = pooled * k2 + self.null_pooled * (1 - k2)
        mask = mask * k2 + (1 - k2)
        emb = emb + self.text_pooled(pooled)
        bias = ((1 - mask) * -1e9).reshape(b, 1, 1, -1)
        emb_act = F.silu(emb)
        x = self.input(zt)
        skips = []
        for kind, i in self.plan:
            if kind == "push":
                skips.append(x)
            elif kind == "pop":
                x = torch.cat([x, skips.pop()], 1)
            elif kind == "res":
                x = self.blocks[i](x, emb_act)
            elif kind == "attn":
                x = self.blocks[i](x, tokens, bias)
            elif kind == "down":
                x = self.blocks[i](F.avg_pool2d(x, 2))
            else:
                x = self.blocks[i](F.interpolate(x, scale_factor=2, mode="nearest"))
        return self.out_conv(F.silu(self.out_norm(x)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (2)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed warm-up steps (2)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (5)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (16)")
    args = parser.parse_args()
    if args.threads < 1 or args.warmup < 0 or args.steps < 1 or args.batch < 1:
        parser.error("--threads, --steps and --batch must be ≥ 1 and --warmup ≥ 0")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    encoder, unet = T5Encoder(T5), UNet(UNET)
    params = list(unet.parameters()) + list(encoder.parameters())
    count = sum(p.numel() for p in params)
    assert count == EXPECTED_PARAMS, f"{count} parameters, the TypeScript model has {EXPECTED_PARAMS}"
    optimizer = torch.optim.Adam(params, lr=2e-4, betas=(0.9, 0.99), eps=1e-8)
    b, length = args.batch, T5["max_length"]
    x0 = torch.rand(b, 3, 32, 32) * 2 - 1
    ids = torch.randint(0, T5["vocab"], (b, length))
    mask = (torch.arange(length)[None] < torch.randint(4, length + 1, (b, 1))).float()

    def train_step(seed):
        gen = torch.Generator().manual_seed(seed)
        t = torch.rand(b, generator=gen).clamp(0.01, 0.99)
        lam = -2 * torch.log(torch.tan(math.pi * t / 2))  # cosine schedule
        alpha = torch.sigmoid(lam).sqrt()[:, None, None, None]
        sigma = torch.sigmoid(-lam).sqrt()[:, None, None, None]
        keep = (torch.rand(b, generator=gen) >= 0.1).float()
        eps = torch.randn(x0.shape, generator=gen)
        zt = alpha * x0 + sigma * eps
        optimizer.zero_grad(set_to_none=True)
        tokens, pooled = encoder(ids, mask)
        pred = unet(zt, lam, tokens, pooled, mask, keep)
        target = alpha * eps - sigma * x0  # v
        factor = torch.minimum(lam.exp(), torch.tensor(5.0)) * sigma.flatten() ** 2
        loss = ((pred - target) ** 2).mean((1, 2, 3)).mul(factor).mean()
        loss.backward()
        norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
        value, gnorm = loss.item(), norm.item()  # one read, as the trainer's
        if gnorm > 1:
            for p in params:
                p.grad.mul_(1 / gnorm)
        optimizer.step()
        return value

    print_machine()
    print(f"small preset base stage: {count} weights (UNet "
          f"{sum(p.numel() for p in unet.parameters())}, text encoder "
          f"{sum(p.numel() for p in encoder.parameters())})")
    median, best, loss = time_steps(train_step, args.warmup, args.steps)
    print(f"small preset base step, batch {b} (s): {median:.3f} median "
          f"(best {best:.3f}) over {args.steps} steps after {args.warmup} warm-up; "
          f"last loss {loss:.4f}")


if __name__ == "__main__":
    main()
