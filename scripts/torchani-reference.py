#!/usr/bin/python3
"""ANI-2x reference numbers from TorchANI, for oreo's parity tests (test/model/ani-parity.test.ts).

Runs TorchANI from its source tree (aiqm/torchani, tag 2.2.4, MIT) on Debian's python3-torch,
in float64, on the structures of an xyz file, with the NeuroChem ANI-2x files oreo converts
(its own neurochem loader, so both sides read the same published files). Writes JSON with each
member's and the ensemble's energy (Hartree) and forces (Hartree/Å), plus provenance.

    TORCHANI_SRC=/path/to/torchani-2.2.4 /usr/bin/python3 scripts/torchani-reference.py \
        --model-dir /path/to/ani-model-zoo/ani-2x_8x \
        --input test/fixtures/torchani/molecules.xyz \
        --out test/fixtures/torchani/ani2x-reference.json

TorchANI's aev.py asks the installed package's metadata whether its CUDA extension is present;
run from source there is no metadata, so a stand-in `importlib_metadata` module answering
"nothing provided" is put on the path first (torchani itself is not modified).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import types


def stand_in_metadata():
    module = types.ModuleType('importlib_metadata')

    class _Meta:
        def get_all(self, key, default=None):
            return []

    module.metadata = lambda name: _Meta()
    sys.modules['importlib_metadata'] = module


def read_xyz(path):
    """Frames of a plain xyz file: (name, symbols, positions in Å)."""
    frames = []
    with open(path) as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        n = int(lines[i])
        comment = lines[i + 1]
        fields = dict(kv.split('=', 1) for kv in comment.split() if '=' in kv)
        symbols, positions = [], []
        for line in lines[i + 2:i + 2 + n]:
            parts = line.split()
            symbols.append(parts[0])
            positions.append([float(x) for x in parts[1:4]])
        frames.append((fields.get('name', 'frame%d' % len(frames)), fields.get('smiles'), symbols, positions))
        i += 2 + n
    return frames


def git_commit(src):
    try:
        return subprocess.check_output(['git', '-C', src, 'rev-parse', 'HEAD'], stderr=subprocess.DEVNULL).decode().strip()
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model-dir', required=True, help='NeuroChem ANI-2x folder (with the .params file and train0..7)')
    ap.add_argument('--input', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--torchani-src', default=os.environ.get('TORCHANI_SRC'))
    ap.add_argument('--torchani-tag', default='2.2.4')
    ap.add_argument('--torchani-commit', default=None, help='commit of the source tree, when it is not a git checkout')
    args = ap.parse_args()
    if not args.torchani_src:
        sys.exit('torchani-reference.py: give --torchani-src or set TORCHANI_SRC')

    stand_in_metadata()
    sys.path.insert(0, args.torchani_src)
    import warnings
    warnings.filterwarnings('ignore')
    import torch
    import torchani
    from torchani import neurochem

    # Built as TorchANI users build a float64 model: modules made with torch's default float32
    # (so the AEV constants are float32-rounded, as in NeuroChem), then .double().
    params = [f for f in os.listdir(args.model_dir) if f.endswith('.params')][0]
    consts = neurochem.Constants(os.path.join(args.model_dir, params))
    aev_computer = torchani.AEVComputer(**consts).double()
    shifter = neurochem.load_sae(os.path.join(args.model_dir, 'sae_linfit.dat'))
    members = [f for f in os.listdir(args.model_dir) if f.startswith('train')]
    ensemble = neurochem.load_model_ensemble(consts.species, os.path.join(args.model_dir, 'train'), len(members)).double()
    shifter = shifter.double()

    def energy_of(network, species, coords):
        _, aevs = aev_computer((species, coords))
        _, e = network((species, aevs))
        _, e = shifter((species, e))
        return e

    out = []
    for name, smiles, symbols, positions in read_xyz(args.input):
        species = consts.species_to_tensor(symbols).unsqueeze(0)
        record = {'name': name, 'smiles': smiles, 'symbols': symbols, 'positions': positions, 'members': []}
        nets = list(ensemble) + [ensemble]
        for k, net in enumerate(nets):
            coords = torch.tensor([positions], dtype=torch.float64, requires_grad=True)
            e = energy_of(net, species, coords)
            (g,) = torch.autograd.grad(e.sum(), coords)
            entry = {'energy': e.item(), 'forces': (-g[0]).tolist()}
            if k < len(ensemble):
                record['members'].append(entry)
            else:
                record['ensemble'] = entry
        out.append(record)

    fixture = {
        'description': '%s (%d members) energies (Hartree) and forces (Hartree/Å) from TorchANI, float64' % (os.path.basename(os.path.normpath(args.model_dir)), len(members)),
        'units': {'energy': 'Hartree', 'forces': 'Hartree/Å', 'positions': 'Å'},
        'provenance': {
            'torchani': {'repository': 'https://github.com/aiqm/torchani', 'tag': args.torchani_tag,
                         'commit': args.torchani_commit or git_commit(args.torchani_src)},
            'torch': torch.__version__,
            'python': sys.version.split()[0],
            'model': 'aiqm/ani-model-zoo ANI-2x NeuroChem files (%s), loaded with torchani.neurochem' % params,
            'script': 'scripts/torchani-reference.py',
            'input': os.path.basename(args.input),
        },
        'molecules': out,
    }
    tmp = args.out + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(fixture, f, indent=1)
        f.write('\n')
    os.replace(tmp, args.out)
    print('wrote %d molecules to %s' % (len(out), args.out), file=sys.stderr)


if __name__ == '__main__':
    main()
