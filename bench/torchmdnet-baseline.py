#!/usr/bin/python3
"""TorchMD-Net PyTorch-CPU baseline: wall time of one energy+forces call.

What it measures
    For each of two Equivariant Transformer sizes (6 layers x 128 channels x 32 RBF,
    and 8 x 256 x 64 RBF; 8 heads, 5 A cutoff, expnorm RBF, SiLU, neighbour
    embedding, random weights, float32, eval mode) it times ``model(z, pos, batch)``
    on the first aspirin frame of the rMD17 sample (21 atoms). With
    ``derivative=True`` that one call is what TorchMD-Net's own inference does:
    neighbour list, forward pass and autograd forces (``create_graph=False`` in
    eval mode). After ``--warmup`` untimed calls it times ``--repeat`` calls and
    prints median/min/max in ms. Torch runs on one thread, so the number is
    comparable with oreo's single-threaded engine timed in the same sitting.

With ``--train`` it times one training step instead, as the reference training
    loop (and ``oreo bench --train``) takes it: a batch of 32 copies of that frame,
    model in train mode (forces by autograd with ``create_graph=True``), loss
    MSE(F_pred, F_ref) with F_ref the frame's rMD17 forces in eV/A, backward,
    AdamW step (lr 1e-7, so the weights stay where they were timed). Only the
    6x128x32 size, as in the issue that asks for the comparison.

Prerequisites (Debian bookworm; the apt packages only exist for /usr/bin/python3,
not for a pyenv python on PATH)
    apt-get install -y python3-torch python3-numpy python3-yaml python3-scipy

    TorchMD-Net v2.6.2 source (the last releases, v2.5.0-v2.6.2, whose CPU
    neighbour list is pure torch: no C++ extension to build, no NVIDIA Warp):
        git clone https://github.com/torchmd/torchmd-net && cd torchmd-net
        mkdir -p /work/tmdnet/torchmd-net
        git archive v2.6.2 torchmdnet pyproject.toml LICENSE \
            | tar -x -C /work/tmdnet/torchmd-net
        echo 2.6.2 > /work/tmdnet/torchmd-net/VERSION   # reported in the output
    Nothing of TorchMD-Net is vendored in oreo: this script only imports it from
    the path given by --torchmdnet PATH or $TORCHMDNET_SRC.

    The shims of scripts/torchmdnet_compat.py, applied in this process only (the
    checkout is not edited), let v2.6.2 run on Debian's torch 1.13 without
    lightning installed.

Run from the repository root:
    /usr/bin/python3 bench/torchmdnet-baseline.py --torchmdnet /work/tmdnet/torchmd-net --json
"""

import os

# OpenBLAS and OpenMP read these when libtorch is loaded, so they must be set
# before ``import torch``; os.environ writes through to the C environment.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse
import json
import statistics
import sys
import time

# The TorchMD-Net-on-torch-1.13 shims, shared with scripts/torchmdnet-check-export.py.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from torchmdnet_compat import install_shims, torchmdnet_version  # noqa: E402

SIZES = [
    # (label, num_layers, embedding_dimension, num_rbf)
    ("6x128x32", 6, 128, 32),
    ("8x256x64", 8, 256, 64),
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--torchmdnet", default=os.environ.get("TORCHMDNET_SRC"),
                   help="directory holding the torchmdnet package (or $TORCHMDNET_SRC)")
    p.add_argument("--input", default="data/rmd17/rmd17_aspirin_test_01.npz",
                   help="rMD17 .npz (nuclear_charges, coords in A); frame 0 is used")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeat", type=int, default=21)
    p.add_argument("--seed", type=int, default=0, help="seed for the random weights")
    p.add_argument("--train", action="store_true",
                   help="time a batch training step (6x128x32 only) instead of inference")
    p.add_argument("--batch", type=int, default=32, help="molecules per training batch (--train)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object as the last line")
    a = p.parse_args()
    if not a.torchmdnet:
        p.error("give the TorchMD-Net source directory with --torchmdnet PATH or TORCHMDNET_SRC")
    if not os.path.isdir(os.path.join(a.torchmdnet, "torchmdnet")):
        p.error(f"{a.torchmdnet}: no torchmdnet/ package directory there")
    if a.warmup < 0 or a.repeat < 1:
        p.error("--warmup must be >= 0 and --repeat >= 1")
    return a


def build_model(create_model, layers, channels, rbf):
    return create_model({
        "model": "equivariant-transformer",
        "output_model": "Scalar",  # create_model turns this into EquivariantScalar for ET
        "precision": 32,
        "embedding_dimension": channels,
        "num_layers": layers,
        "num_rbf": rbf,
        "rbf_type": "expnorm",
        "trainable_rbf": False,
        "activation": "silu",
        "attn_activation": "silu",
        "num_heads": 8,
        "distance_influence": "both",
        "neighbor_embedding": True,
        "cutoff_lower": 0.0,
        "cutoff_upper": 5.0,
        "max_z": 100,
        "max_num_neighbors": 64,
        "derivative": True,
        "atom_filter": -1,
        "prior_model": None,
        "reduce_op": "add",
    })


def time_training_step(args, create_model, z, pos, f_ref):
    import torch
    label, layers, channels, rbf = SIZES[0]
    torch.manual_seed(args.seed)
    model = build_model(create_model, layers, channels, rbf).train()
    n, b = len(z), args.batch
    zb = z.repeat(b)
    posb = pos.repeat(b, 1)
    batch = torch.arange(b).repeat_interleave(n)
    fb = f_ref.repeat(b, 1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-7, weight_decay=0.0)

    def step():
        opt.zero_grad()
        _, forces = model(zb, posb, batch)
        loss = torch.mean((forces - fb) ** 2)
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return {"model": label, "train": True, "batch": b, "median_ms": round(statistics.median(times), 3),
            "min_ms": round(min(times), 3), "max_ms": round(max(times), 3),
            "params": sum(p.numel() for p in model.parameters())}


def main():
    args = parse_args()
    import numpy as np
    import torch

    torch.set_num_threads(1)
    install_shims(torch)
    sys.path.insert(0, os.path.abspath(args.torchmdnet))
    import torchmdnet
    from torchmdnet.models.model import create_model

    with np.load(args.input) as d:
        missing = [k for k in ("nuclear_charges", "coords") if k not in d.files]
        if missing:
            sys.exit(f"{args.input}: missing field(s) {', '.join(missing)}")
        z = torch.tensor(d["nuclear_charges"].astype(np.int64))
        pos = torch.tensor(d["coords"][0], dtype=torch.float32)
    batch = torch.zeros_like(z)

    version = torchmdnet_version(torchmdnet, args.torchmdnet)
    print(f"torch {torch.__version__}, torchmdnet {version}, threads {torch.get_num_threads()}, "
          f"{len(z)} atoms from {args.input} frame 0, warmup {args.warmup}, repeat {args.repeat}")

    if args.train:
        with np.load(args.input) as d:
            if "forces" not in d.files:
                sys.exit(f"{args.input}: missing field forces (needed for --train)")
            # rMD17 forces are kcal/mol/A; eV/A as oreo trains in.
            f_ref = torch.tensor(d["forces"][0] / 23.0605, dtype=torch.float32)
        rows = [time_training_step(args, create_model, z, pos, f_ref)]
        print(f"{rows[0]['model']}: training step, batch {args.batch}; median {rows[0]['median_ms']:.1f} ms, "
              f"min {rows[0]['min_ms']:.1f}, max {rows[0]['max_ms']:.1f}")
        if args.json:
            print(json.dumps({"rows": rows, "torch": torch.__version__, "torchmdnet": version,
                              "threads": torch.get_num_threads(), "atoms": len(z), "batch": args.batch,
                              "warmup": args.warmup, "repeat": args.repeat}))
        return

    rows = []
    for label, layers, channels, rbf in SIZES:
        torch.manual_seed(args.seed)
        model = build_model(create_model, layers, channels, rbf).eval()
        params = sum(p.numel() for p in model.parameters())

        energy, forces = model(z, pos, batch)
        # Forces are -dE/dr of a translation-invariant energy, so they must sum to ~0.
        fsum = float(forces.sum(0).abs().max())
        fmax = float(forces.abs().max())

        for _ in range(args.warmup):
            model(z, pos, batch)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            model(z, pos, batch)
            times.append((time.perf_counter() - t0) * 1e3)

        row = {"model": label, "median_ms": round(statistics.median(times), 3),
               "min_ms": round(min(times), 3), "max_ms": round(max(times), 3),
               "params": params}
        rows.append(row)
        print(f"{label}: {params} params, E={float(energy):.5g}, max|F|={fmax:.3g}, "
              f"|sum F|max={fsum:.2e}; median {row['median_ms']:.2f} ms, "
              f"min {row['min_ms']:.2f}, max {row['max_ms']:.2f}")

    if args.json:
        print(json.dumps({"rows": rows, "torch": torch.__version__, "torchmdnet": version,
                          "threads": torch.get_num_threads(), "atoms": len(z),
                          "warmup": args.warmup, "repeat": args.repeat}))


if __name__ == "__main__":
    main()
