"""ASE's i-PI socket server against `oreo driver` (run by test/driver/ase-socket.test.ts).

Opens SocketIOCalculator(unixsocket=NAME), which listens on /tmp/ipi_NAME, and waits for the
driver there. Then: the forces of one frame through the socket are compared with oreo's own
forces on that frame (given in REFERENCE, eV/Å, from `oreo predict`), and ASE runs velocity
Verlet MD through the socket. Closing the calculator closes the socket, which ends the driver.

Prints one JSON line with the agreement and the MD timing; exits 1 if the forces disagree.

usage: python3 ase_socket_md.py NAME REFERENCE.json [--steps 100] [--dt 0.5] [--tol 1e-6]
       (NAME may be port:N to listen on TCP port N instead)
"""
import argparse
import json
import sys
import time

import numpy as np
from ase import Atoms, units
from ase.calculators.socketio import SocketIOCalculator
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.md.verlet import VelocityVerlet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('socket')
    ap.add_argument('reference')
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--dt', type=float, default=0.5, help='fs')
    ap.add_argument('--tol', type=float, default=1e-6, help='max |dF| / max |F|')
    ap.add_argument('--timeout', type=float, default=120, help='s to wait for the driver')
    args = ap.parse_args()

    with open(args.reference) as f:
        ref = json.load(f)
    atoms = Atoms(numbers=ref['numbers'], positions=np.reshape(ref['positions'], (-1, 3)))
    f_ref = np.array(ref['forces'], dtype=np.float64).reshape(-1, 3)

    out = {}
    # The timeout bounds every wait on the driver (accept and each answer), so a driver that
    # never comes fails the test instead of hanging it.
    where = ({'port': int(args.socket[5:])} if args.socket.startswith('port:')
             else {'unixsocket': args.socket})
    with SocketIOCalculator(timeout=args.timeout, **where) as calc:
        atoms.calc = calc
        t0 = time.perf_counter()
        forces = atoms.get_forces()
        energy = atoms.get_potential_energy()
        out['first_call_s'] = time.perf_counter() - t0
        df = np.abs(forces - f_ref)
        out['max_abs_dF'] = float(df.max())
        out['max_abs_F'] = float(np.abs(f_ref).max())
        out['max_rel_dF'] = out['max_abs_dF'] / out['max_abs_F']
        out['dE'] = float(energy - ref['energy'])

        MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(7))
        dyn = VelocityVerlet(atoms, timestep=args.dt * units.fs)
        e0 = atoms.get_total_energy()
        t0 = time.perf_counter()
        dyn.run(args.steps)
        seconds = time.perf_counter() - t0
        out['md_steps'] = dyn.nsteps
        out['md_seconds'] = seconds
        out['steps_per_s'] = dyn.nsteps / seconds
        out['etot_drift'] = float(atoms.get_total_energy() - e0)
        out['final_positions_finite'] = bool(np.isfinite(atoms.positions).all())

    ok = out['max_rel_dF'] <= args.tol and out['md_steps'] == args.steps
    out['ok'] = bool(ok)
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
