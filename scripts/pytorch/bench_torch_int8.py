#!/usr/bin/python3
"""Time PyTorch fp32 vs PyTorch dynamic int8 (torch.quantization.quantize_dynamic) on the
same 4-layer ~109k-parameter MLP as test/fixtures/pytorch/mlp4_reward.onnx, at batch 64.

This is the baseline our own int8 path has to beat. The MLP here has the fixture's
architecture (40 -> 256 -> 256 -> 128 -> 1, ReLU); timings do not depend on the trained
weights, so the fixture's weights are loaded from the .onnx when the onnx package is there
(they are), else a seeded init is used.

Run (Debian bookworm; PyPI is not needed):

    apt-get install -y python3-torch python3-onnx
    /usr/bin/python3 scripts/pytorch/bench_torch_int8.py [--reps 3000] [--batch 64]

Reports median microseconds per forward call for: 1 thread, and the default thread
count (and the machine's core count if it differs from the default), for each int8
quantized engine the build supports (onednn, qnnpack on Debian's build).

BLAS matters a lot for the fp32 number: Debian's python3-torch is built with
BLAS_INFO=generic and uses whatever libblas.so.3 the alternatives system points to; on a
fresh machine that is the slow reference (netlib) BLAS. For a fair fp32 baseline run it
against OpenBLAS without changing the system default:

    apt-get install -y libopenblas0-pthread
    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
        /usr/bin/python3 scripts/pytorch/bench_torch_int8.py

The script prints which libblas it actually loaded.
"""

import argparse
import os
import statistics
import sys
import time
import types

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.dont_write_bytecode = True  # keep scripts/pytorch/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_fixtures import OUT_DIR, MLP4Reward  # noqa: E402


def load_fixture_weights(model):
    path = os.path.join(OUT_DIR, "mlp4_reward.onnx")
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return "seeded init (onnx not installed)"
    if not os.path.exists(path):
        return "seeded init (fixture not found)"
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}
    sd = {k: torch.from_numpy(inits[k].copy()) for k in model.state_dict()}
    model.load_state_dict(sd)
    return path


def qnnpack_quiet(qmodel):
    """nn.quantized.dynamic.Linear calls quantized::linear_dynamic with reduce_range=True,
    which qnnpack ignores but answers with a glog warning on EVERY call; that logging
    would dominate the timing. Call the same op with reduce_range=False instead: qnnpack
    computes exactly the same thing, silently."""
    for mod in qmodel.modules():
        if isinstance(mod, torch.nn.quantized.dynamic.Linear):
            def fwd(self, x):
                return torch.ops.quantized.linear_dynamic(
                    x, self._packed_params._packed_params, False)
            mod.forward = types.MethodType(fwd, mod)
    return qmodel


def loaded_blas():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower()}
        return ", ".join(sorted(os.path.realpath(p) for p in libs)) or "none found"
    except OSError:
        return "unknown"


def time_model(model, x, reps, warmup):
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter_ns()
            model(x)
            samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1e3, min(samples) / 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3000)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    torch.manual_seed(0)
    fp32 = MLP4Reward().eval()
    src = load_fixture_weights(fp32)
    x = torch.randn(args.batch, 40)
    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    int8 = {}
    for eng in engines:
        # quantize_dynamic pre-packs weights for the engine that is active at that time.
        torch.backends.quantized.engine = eng
        q = torch.quantization.quantize_dynamic(fp32, {nn.Linear}, dtype=torch.qint8).eval()
        int8[eng] = qnnpack_quiet(q) if eng == "qnnpack" else q
    with torch.no_grad():
        ref = fp32(x)
        errs = {}
        for eng, q in int8.items():
            torch.backends.quantized.engine = eng
            errs[eng] = (ref - q(x)).abs().max().item()

    default_threads = torch.get_num_threads()
    cores = os.cpu_count() or 1
    print(f"torch {torch.__version__}, int8 engines {engines}; BLAS loaded: {loaded_blas()}")
    print(f"weights: {src}; params {sum(p.numel() for p in fp32.parameters())}")
    print(f"batch {args.batch}, reps {args.reps} (warmup {args.warmup}), "
          f"default threads {default_threads}, cpu_count {cores}")
    print(f"output range fp32 [{ref.min().item():.3f}, {ref.max().item():.3f}]; max |fp32 - int8|: "
          + ", ".join(f"{e} {v:.5f}" for e, v in errs.items()))

    thread_settings = [("1 thread", 1), (f"default ({default_threads})", default_threads)]
    if cores != default_threads:
        thread_settings.append((f"cpu_count ({cores})", cores))

    for label, n in thread_settings:
        torch.set_num_threads(n)
        f_med, f_min = time_model(fp32, x, args.reps, args.warmup)
        print(f"[{label:>13}] fp32          median {f_med:8.1f} us (min {f_min:7.1f}), "
              f"{f_med / args.batch:.2f} us/row")
        for eng, q in int8.items():
            torch.backends.quantized.engine = eng
            q_med, q_min = time_model(q, x, args.reps, args.warmup)
            print(f"[{label:>13}] int8 {eng:<8} median {q_med:8.1f} us (min {q_min:7.1f}), "
                  f"{q_med / args.batch:.2f} us/row | fp32/int8 = {f_med / q_med:.2f}x")
    torch.set_num_threads(default_threads)


if __name__ == "__main__":
    main()
