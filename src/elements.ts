/**
 * Per-element data: symbols, standard atomic masses (IUPAC 2016, as ASE uses) and covalent radii
 * (Cordero et al. 2008, ASE's `covalent_radii`, used for bond detection like ASE's
 * `natural_cutoffs`). Masses and radii are given for H..Xe, which covers every data set oreo reads;
 * asking for a heavier element is an error rather than a silent guess.
 */

export const symbols: readonly string[] = [
  'X', 'H', 'He', 'Li', 'Be', 'B', 'C', 'N', 'O', 'F', 'Ne', 'Na', 'Mg', 'Al', 'Si', 'P', 'S', 'Cl', 'Ar',
  'K', 'Ca', 'Sc', 'Ti', 'V', 'Cr', 'Mn', 'Fe', 'Co', 'Ni', 'Cu', 'Zn', 'Ga', 'Ge', 'As', 'Se', 'Br', 'Kr',
  'Rb', 'Sr', 'Y', 'Zr', 'Nb', 'Mo', 'Tc', 'Ru', 'Rh', 'Pd', 'Ag', 'Cd', 'In', 'Sn', 'Sb', 'Te', 'I', 'Xe',
  'Cs', 'Ba', 'La', 'Ce', 'Pr', 'Nd', 'Pm', 'Sm', 'Eu', 'Gd', 'Tb', 'Dy', 'Ho', 'Er', 'Tm', 'Yb', 'Lu',
  'Hf', 'Ta', 'W', 'Re', 'Os', 'Ir', 'Pt', 'Au', 'Hg', 'Tl', 'Pb', 'Bi', 'Po', 'At', 'Rn',
  'Fr', 'Ra', 'Ac', 'Th', 'Pa', 'U', 'Np', 'Pu', 'Am', 'Cm', 'Bk', 'Cf', 'Es', 'Fm', 'Md', 'No', 'Lr',
  'Rf', 'Db', 'Sg', 'Bh', 'Hs', 'Mt', 'Ds', 'Rg', 'Cn', 'Nh', 'Fl', 'Mc', 'Lv', 'Ts', 'Og',
];

const masses: readonly number[] = [
  0, 1.008, 4.002602, 6.94, 9.0121831, 10.81, 12.011, 14.007, 15.999, 18.998403163, 20.1797,
  22.98976928, 24.305, 26.9815385, 28.085, 30.973761998, 32.06, 35.45, 39.948,
  39.0983, 40.078, 44.955908, 47.867, 50.9415, 51.9961, 54.938044, 55.845, 58.933194, 58.6934,
  63.546, 65.38, 69.723, 72.63, 74.921595, 78.971, 79.904, 83.798,
  85.4678, 87.62, 88.90584, 91.224, 92.90637, 95.95, 97.90721, 101.07, 102.9055, 106.42,
  107.8682, 112.414, 114.818, 118.71, 121.76, 127.6, 126.90447, 131.293,
];

const covalentRadii: readonly number[] = [
  0.2, 0.31, 0.28, 1.28, 0.96, 0.84, 0.76, 0.71, 0.66, 0.57, 0.58,
  1.66, 1.41, 1.21, 1.11, 1.07, 1.05, 1.02, 1.06,
  2.03, 1.76, 1.7, 1.6, 1.53, 1.39, 1.39, 1.32, 1.26, 1.24, 1.32, 1.22, 1.22, 1.2, 1.19, 1.2, 1.2, 1.16,
  2.2, 1.95, 1.9, 1.75, 1.64, 1.54, 1.47, 1.46, 1.42, 1.39, 1.45, 1.44, 1.42, 1.39, 1.39, 1.38, 1.39, 1.4,
];

const bySymbol = new Map(symbols.map((s, z) => [s.toLowerCase(), z]));

/** Atomic number of an element symbol ("C", "cl", "Cl"); throws for an unknown symbol. */
export function atomicNumber(symbol: string): number {
  const z = bySymbol.get(symbol.trim().toLowerCase());
  if (z === undefined || z === 0) throw new Error(`unknown element symbol '${symbol}'`);
  return z;
}

export function symbolOf(z: number): string {
  if (!Number.isInteger(z) || z < 1 || z >= symbols.length) throw new Error(`no element with atomic number ${z}`);
  return symbols[z];
}

/** Standard atomic mass in amu. */
export function massOf(z: number): number {
  if (!Number.isInteger(z) || z < 1 || z >= masses.length) {
    throw new Error(`no mass tabulated for atomic number ${z} (oreo covers H..Xe)`);
  }
  return masses[z];
}

/** Covalent radius in Å (Cordero 2008, as ASE). */
export function covalentRadius(z: number): number {
  if (!Number.isInteger(z) || z < 1 || z >= covalentRadii.length) {
    throw new Error(`no covalent radius tabulated for atomic number ${z} (oreo covers H..Xe)`);
  }
  return covalentRadii[z];
}

/** Chemical formula in Hill order (C, H, then alphabetical), e.g. "C9H8O4". */
export function formula(z: ArrayLike<number>): string {
  const counts = new Map<string, number>();
  for (let i = 0; i < z.length; i++) {
    const s = symbolOf(z[i]);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const keys = [...counts.keys()].sort((a, b) => {
    const rank = (s: string) => (s === 'C' ? 0 : s === 'H' && counts.has('C') ? 1 : 2);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  return keys.map((k) => k + (counts.get(k)! > 1 ? counts.get(k) : '')).join('');
}
