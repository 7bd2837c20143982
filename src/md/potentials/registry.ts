/**
 * Analytic potentials by name, so that `oreo simulate --model lj:epsilon=0.0104,sigma=3.4` runs
 * without a learned model. A spec is `NAME` or `NAME:key=value,key=value`; `elements=` takes a
 * list of symbols (`elements=C,H,O` — items without '=' continue the previous value).
 */
import type { Calculator } from '../../calculator.js';
import { OreoError } from '../../errors.js';
import { atomicNumber } from '../../elements.js';
import { LennardJones } from './lennard-jones.js';
import { Morse } from './morse.js';
import { HarmonicBonds } from './harmonic-bonds.js';

export interface ParamSpec {
  name: string;
  kind: 'number' | 'elements';
  /** Default value shown in help; undefined = none / computed. */
  default?: number;
  help: string;
}

export interface AnalyticPotential {
  summary: string;
  params: ParamSpec[];
  /** `reference` is the starting structure, needed by potentials built around one geometry. */
  create(params: ParsedParams, reference?: { z: ArrayLike<number>; positions: ArrayLike<number> }): Calculator;
}

export interface ParsedParams {
  numbers: Record<string, number>;
  elements?: number[];
}

const elementsParam: ParamSpec = { name: 'elements', kind: 'elements', help: 'restrict to these elements, e.g. elements=Ar' };

export const analyticPotentials: Record<string, AnalyticPotential> = {
  lj: {
    summary: "Lennard-Jones over all pairs within rc, energy shifted to 0 at rc (ASE's LennardJones); defaults are argon",
    params: [
      { name: 'epsilon', kind: 'number', default: 0.0104, help: 'well depth, eV' },
      { name: 'sigma', kind: 'number', default: 3.4, help: 'zero-crossing distance, Å' },
      { name: 'rc', kind: 'number', help: 'cutoff, Å (default 3·sigma; inf = all pairs)' },
      elementsParam,
    ],
    create: (p) => {
      const sigma = p.numbers.sigma ?? 3.4;
      return new LennardJones({ epsilon: p.numbers.epsilon ?? 0.0104, sigma, rc: p.numbers.rc ?? 3 * sigma, elements: p.elements });
    },
  },
  morse: {
    summary: "Morse over all pairs, ASE's MorsePotential parameters (no cutoff)",
    params: [
      { name: 'epsilon', kind: 'number', default: 1, help: 'well depth, eV' },
      { name: 'rho0', kind: 'number', default: 6, help: 'stiffness ρ₀ = α·r₀ (dimensionless)' },
      { name: 'r0', kind: 'number', default: 1, help: 'equilibrium distance, Å' },
      elementsParam,
    ],
    create: (p) => new Morse({ epsilon: p.numbers.epsilon ?? 1, rho0: p.numbers.rho0 ?? 6, r0: p.numbers.r0 ?? 1, elements: p.elements }),
  },
  harmonic: {
    summary: 'harmonic springs on the covalent bonds of the starting structure',
    params: [
      { name: 'k', kind: 'number', default: 30, help: 'spring constant, eV/Å²' },
      { name: 'skin', kind: 'number', default: 0.3, help: 'bond detection: d < r_cov,i + r_cov,j + skin, Å' },
      { name: 'r0', kind: 'number', help: 'rest length for every bond, Å (default: reference lengths)' },
    ],
    create: (p, reference) => {
      if (!reference) throw new OreoError('harmonic: needs the starting structure to find its bonds');
      return new HarmonicBonds({ k: p.numbers.k ?? 30, skin: p.numbers.skin ?? 0.3, r0: p.numbers.r0 }, reference);
    },
  },
};

/** True when `spec` names an analytic potential (e.g. `lj`, `morse:r0=2.5`). */
export function isAnalyticSpec(spec: string): boolean {
  const name = spec.split(':', 1)[0];
  return Object.prototype.hasOwnProperty.call(analyticPotentials, name);
}

export function parseAnalyticSpec(spec: string): { name: string; params: ParsedParams } {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const pot = Object.prototype.hasOwnProperty.call(analyticPotentials, name) ? analyticPotentials[name] : undefined;
  if (!pot) throw new OreoError(`unknown analytic potential '${name}' (known: ${Object.keys(analyticPotentials).join(', ')})`);
  const params: ParsedParams = { numbers: {} };
  if (colon < 0 || colon === spec.length - 1) return { name, params };
  const raw: [string, string[]][] = [];
  for (const token of spec.slice(colon + 1).split(',')) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      if (!raw.length || token.trim() === '') throw new OreoError(`potential '${spec}': expected key=value, got '${token}'`);
      raw[raw.length - 1][1].push(token.trim());
    } else {
      raw.push([token.slice(0, eq).trim(), [token.slice(eq + 1).trim()]]);
    }
  }
  for (const [key, values] of raw) {
    const ps = pot.params.find((p) => p.name === key);
    if (!ps) throw new OreoError(`potential '${name}': unknown parameter '${key}' (known: ${pot.params.map((p) => p.name).join(', ')})`);
    if (ps.kind === 'elements') {
      try {
        params.elements = values.map((s) => atomicNumber(s));
      } catch (err) {
        throw new OreoError(`potential '${name}': ${(err as Error).message}`);
      }
      continue;
    }
    if (values.length !== 1) throw new OreoError(`potential '${name}': parameter '${key}' takes one number`);
    const text = values[0];
    const v = /^\+?inf(inity)?$/i.test(text) ? Infinity : Number(text);
    if (text === '' || Number.isNaN(v)) throw new OreoError(`potential '${name}': parameter '${key}=${text}' is not a number`);
    if (key in params.numbers) throw new OreoError(`potential '${name}': parameter '${key}' given twice`);
    params.numbers[key] = v;
  }
  return { name, params };
}

/** Build the calculator an analytic spec describes; errors are OreoErrors naming the spec. */
export function createAnalyticCalculator(spec: string, reference?: { z: ArrayLike<number>; positions: ArrayLike<number> }): Calculator {
  const { name, params } = parseAnalyticSpec(spec);
  try {
    return analyticPotentials[name].create(params, reference);
  } catch (err) {
    if (err instanceof OreoError) throw err;
    throw new OreoError(`potential '${spec}': ${(err as Error).message}`);
  }
}

/** One line per potential and parameter, for --help texts. */
export function analyticPotentialsHelp(): string {
  const lines: string[] = [];
  for (const [name, pot] of Object.entries(analyticPotentials)) {
    lines.push(`  ${name}: ${pot.summary}`);
    for (const p of pot.params) lines.push(`      ${p.name}${p.default !== undefined ? ` (default ${p.default})` : ''}: ${p.help}`);
  }
  return lines.join('\n');
}
