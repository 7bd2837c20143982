/**
 * A small, strict argument parser: `--key value`, `--key=value`, boolean `--flag`, positionals.
 * Unknown options are refused with the list of known ones, so a typo never silently falls back
 * to a default.
 */
import { OreoError } from '../errors.js';

export interface OptionSpec {
  /** 'string' takes a value; 'boolean' does not. */
  type: 'string' | 'boolean';
  /** May be given several times; values collect in an array. */
  multiple?: boolean;
  help?: string;
  /**
   * This name is another spelling of option `aliasOf` (an older name kept working after the
   * options were aligned across commands); its value lands under that key.
   */
  aliasOf?: string;
}

export interface Parsed {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseArgs(command: string, argv: string[], spec: Record<string, OptionSpec>): Parsed {
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  /** Which spelling set each option, so that an alias and its target given together are refused. */
  const seen = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // -h is --help everywhere (the one short option: a chemist's first guess).
    if (arg === '-h' && spec.help) {
      options.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const s = spec[key];
    if (!s) {
      const known = Object.keys(spec).map((k) => '--' + k).join(', ');
      throw new OreoError(`oreo ${command}: unknown option --${key} (known: ${known || 'none'})`);
    }
    const target = s.aliasOf ?? key;
    const given = Object.keys(spec).filter((k) => k === target || spec[k].aliasOf === target);
    if (options[target] !== undefined && !s.multiple && seen.get(target) !== key) {
      throw new OreoError(`oreo ${command}: --${key} and --${seen.get(target)} are the same option (${given.map((k) => '--' + k).join(', ')}); give one`);
    }
    seen.set(target, key);
    let value: string | boolean;
    if (s.type === 'boolean') {
      if (eq > 0) throw new OreoError(`oreo ${command}: --${key} takes no value`);
      value = true;
    } else if (eq > 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new OreoError(`oreo ${command}: --${key} needs a value`);
      value = argv[++i];
    }
    if (s.multiple) {
      const prev = (options[target] as string[] | undefined) ?? [];
      prev.push(String(value));
      options[target] = prev;
    } else {
      options[target] = value;
    }
  }
  return { options, positionals };
}

export function str(p: Parsed, key: string): string | undefined {
  const v = p.options[key];
  return typeof v === 'string' ? v : undefined;
}

export function requireStr(command: string, p: Parsed, key: string): string {
  const v = str(p, key);
  if (v === undefined) throw new OreoError(`oreo ${command}: --${key} is required`);
  return v;
}

export function flag(p: Parsed, key: string): boolean {
  return p.options[key] === true;
}

/** A number option, checked: finite, and within optional bounds. */
export function num(
  command: string,
  p: Parsed,
  key: string,
  fallback: number,
  check?: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
): number {
  const raw = str(p, key);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  const bad = (why: string) => new OreoError(`oreo ${command}: --${key} ${raw}: ${why}`);
  if (!Number.isFinite(v) || raw.trim() === '') throw bad('not a number');
  if (check?.integer && !Number.isInteger(v)) throw bad('must be an integer');
  if (check?.min !== undefined) {
    if (check.exclusiveMin ? v <= check.min : v < check.min) {
      throw bad(`must be ${check.exclusiveMin ? '>' : '≥'} ${check.min}`);
    }
  }
  if (check?.max !== undefined && v > check.max) throw bad(`must be ≤ ${check.max}`);
  return v;
}

/** Render an options table for --help. */
export function helpText(usage: string, summary: string, spec: Record<string, OptionSpec>): string {
  const lines = [`usage: ${usage}`, '', summary, ''];
  for (const [k, s] of Object.entries(spec)) {
    lines.push(`  --${k}${s.type === 'string' ? ' VALUE' : ''}`.padEnd(28) + (s.aliasOf ? `same as --${s.aliasOf}${s.help ? ` (${s.help})` : ''}` : (s.help ?? '')));
  }
  return lines.join('\n');
}
