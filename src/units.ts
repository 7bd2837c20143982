/**
 * Units. Inside oreo everything is eV, Å, fs, amu, K; readers and writers convert at the edges
 * with the factors below and nowhere else.
 *
 * Constants are CODATA 2014, the set ASE 3.22 uses, so that numbers compare with ASE and MDsim
 * (which runs on ASE) to round-off.
 */

const C = {
  electronCharge: 1.6021766208e-19, // C
  amuKg: 1.66053904e-27, // kg
  boltzmannJ: 1.38064852e-23, // J/K
  avogadro: 6.022140857e23, // 1/mol
  hartreeJ: 4.35974465e-18, // J
  bohrAngstrom: 0.52917721067, // Å
} as const;

/** Boltzmann constant in eV/K. */
export const kB = C.boltzmannJ / C.electronCharge;
/** 1 Hartree in eV. */
export const Hartree = C.hartreeJ / C.electronCharge;
/** 1 Bohr in Å. */
export const Bohr = C.bohrAngstrom;
/** 1 kcal/mol in eV. */
export const kcalPerMol = 4184 / C.avogadro / C.electronCharge;
/** 1 kJ/mol in eV. */
export const kJPerMol = 1000 / C.avogadro / C.electronCharge;
/** 1 meV in eV. */
export const meV = 1e-3;

/**
 * Time. Our time unit is the femtosecond, so velocities are Å/fs and an acceleration F/m from
 * eV/Å and amu must be scaled: 1 eV/(Å·amu) = accelerationFactor Å/fs².
 */
// 1 eV/(Å·amu) = (e/amu)·1e10 m/s², and 1 m/s² = 1e-20 Å/fs².
export const accelerationFactor = (C.electronCharge / C.amuKg) * 1e-10;
/** ASE's internal time unit expressed in fs (1 ASE time unit = 10.1805… fs). */
export const aseTimeInFs = 1e15 / (1e10 * Math.sqrt(C.electronCharge / C.amuKg));
/** Kinetic energy of mass m (amu) at speed v (Å/fs), in eV: ½ m v² · this factor. */
export const kineticFactor = 1 / accelerationFactor;

/** Named conversion factors into oreo's internal units, used by readers and CLI flags. */
export const energyUnits: Record<string, number> = {
  eV: 1,
  meV: 1e-3,
  Hartree,
  Ha: Hartree,
  'kcal/mol': kcalPerMol,
  'kJ/mol': kJPerMol,
};

export const lengthUnits: Record<string, number> = {
  'Å': 1,
  Angstrom: 1,
  A: 1,
  Bohr,
  nm: 10,
};
