"""PyTorch twin of the backend benchmark's reference UNet training step (same-machine baseline).

Builds the model of ``backend/reference_unet.ts`` (``createReferenceUnet()`` with its defaults)
in PyTorch and times its training step the way ``bench/backend_bench.ts`` does (two warm-up
steps, then the median and the best of ``--steps`` timed steps, default 5), so that the step
times of the tfjs backends can be read as ratios against PyTorch on the same CPU.

Model (as in the TypeScript file): a 32² diffusion UNet with channels 32/64/128, one residual
block per level and direction (GroupNorm with 8 groups and epsilon 1e-5, SiLU, 3×3 convs, the
time embedding added through a per-block dense layer, a zero-initialised second conv, a 1×1 conv
skip when the width changes), single-head self-attention at 8² (down, middle and up), a
sinusoidal time embedding (t·1000, 16 frequencies, sin then cos) with a two-layer MLP to 128,
stride-2 3×3 convs down (TF "same" padding: one row and column of zeros after, none before),
nearest-neighbour upsampling up, skip connections by concatenation, GroupNorm + SiLU + a
zero-initialised 3×3 conv out. Loss: mean squared error of the ε-prediction under the cosine
schedule ``z_t = cos(πt/2)·x0 + sin(πt/2)·ε`` with ``t ~ U(0, 1)``; Adam with lr 1e-4, betas
0.9/0.999 and epsilon 1e-7 (tfjs's cpu/wasm epsilon). Batch 8 of 32²×3 images in [-1, 1].

Differences that do not change the work: PyTorch runs it in its native NCHW layout (the
TypeScript model is NHWC), the random numbers differ (same distributions), and the loss is read
back with ``.item()`` at the end of each step, as ``dataSync()`` does there.

Needs Debian's PyTorch 1.13 (``apt-get install python3-torch``); it is a benchmark-only
dependency, not used by CI or the Deno code. It installs into the system Python: where another
``python3`` (pyenv, a virtual environment) comes first on ``PATH``, run ``/usr/bin/python3``.

Run it on a quiet machine (nothing else using the cores), otherwise the figures mean little::

    python3 bench/torch_reference_step.py --threads 2

Options: ``--threads N`` (``torch.set_num_threads``, default 2), ``--warmup N`` (default 2),
``--steps N`` (timed steps, default 5), ``--batch N`` (default 8). Prints the parameter count
(1933347, as the TypeScript model's ``parameterCount``), then the median and best seconds per
step.
"""

import argparse
import math

import torch
import torch.nn.functional as F
from torch import nn

from _torch_timing import print_machine, time_steps


def _weight(shape, fan_in):
    """Normal weights scaled by sqrt(1/fan_in), as the TypeScript model's ``weight``."""
    return nn.Parameter(torch.randn(*shape) * math.sqrt(1 / fan_in))


class Conv(nn.Module):
    """k×k conv with bias, TF "same" padding, stride 1 or 2 (``conv`` + ``conv2d`` there)."""

    def __init__(self, ci, co, k=3, zero=False):
        super().__init__()
        self.k = k
        self.weight = nn.Parameter(torch.zeros(co, ci, k, k)) if zero else _weight(
            (co, ci, k, k), k * k * ci)
        self.bias = nn.Parameter(torch.zeros(co))

    def forward(self, x, stride=1):
        if stride == 1:
            return F.conv2d(x, self.weight, self.bias, padding=self.k // 2)
        # TF "same" with stride 2 on an even size, k = 3: pad 0 before and 1 after.
        total = max((math.ceil(x.shape[2] / stride) - 1) * stride + self.k - x.shape[2], 0)
        before = total // 2
        x = F.pad(x, (before, total - before, before, total - before))
        return F.conv2d(x, self.weight, self.bias, stride=stride)


class Dense(nn.Module):
    """Dense layer ``x·W + b`` (``dense`` + ``linear`` there)."""

    def __init__(self, ci, co):
        super().__init__()
        self.weight = _weight((co, ci), ci)
        self.bias = nn.Parameter(torch.zeros(co))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Norm(nn.Module):
    """GroupNorm, 8 groups, epsilon 1e-5, gamma 1 and beta 0 (``norm`` + ``normalize`` there)."""

    def __init__(self, c, groups):
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        return F.group_norm(x, self.groups, self.weight, self.bias, 1e-5)


class ResBlock(nn.Module):
    def __init__(self, ci, co, t_dim, groups):
        super().__init__()
        self.n1 = Norm(ci, groups)
        self.c1 = Conv(ci, co)
        self.t = Dense(t_dim, co)
        self.n2 = Norm(co, groups)
        self.c2 = Conv(co, co, 3, zero=True)
        self.skip = None if ci == co else Conv(ci, co, 1)

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.t(F.silu(emb))[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return (x if self.skip is None else self.skip(x)) + h


class Attention(nn.Module):
    """Single-head self-attention over the H·W positions, residual."""

    def __init__(self, c, groups):
        super().__init__()
        self.n = Norm(c, groups)
        self.qkv = Dense(c, 3 * c)
        self.out = Dense(c, c)

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.qkv(self.n(x).reshape(b, c, h * w).transpose(1, 2))  # [B, N, 3C]
        q, k, v = qkv[..., :c], qkv[..., c:2 * c], qkv[..., 2 * c:]
        weights = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * (1 / math.sqrt(c)), dim=-1)
        o = self.out(torch.bmm(weights, v))  # [B, N, C]
        return x + o.transpose(1, 2).reshape(b, c, h, w)


class ReferenceUnet(nn.Module):
    def __init__(self, channels=(32, 64, 128), image_channels=3, groups=8):
        super().__init__()
        self.channels = channels
        levels = len(channels)
        top = channels[-1]
        t_dim = channels[0] * 4
        # Same creation order as the TypeScript model (so parameters() lists them alike).
        self.temb1 = Dense(channels[0], t_dim)
        self.temb2 = Dense(t_dim, t_dim)
        self.conv_in = Conv(image_channels, channels[0])
        self.down = nn.ModuleList()
        for i, c in enumerate(channels):
            level = nn.Module()
            level.res = ResBlock(channels[0] if i == 0 else channels[i - 1], c, t_dim, groups)
            level.attn = Attention(c, groups) if i == levels - 1 else None
            level.downsample = Conv(c, c) if i < levels - 1 else None
            self.down.append(level)
        self.mid1 = ResBlock(top, top, t_dim, groups)
        self.mid_attn = Attention(top, groups)
        self.mid2 = ResBlock(top, top, t_dim, groups)
        self.up = nn.ModuleList()
        for i, c in enumerate(channels):
            level = nn.Module()
            level.res = ResBlock((top if i == levels - 1 else channels[i + 1]) + c, c, t_dim,
                                 groups)
            level.attn = Attention(c, groups) if i == levels - 1 else None
            self.up.append(level)
        self.norm_out = Norm(channels[0], groups)
        self.conv_out = Conv(channels[0], image_channels, 3, zero=True)

    def time_embedding(self, t):
        half = self.channels[0] // 2
        freqs = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000) / half))
        args = (t * 1000)[:, None] * freqs[None, :]
        sinusoid = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
        return self.temb2(F.silu(self.temb1(sinusoid)))

    def forward(self, x, t):
        emb = self.time_embedding(t)
        h = self.conv_in(x)
        skips = []
        for level in self.down:
            h = level.res(h, emb)
            if level.attn is not None:
                h = level.attn(h)
            skips.append(h)
            if level.downsample is not None:
                h = level.downsample(h, stride=2)
        h = self.mid1(h, emb)
        h = self.mid_attn(h)
        h = self.mid2(h, emb)
        for i in range(len(self.channels) - 1, -1, -1):
            level = self.up[i]
            h = level.res(torch.cat([h, skips[i]], dim=1), emb)
            if level.attn is not None:
                h = level.attn(h)
            if i > 0:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
        return self.conv_out(F.silu(self.norm_out(h)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (2)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed warm-up steps (2)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps (5)")
    parser.add_argument("--batch", type=int, default=8, help="batch size (8)")
    args = parser.parse_args()
    if args.threads < 1 or args.warmup < 0 or args.steps < 1 or args.batch < 1:
        parser.error("--threads, --steps and --batch must be ≥ 1 and --warmup ≥ 0")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model = ReferenceUnet()
    params = list(model.parameters())
    count = sum(p.numel() for p in params)
    optimizer = torch.optim.Adam(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-7)
    x0 = torch.rand(args.batch, 3, 32, 32) * 2 - 1

    def train_step(seed):
        gen = torch.Generator().manual_seed(seed)
        t = torch.rand(args.batch, generator=gen)
        eps = torch.randn(x0.shape, generator=gen)
        angle = (t * (math.pi / 2))[:, None, None, None]
        zt = torch.cos(angle) * x0 + torch.sin(angle) * eps
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean((model(zt, t) - eps) ** 2)
        loss.backward()
        optimizer.step()
        return loss.item()

    print_machine()
    print(f"reference UNet: {count} weights")

    median, best, loss = time_steps(train_step, args.warmup, args.steps)
    print(f"reference UNet step, batch {args.batch} (s): {median:.3f} median "
          f"(best {best:.3f}) over {args.steps} steps after {args.warmup} warm-up; "
          f"last loss {loss:.4f}")


if __name__ == "__main__":
    main()
