#!/usr/bin/python3
"""Export real PyTorch ONNX test fixtures plus PyTorch's own reference outputs.

Writes into test/fixtures/pytorch/ (relative to the repo root):

  mlp4_reward.onnx            4-layer MLP reward model (~109k params), opset 13, dynamic batch
  mlp4_reward_op14..17.onnx   the same trained MLP (same weights) exported at opsets 14, 15, 16, 17
  lidar_conv1d.onnx           two-input Conv1d lidar model (scan + sa), opset 13, dynamic batch
  tiny_transformer.onnx       nn.TransformerEncoder reward model, opset 14, dynamic batch
  mlp_gemm_static.onnx        small Gemm MLP with a FIXED batch of 1, opset 13

and for every model a <name>.ref.json:

  { "producer": "pytorch <version>", "opset": N, "params": P, "torch_version": "...",
    "inputs":  { "<name>": { "dims": [...], "data": [flat float32 values] } },
    "outputs": { "<name>": { "dims": [...], "data": [flat float32 values] } } }

computed by PyTorch itself (model.eval(), torch.no_grad()) on a seeded random batch of
64 rows (1 row for the fixed-batch model). Every export is checked with
onnx.checker.check_model and must carry producer_name == "pytorch".

CI does not have torch: this script is run by hand and its outputs are committed.
To regenerate (Debian bookworm; PyPI is not needed):

    apt-get install -y python3-torch python3-onnx
    /usr/bin/python3 scripts/pytorch/export_fixtures.py

Use /usr/bin/python3 explicitly: a `python3` found first on PATH (e.g. pyenv) may not
see the Debian packages. Output is deterministic for a given torch build (seeded,
single-threaded, deterministic algorithms); it was produced with Debian's torch 1.13.
"""

import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 20240501
REF_ROWS = 64

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "test", "fixtures", "pytorch")


# --------------------------------------------------------------------------- models


class MLP4Reward(nn.Module):
    """40 -> 256 -> 256 -> 128 -> 1 with ReLU: 109,313 parameters."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(40, 256),
            nn.ReLU(),
            nn.Linear(256, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, 1),
        )

    def forward(self, x):
        return self.net(x)


class LidarConv1d(nn.Module):
    """scan [B,1,32] -> Conv1d(1,16,5)+ReLU -> Conv1d(16,16,5)+ReLU -> flatten (16*24),
    concat sa [B,8] -> Linear(392,64)+ReLU -> Linear(64,1)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 16, 5)
        self.conv2 = nn.Conv1d(16, 16, 5)
        self.fc1 = nn.Linear(16 * 24 + 8, 64)
        self.fc2 = nn.Linear(64, 1)

    def forward(self, scan, sa):
        h = torch.relu(self.conv1(scan))
        h = torch.relu(self.conv2(h))
        h = torch.flatten(h, 1)
        h = torch.cat([h, sa], dim=1)
        h = torch.relu(self.fc1(h))
        return self.fc2(h)


class TinyTransformerReward(nn.Module):
    """tokens [B,8,16] -> 2-layer TransformerEncoder (d_model 16, 2 heads, ff 32,
    batch_first) -> mean over tokens -> Linear(16,1)."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(
            d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 1)

    def forward(self, tokens):
        h = self.encoder(tokens)
        return self.head(h.mean(dim=1))


class MLPGemmStatic(nn.Module):
    """12 -> 32 -> 16 -> 1 with Tanh; exported with a fixed batch of 1 (Gemm nodes)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(12, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 1)
        )

    def forward(self, x):
        return self.net(x)


# --------------------------------------------------------------------------- training


def synthetic_reward(x, proj):
    """Reward-shaped target: state s = x[:, :32], action a = x[:, 32:40].
    r = -||a - tanh(s @ proj)||^2 + 0.5 * sin(s0) * cos(s1) + 0.1 * s2."""
    s, a = x[:, :32], x[:, 32:]
    target_a = torch.tanh(s @ proj)
    r = -((a - target_a) ** 2).sum(dim=1)
    r = r + 0.5 * torch.sin(s[:, 0]) * torch.cos(s[:, 1]) + 0.1 * s[:, 2]
    return r.unsqueeze(1)


def train_mlp(model, steps=400, batch=256):
    g = torch.Generator().manual_seed(SEED + 1)
    proj = torch.randn(32, 8, generator=g) / np.sqrt(32.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    first = last = None
    for step in range(steps):
        x = torch.randn(batch, 40, generator=g)
        y = synthetic_reward(x, proj)
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == 0:
            first = loss.item()
        last = loss.item()
    # Held-out loss for the record.
    with torch.no_grad():
        x = torch.randn(2048, 40, generator=g)
        held = nn.functional.mse_loss(model(x), synthetic_reward(x, proj)).item()
    model.eval()
    print(f"  mlp4 training: loss {first:.4f} -> {last:.4f} over {steps} steps; held-out mse {held:.4f}")
    return held


# --------------------------------------------------------------------------- helpers


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def f32_list(t):
    """Flat list of float32 values, each printed as the shortest decimal that round-trips
    to the same float32 (so JSON -> Float32Array gives bit-identical inputs)."""
    arr = t.detach().cpu().numpy().astype(np.float32).ravel()
    return [float(np.format_float_scientific(v, unique=True, trim="-")) for v in arr]


def export(model, name, inputs, input_names, output_names, opset, dynamic_batch, extra=None):
    path = os.path.join(OUT_DIR, name + ".onnx")
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {n: {0: "batch"} for n in input_names + output_names}
    model.eval()
    torch.onnx.export(
        model,
        tuple(inputs),
        path,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=dynamic_axes,
        opset_version=opset,
        do_constant_folding=True,
        export_params=True,
        training=torch.onnx.TrainingMode.EVAL,
    )

    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    if m.producer_name != "pytorch":
        raise SystemExit(f"{path}: producer_name is {m.producer_name!r}, expected 'pytorch'")
    file_opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    if file_opset != opset:
        raise SystemExit(f"{path}: opset_import says {file_opset}, expected {opset}")

    with torch.no_grad():
        outs = model(*inputs)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)

    ref = {
        "producer": f"{m.producer_name} {m.producer_version}",
        "torch_version": torch.__version__,
        "opset": opset,
        "params": n_params(model),
        "inputs": {
            n: {"dims": list(t.shape), "data": f32_list(t)} for n, t in zip(input_names, inputs)
        },
        "outputs": {
            n: {"dims": list(t.shape), "data": f32_list(t)} for n, t in zip(output_names, outs)
        },
    }
    if extra:
        ref.update(extra)
    with open(os.path.join(OUT_DIR, name + ".ref.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")

    ops = sorted({n.op_type for n in m.graph.node})
    size = os.path.getsize(path)
    print(
        f"  {name}.onnx: {size} bytes, opset {opset}, {n_params(model)} params, "
        f"inputs {[(n, list(t.shape)) for n, t in zip(input_names, inputs)]}, "
        f"outputs {[(n, list(t.shape)) for n, t in zip(output_names, outs)]}, ops {ops}"
    )


# --------------------------------------------------------------------------- main


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    print(f"torch {torch.__version__}, onnx {onnx.__version__} -> {OUT_DIR}")

    g = torch.Generator().manual_seed(SEED + 100)

    # 1. MLP reward model (trained), opset 13 + the same weights at opsets 14..17.
    torch.manual_seed(SEED + 10)
    mlp = MLP4Reward()
    held = train_mlp(mlp)
    x = torch.randn(REF_ROWS, 40, generator=g)
    extra = {"train": {"steps": 400, "heldout_mse": round(held, 6)}}
    export(mlp, "mlp4_reward", [x], ["x"], ["reward"], 13, True, extra)
    for opset in (14, 15, 16, 17):
        export(mlp, f"mlp4_reward_op{opset}", [x], ["x"], ["reward"], opset, True, extra)

    # 2. Two-input Conv1d lidar model.
    torch.manual_seed(SEED + 20)
    lidar = LidarConv1d().eval()
    scan = torch.rand(REF_ROWS, 1, 32, generator=g) * 10.0  # ranges in metres
    sa = torch.randn(REF_ROWS, 8, generator=g)
    export(lidar, "lidar_conv1d", [scan, sa], ["scan", "sa"], ["reward"], 13, True)

    # 3. Tiny Transformer encoder reward model.
    torch.manual_seed(SEED + 30)
    tr = TinyTransformerReward().eval()
    # nn.TransformerEncoder deep-copies its layer, so at init both layers are identical
    # (and LayerNorm is 1/0, attention biases 0); the exporter would then deduplicate the
    # weights into shared initializers + Identity nodes. Perturb every parameter so each
    # layer has its own, non-trivial weights.
    gp = torch.Generator().manual_seed(SEED + 31)
    with torch.no_grad():
        for prm in tr.parameters():
            prm.add_(torch.randn(prm.shape, generator=gp) * 0.1)
    tokens = torch.randn(REF_ROWS, 8, 16, generator=g)
    export(tr, "tiny_transformer", [tokens], ["tokens"], ["reward"], 14, True)

    # 4. Fixed batch-1 Gemm MLP.
    torch.manual_seed(SEED + 40)
    st = MLPGemmStatic().eval()
    xs = torch.randn(1, 12, generator=g)
    export(st, "mlp_gemm_static", [xs], ["x"], ["reward"], 13, False)

    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in os.listdir(OUT_DIR))
    print(f"total fixture folder size: {total} bytes")
    if total > 3 * 1024 * 1024:
        raise SystemExit("fixture folder exceeds 3 MB")


if __name__ == "__main__":
    sys.exit(main())
