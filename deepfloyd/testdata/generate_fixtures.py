#!/usr/bin/python3
"""Generates deepfloyd/'s test fixtures by running upstream code on tiny configs (CPU, seeded).

Upstream (kept OUTSIDE this repository, fetched with the session's `fetch` tool):
  huggingface/diffusers        tag v0.21.4  commit f5942649f522f0ae87bcb659735b9fd894349ca8
  huggingface/huggingface_hub  tag v0.17.3  commit 3680414f0285903ba12eaed68c1d62931559017f
  extracted with `git archive <tag> src/<pkg> | tar -x -C $UPSTREAM`
Runtime: Debian 12 /usr/bin/python3 with python3-torch 1.13, python3-numpy, python3-pil (diffusers
imports PIL), python3-regex/filelock/requests/tqdm/yaml/packaging/fsspec/importlib-metadata.
Import shim: the Rust `safetensors` Python package is absent, so $UPSTREAM/shim/safetensors/ holds a
two-file stand-in (`__init__.py` defining `safe_open`, `torch.py` defining `load_file`/`save_file`,
all raising NotImplementedError); this script writes safetensors itself (`write_safetensors`).

T5: transformers is too large to mirror; `T5EncoderTwin` below is written from
huggingface/transformers src/transformers/models/t5/modeling_t5.py at commit
6b8b757dfcb582379a64f013cdce46c43629f2b0 (read with the search tool): T5LayerNorm.forward (RMS norm,
no mean, no bias), T5DenseGatedActDense.forward (act(wi_0 x) * wi_1 x, then wo; act = gelu_new for
v1.1's feed_forward_proj "gated-gelu"), T5Attention._relative_position_bucket / compute_bias (bucket
of memory - query position, bidirectional in the encoder; only layer 0 has the bias table and its
bias is reused by every layer, T5Stack), T5Attention.forward (scores = q k^T without 1/sqrt(d), plus
position bias plus the extended mask (1 - mask) * finfo(float32).min), T5LayerSelfAttention /
T5LayerFF (pre-norm residuals), T5Stack (final_layer_norm). Dropout is off (eval).

Usage: UPSTREAM=/work/upstream /usr/bin/python3 deepfloyd/testdata/generate_fixtures.py
Writes deepfloyd/testdata/{if_tiny_i,if_tiny_ii}/ (diffusers-format folders) and *.safetensors/json.
"""
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import torch

UPSTREAM = os.environ.get("UPSTREAM", "/work/upstream")
sys.path[:0] = [os.path.join(UPSTREAM, "src"), os.path.join(UPSTREAM, "shim")]

from diffusers.models.unet_2d_condition import UNet2DConditionModel  # noqa: E402
from diffusers.schedulers import scheduling_ddpm  # noqa: E402
from diffusers.schedulers.scheduling_ddim import DDIMScheduler  # noqa: E402
from diffusers.schedulers.scheduling_ddpm import DDPMScheduler  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SPIECE = os.path.join(HERE, "..", "..", "tokenizer", "assets", "t5_spiece.model")
torch.set_num_threads(1)


# ---------------------------------------------------------------- safetensors writer (own code)
def bf16_bits(a):
    """float32 -> bfloat16 bits, round to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def round_dtype(t, dtype):
    """Rounds a float32 tensor to what `dtype` storage holds, back in float32."""
    if dtype == "F32":
        return t
    if dtype == "F16":
        return t.half().float()
    bits = bf16_bits(t.numpy()).astype(np.uint32) << 16
    return torch.from_numpy(bits.view(np.float32).copy()).reshape(t.shape)


def encode(tensors, dtype="F32", metadata=None):
    header = {}
    blobs = []
    off = 0
    for name, t in tensors.items():
        a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        if a.dtype.kind in "iu":
            dt, raw = "I32", a.astype("<i4").tobytes()
        elif dtype == "F16":
            dt, raw = "F16", a.astype("<f2").tobytes()
        elif dtype == "BF16":
            dt, raw = "BF16", bf16_bits(a).astype("<u2").tobytes()
        else:
            dt, raw = "F32", a.astype("<f4").tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def write(path, tensors, dtype="F32", metadata=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(encode(tensors, dtype, metadata))


def write_sharded(folder, stem, tensors, dtype, shards):
    """HF sharding: `<stem>-0000k-of-0000n.safetensors` + `<stem>.safetensors.index.json`."""
    names = list(tensors)
    per = math.ceil(len(names) / shards)
    weight_map = {}
    total = 0
    base, ext = stem.rsplit(".", 1)
    for k in range(shards):
        part = {n: tensors[n] for n in names[k * per:(k + 1) * per]}
        fname = f"{base}-{k + 1:05d}-of-{shards:05d}.{ext}"
        write(os.path.join(folder, fname), part, dtype, {"format": "pt"})
        for n, t in part.items():
            weight_map[n] = fname
            total += t.numel() * (4 if dtype == "F32" else 2)
    with open(os.path.join(folder, stem + ".index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")


def strip_private(obj):
    """Drops diffusers' `_use_default_values` (a set: its order changes from run to run)."""
    if isinstance(obj, dict):
        return {k: strip_private(v) for k, v in obj.items() if k != "_use_default_values"}
    return obj


def dump_json(path, obj):
    obj = strip_private(obj)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


# ---------------------------------------------------------------- T5 v1.1 encoder twin
def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def rms_norm(x, w, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(variance + eps))


def relative_position_bucket(rel, num_buckets, max_distance):
    num_buckets //= 2
    buckets = (rel > 0).long() * num_buckets
    rel = rel.abs()
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    large = max_exact + (
        torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).long()
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return buckets + torch.where(is_small, rel, large)


class T5EncoderTwin:
    def __init__(self, cfg, params):
        self.c, self.p = cfg, params

    def __call__(self, ids, mask):
        c, p = self.c, self.p
        b, n = ids.shape
        h = p["shared.weight"][ids]
        ctx = torch.arange(n)[:, None]
        mem = torch.arange(n)[None, :]
        bucket = relative_position_bucket(
            mem - ctx, c["relative_attention_num_buckets"], c["relative_attention_max_distance"]
        )
        bias = p["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"][bucket]
        bias = bias.permute(2, 0, 1).unsqueeze(0)  # [1, H, N, N]
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        bias = bias + ext
        H, D = c["num_heads"], c["d_kv"]
        eps = c["layer_norm_epsilon"]
        for i in range(c["num_layers"]):
            a = f"encoder.block.{i}.layer.0."
            x = rms_norm(h, p[a + "layer_norm.weight"], eps)
            q = (x @ p[a + "SelfAttention.q.weight"].T).view(b, n, H, D).transpose(1, 2)
            k = (x @ p[a + "SelfAttention.k.weight"].T).view(b, n, H, D).transpose(1, 2)
            v = (x @ p[a + "SelfAttention.v.weight"].T).view(b, n, H, D).transpose(1, 2)
            scores = q @ k.transpose(3, 2) + bias
            w = torch.softmax(scores.float(), dim=-1)
            o = (w @ v).transpose(1, 2).reshape(b, n, H * D)
            h = h + o @ p[a + "SelfAttention.o.weight"].T
            f = f"encoder.block.{i}.layer.1."
            x = rms_norm(h, p[f + "layer_norm.weight"], eps)
            g = gelu_new(x @ p[f + "DenseReluDense.wi_0.weight"].T) * (x @ p[f + "DenseReluDense.wi_1.weight"].T)
            h = h + g @ p[f + "DenseReluDense.wo.weight"].T
        return rms_norm(h, p["encoder.final_layer_norm.weight"], eps)


def t5_params(cfg, gen):
    d, inner, ff = cfg["d_model"], cfg["num_heads"] * cfg["d_kv"], cfg["d_ff"]
    r = lambda *s, std=1.0: torch.randn(*s, generator=gen) * std  # noqa: E731
    p = {"shared.weight": r(cfg["vocab_size"], d)}
    for i in range(cfg["num_layers"]):
        a, f = f"encoder.block.{i}.layer.0.", f"encoder.block.{i}.layer.1."
        p[a + "SelfAttention.q.weight"] = r(inner, d, std=(d * cfg["d_kv"]) ** -0.5)
        p[a + "SelfAttention.k.weight"] = r(inner, d, std=d**-0.5)
        p[a + "SelfAttention.v.weight"] = r(inner, d, std=d**-0.5)
        p[a + "SelfAttention.o.weight"] = r(d, inner, std=inner**-0.5)
        if i == 0:
            p[a + "SelfAttention.relative_attention_bias.weight"] = r(cfg["relative_attention_num_buckets"], cfg["num_heads"])
        p[a + "layer_norm.weight"] = 1 + r(d, std=0.2)
        p[f + "DenseReluDense.wi_0.weight"] = r(ff, d, std=d**-0.5)
        p[f + "DenseReluDense.wi_1.weight"] = r(ff, d, std=d**-0.5)
        p[f + "DenseReluDense.wo.weight"] = r(d, ff, std=ff**-0.5)
        p[f + "layer_norm.weight"] = 1 + r(d, std=0.2)
    p["encoder.final_layer_norm.weight"] = 1 + r(d, std=0.2)
    return p


T5_CONFIG = {
    "architectures": ["T5EncoderModel"],
    "d_ff": 40,
    "d_kv": 8,
    "d_model": 16,
    "dense_act_fn": "gelu_new",
    "dropout_rate": 0.1,
    "feed_forward_proj": "gated-gelu",
    "is_encoder_decoder": True,
    "is_gated_act": True,
    "layer_norm_epsilon": 1e-6,
    "model_type": "t5",
    "num_decoder_layers": 2,
    "num_heads": 2,
    "num_layers": 2,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "relative_attention_max_distance": 20,
    "relative_attention_num_buckets": 8,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 32128,
}

PROMPTS = ["a photo of sks dog", "A red teapot on a table, 4k.", "ünïcödé café — naïve"]
MAX_LEN = 12


def spm_ids(text):
    out = subprocess.run(
        ["spm_encode", f"--model={SPIECE}", "--output_format=id"], input=text + "\n",
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return [int(x) for x in out]


def tokenizer_fixture():
    rows = []
    for text in PROMPTS:
        ids = spm_ids(text)
        fixed = (ids[: MAX_LEN - 1] + [1])  # T5: EOS appended, truncation keeps it
        mask = [1] * len(fixed) + [0] * (MAX_LEN - len(fixed))
        fixed = fixed + [0] * (MAX_LEN - len(fixed))
        rows.append({"text": text, "pieces_ids": ids, "ids": fixed, "mask": mask})
    return rows


# ---------------------------------------------------------------- UNets
STAGE_I = dict(
    sample_size=8,
    in_channels=3,
    out_channels=6,
    down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D", "SimpleCrossAttnDownBlock2D"),
    up_block_types=("SimpleCrossAttnUpBlock2D", "SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
    mid_block_type="UNetMidBlock2DSimpleCrossAttn",
    block_out_channels=(16, 24, 32),
    layers_per_block=2,
    norm_num_groups=8,
    cross_attention_dim=32,
    attention_head_dim=8,
    encoder_hid_dim=16,
    addition_embed_type="text",
    addition_embed_type_num_heads=4,
    act_fn="gelu",
    resnet_time_scale_shift="scale_shift",
    cross_attention_norm="group_norm",
    upcast_attention=False,
    use_linear_projection=False,
)

STAGE_II = dict(
    sample_size=16,
    in_channels=6,
    out_channels=6,
    down_block_types=("ResnetDownsampleBlock2D", "ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
    up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D", "ResnetUpsampleBlock2D"),
    mid_block_type="UNetMidBlock2DSimpleCrossAttn",
    block_out_channels=(16, 16, 32),
    layers_per_block=(1, 2, 2),
    norm_num_groups=8,
    cross_attention_dim=32,
    attention_head_dim=8,
    encoder_hid_dim=16,
    addition_embed_type="text",
    addition_embed_type_num_heads=4,
    class_embed_type="timestep",
    time_embedding_dim=40,
    time_embedding_act_fn="gelu",
    resnet_skip_time_act=True,
    resnet_out_scale_factor=1 / 0.7071,
    mid_block_scale_factor=1 / 0.7071,
    only_cross_attention=True,
    act_fn="gelu",
    resnet_time_scale_shift="scale_shift",
    cross_attention_norm="group_norm",
    upcast_attention=False,
    use_linear_projection=False,
)


def build_unet(cfg, seed, dtype):
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**cfg).eval()
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for _, p in unet.named_parameters():
            # Perturb every parameter (norm gains/biases too) so that a swapped or skipped one shows.
            p.add_(torch.randn(p.shape, generator=gen) * (0.2 if p.dim() == 1 else 0.5 * float(p.std() if p.numel() > 1 else 0.1)))
            p.copy_(round_dtype(p.detach().clone(), dtype))
    return unet


def unet_case(name, cfg, seed, dtype, shards, batch, size, timesteps, class_labels, folder):
    unet = build_unet(cfg, seed, dtype)
    state = {k: v.detach().clone() for k, v in unet.state_dict().items()}
    unet_dir = os.path.join(folder, "unet")
    if shards > 1:
        write_sharded(unet_dir, "diffusion_pytorch_model.safetensors", state, dtype, shards)
    else:
        write(os.path.join(unet_dir, "diffusion_pytorch_model.safetensors"), state, dtype, {"format": "pt"})
    cfg_json = dict(unet.config)
    cfg_json = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg_json.items() if not k.startswith("_")}
    cfg_json["_class_name"] = "UNet2DConditionModel"
    cfg_json["_diffusers_version"] = "0.21.4"
    dump_json(os.path.join(unet_dir, "config.json"), cfg_json)
    gen = torch.Generator().manual_seed(seed + 2)
    sample = torch.randn(batch, cfg["in_channels"], size, size, generator=gen)
    enc = torch.randn(batch, 5, cfg["encoder_hid_dim"], generator=gen)
    t = torch.tensor(timesteps, dtype=torch.long)
    kwargs = {}
    if class_labels is not None:
        kwargs["class_labels"] = torch.tensor(class_labels, dtype=torch.long)
    with torch.no_grad():
        out = unet(sample, t, encoder_hidden_states=enc, **kwargs).sample
    io = {"sample": sample, "timestep": t.int(), "encoder_hidden_states": enc, "out": out}
    if class_labels is not None:
        io["class_labels"] = kwargs["class_labels"].int()
    write(os.path.join(HERE, f"{name}_io.safetensors"), io)
    print(name, "params", sum(v.numel() for v in state.values()), "out", tuple(out.shape), float(out.abs().max()))


def lora_case(cfg, seed, rank=4, scale=0.6):
    """LoRA on every attention projection, in the file format of diffusers' train_dreambooth_lora.py
    (`unet.<attention>.processor.<proj>_lora.{down,up}.weight`), loaded with `load_attn_procs` and
    run with `cross_attention_kwargs={"scale": scale}` on unet_i's inputs."""
    unet = build_unet(cfg, seed, "F16")
    gen = torch.Generator().manual_seed(seed + 3)
    lora = {}
    for name, module in unet.named_modules():
        if type(module).__name__ != "Attention":
            continue
        projs = [("to_q", module.to_q), ("to_out", module.to_out[0]), ("add_k_proj", module.add_k_proj), ("add_v_proj", module.add_v_proj)]
        if module.to_k is not None:
            projs += [("to_k", module.to_k), ("to_v", module.to_v)]
        for proj, lin in projs:
            key = f"unet.{name}.processor.{proj}_lora"
            lora[f"{key}.down.weight"] = torch.randn(rank, lin.in_features, generator=gen) / rank
            lora[f"{key}.up.weight"] = torch.randn(lin.out_features, rank, generator=gen) * 0.2
    unet.load_attn_procs({k: v.clone() for k, v in lora.items()})
    f = {}
    with open(os.path.join(HERE, "unet_i_io.safetensors"), "rb") as fh:
        raw = fh.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        dt = {"F32": "<f4", "I32": "<i4"}[v["dtype"]]
        f[k] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dt).reshape(v["shape"]).copy())
    with torch.no_grad():
        out = unet(
            f["sample"], f["timestep"].long(), encoder_hidden_states=f["encoder_hidden_states"],
            cross_attention_kwargs={"scale": scale},
        ).sample
    write(os.path.join(HERE, "if_tiny_i_lora", "pytorch_lora_weights.safetensors"), lora)
    write(os.path.join(HERE, "unet_i_lora_io.safetensors"), {"out": out, "scale": torch.tensor([scale])})
    print("lora", len(lora), "tensors, out", float(out.abs().max()), "change", float((out - f["out"]).abs().max()))


# ---------------------------------------------------------------- schedulers
IF_SCHEDULER = dict(
    beta_schedule="squaredcos_cap_v2",
    num_train_timesteps=1000,
    prediction_type="epsilon",
    thresholding=True,
    dynamic_thresholding_ratio=0.95,
    sample_max_value=1.5,
    clip_sample=True,
    variance_type="learned_range",
)


def toy_model(x, k, gen_a, gen_b):
    """The 'model' of the trajectories: epsilon = 0.8 x + a_k, variance channel = tanh(b_k)."""
    return torch.cat([0.8 * x + gen_a[k], torch.tanh(gen_b[k])], dim=1)


def trajectories():
    gen = torch.Generator().manual_seed(7)
    steps, shape = 5, (2, 3, 4, 4)
    x0 = torch.randn(*shape, generator=gen) * 1.5
    a = torch.randn(steps, *shape, generator=gen)
    b = torch.randn(steps, *shape, generator=gen) * 2
    noise = torch.randn(steps, *shape, generator=gen)
    out = {"x_T": x0, "a": a, "b": b, "noise": noise}
    meta = {}
    for variant in ["learned_range", "fixed_small"]:
        sched = DDPMScheduler(**IF_SCHEDULER)
        if variant == "fixed_small":
            # diffusers' IF DreamBooth samples with the stage I scheduler switched to fixed_small
            sched = DDPMScheduler.from_config(sched.config, variance_type="fixed_small")
        sched.set_timesteps(steps)
        queue = list(noise)
        scheduling_ddpm.randn_tensor = lambda shape, generator=None, device=None, dtype=None: queue.pop(0).clone()
        x = x0.clone()
        traj = []
        for k, t in enumerate(sched.timesteps):
            mo = toy_model(x, k, a, b)
            if variant == "fixed_small":
                mo = mo[:, :3]  # the IF pipeline drops the variance channels for a non-learned variance
            x = sched.step(mo, t, x).prev_sample
            traj.append(x.clone())
        out[f"ddpm_{variant}"] = torch.stack(traj)
        meta[f"ddpm_{variant}"] = {"timesteps": [int(t) for t in sched.timesteps], "config": dict(sched.config)}
    ddim = DDIMScheduler(
        beta_schedule="squaredcos_cap_v2", num_train_timesteps=1000, prediction_type="epsilon",
        thresholding=True, dynamic_thresholding_ratio=0.95, sample_max_value=1.5, clip_sample=True,
        set_alpha_to_one=True, steps_offset=1, timestep_spacing="leading",
    )
    ddim.set_timesteps(steps)
    x = x0.clone()
    traj = []
    for k, t in enumerate(ddim.timesteps):
        mo = toy_model(x, k, a, b)[:, :3]
        x = ddim.step(mo, t, x, eta=0.0).prev_sample
        traj.append(x.clone())
    out["ddim"] = torch.stack(traj)
    meta["ddim"] = {"timesteps": [int(t) for t in ddim.timesteps], "config": dict(ddim.config)}
    sched = DDPMScheduler(**IF_SCHEDULER)
    out["alphas_cumprod"] = sched.alphas_cumprod
    write(os.path.join(HERE, "scheduler_trajectories.safetensors"), out)
    meta = json.loads(json.dumps(meta, default=lambda o: list(o) if isinstance(o, tuple) else str(o)))
    dump_json(os.path.join(HERE, "scheduler_trajectories.json"), meta)
    return dict(sched.config)


def scheduler_config(cfg):
    c = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items() if not k.startswith("_")}
    c["_class_name"] = "DDPMScheduler"
    c["_diffusers_version"] = "0.21.4"
    return c


def main():
    sched_cfg = scheduler_trajectories = trajectories()
    del scheduler_trajectories
    # T5 v1.1 twin: weights stored as sharded bf16; the reference runs on the bf16-rounded weights.
    gen = torch.Generator().manual_seed(11)
    tp = {k: round_dtype(v, "BF16") for k, v in t5_params(T5_CONFIG, gen).items()}
    toks = tokenizer_fixture()
    ids = torch.tensor([r["ids"] for r in toks])
    mask = torch.tensor([r["mask"] for r in toks])
    with torch.no_grad():
        hidden = T5EncoderTwin(T5_CONFIG, tp)(ids, mask)
    write(os.path.join(HERE, "t5_io.safetensors"), {"ids": ids.int(), "mask": mask.int(), "out": hidden})
    dump_json(os.path.join(HERE, "tokenizer_ids.json"), {"max_length": MAX_LEN, "model": "tokenizer/assets/t5_spiece.model", "rows": toks})
    for stage, folder_name in [("I", "if_tiny_i"), ("II", "if_tiny_ii")]:
        folder = os.path.join(HERE, folder_name)
        if stage == "I":
            te = os.path.join(folder, "text_encoder")
            write_sharded(te, "model.safetensors", tp, "BF16", 2)
            dump_json(os.path.join(te, "config.json"), T5_CONFIG)
        dump_json(os.path.join(folder, "scheduler", "scheduler_config.json"), scheduler_config(sched_cfg))
        if stage == "I":
            tok = os.path.join(folder, "tokenizer")
            os.makedirs(tok, exist_ok=True)
            with open(SPIECE, "rb") as src, open(os.path.join(tok, "spiece.model"), "wb") as dst:
                dst.write(src.read())
        index = {
            "_class_name": "IFPipeline" if stage == "I" else "IFSuperResolutionPipeline",
            "_diffusers_version": "0.21.4",
            "feature_extractor": [None, None],
            "requires_safety_checker": False,
            "safety_checker": [None, None],
            "scheduler": ["diffusers", "DDPMScheduler"],
            "text_encoder": ["transformers", "T5EncoderModel"],
            "tokenizer": ["transformers", "T5Tokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"],
            "watermarker": [None, None],
        }
        if stage == "II":
            # IF stage II folders are loaded with text_encoder=None (stage I's prompt embeddings are reused)
            index["text_encoder"] = [None, None]
            index["tokenizer"] = [None, None]
            index["image_noising_scheduler"] = ["diffusers", "DDPMScheduler"]
            noising = DDPMScheduler(beta_schedule="squaredcos_cap_v2")
            dump_json(os.path.join(folder, "image_noising_scheduler", "scheduler_config.json"), scheduler_config(dict(noising.config)))
        dump_json(os.path.join(folder, "model_index.json"), index)
    unet_case("unet_i", STAGE_I, 100, "F16", 2, 2, 8, [999, 17], None, os.path.join(HERE, "if_tiny_i"))
    lora_case(STAGE_I, 100)
    unet_case("unet_ii", STAGE_II, 200, "F32", 1, 2, 16, [500, 3], [250, 0], os.path.join(HERE, "if_tiny_ii"))


if __name__ == "__main__":
    main()
