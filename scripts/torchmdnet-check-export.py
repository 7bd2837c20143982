#!/usr/bin/python3
"""Load a checkpoint with TorchMD-Net's own load_model and print its energies and forces as JSON.

The acceptance check of ``oreo export --format torchmdnet`` (test/model/export.test.ts runs it):
``torchmdnet.models.model.load_model(CKPT)`` builds the model from the file's hyper_parameters
and loads its state_dict strictly, exactly as TorchMD-Net users load a trained model; then one
forward call per structure, with the model's ``derivative=True``, gives the energy and the
forces (-dE/dr, by autograd). Positions go in as given (Å for oreo models), in the model's
precision; nothing is converted.

Input (--input): an MD17-style .npz (``nuclear_charges``, ``coords``; --frames picks frames,
default all) or a JSON file ``{"structures": [{"z": [...], "pos": [[x, y, z], ...]}, ...]}``.
Output: one JSON line ``{"torch", "torchmdnet", "models": [{"model", "precision", "frames":
[{"energy", "forces"}]}]}``, one entry per --model (several share one start of torch).

Prerequisites (Debian bookworm; the apt packages exist only for /usr/bin/python3)
    apt-get install -y python3-torch python3-numpy
    TorchMD-Net v2.6.2 source, not installed, only put on sys.path:
        git clone https://github.com/torchmd/torchmd-net && cd torchmd-net
        mkdir -p /work/tmdnet/torchmd-net
        git archive v2.6.2 torchmdnet pyproject.toml LICENSE | tar -x -C /work/tmdnet/torchmd-net
    and point --torchmdnet or $TORCHMDNET_SRC at it (default /work/tmdnet/torchmd-net).
    With a pip-installed torchmd-net (and torch >= 2) the shims below are no-ops.

Four shims (scripts/torchmdnet_compat.py, shared with bench/torchmdnet-baseline.py), applied in
this process only, let v2.6.2 run on Debian's torch 1.13 without lightning installed.

Run from the repository root:
    /usr/bin/python3 scripts/torchmdnet-check-export.py --model model.ckpt [more.ckpt ...] \
        --input data/rmd17/rmd17_aspirin_test_01.npz --frames 0,1,2
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import sys
import warnings

from torchmdnet_compat import install_shims, torchmdnet_version

DEFAULT_SRC = "/work/tmdnet/torchmd-net"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--torchmdnet", default=os.environ.get("TORCHMDNET_SRC") or DEFAULT_SRC,
                   help=f"directory holding the torchmdnet package ($TORCHMDNET_SRC, default {DEFAULT_SRC})")
    p.add_argument("--model", nargs="+", default=[], help="checkpoint(s) to load with load_model")
    p.add_argument("--input", help="MD17-style .npz or a JSON list of structures")
    p.add_argument("--frames", default=None, help="npz frames, comma-separated (default all)")
    p.add_argument("--probe", action="store_true",
                   help="only check that torch and torchmdnet import; print their versions")
    a = p.parse_args()
    if not a.probe and (not a.model or not a.input):
        p.error("--model and --input are required (or --probe)")
    return a


def read_structures(path, frames):
    if path.endswith(".npz"):
        import numpy as np
        with np.load(path) as d:
            z = d["nuclear_charges"].astype("int64").tolist()
            coords = d["coords"]
            idx = range(len(coords)) if frames is None else [int(f) for f in frames.split(",")]
            return [{"z": z, "pos": coords[i].tolist()} for i in idx]
    with open(path) as f:
        return json.load(f)["structures"]


def main():
    args = parse_args()
    import torch
    torch.set_num_threads(1)
    install_shims(torch)
    if os.path.isdir(os.path.join(args.torchmdnet, "torchmdnet")):
        sys.path.insert(0, os.path.abspath(args.torchmdnet))
    import torchmdnet
    from torchmdnet.models.model import load_model
    info = {"torch": torch.__version__, "torchmdnet": torchmdnet_version(torchmdnet, args.torchmdnet)}
    if args.probe:
        print(json.dumps(info))
        return

    structures = read_structures(args.input, args.frames)
    models = []
    for path in args.model:
        with warnings.catch_warnings():
            # torch 1.13 calls scatter_reduce "beta" on every forward call.
            warnings.simplefilter("ignore")
            model = load_model(path, device="cpu")
            model.eval()
            dtype = next(model.parameters()).dtype
            frames = []
            for s in structures:
                z = torch.tensor(s["z"], dtype=torch.long)
                pos = torch.tensor(s["pos"], dtype=dtype)
                energy, forces = model(z, pos, torch.zeros_like(z))
                frames.append({"energy": float(energy.reshape(-1)[0]), "forces": forces.detach().double().tolist()})
        models.append({"model": path, "precision": 64 if dtype == torch.float64 else 32, "frames": frames})
    print(json.dumps({**info, "models": models}))

if __name__ == "__main__":
    main()
