/**
 * Checking a request's query string against what the endpoint accepts: every parameter must be
 * known, given once, and well-formed; anything else is a 400 naming the parameter.
 */

export class QueryError extends Error {
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

export type ParamSpec =
  | { type: 'int'; min: number; max: number; required?: boolean }
  | { type: 'string'; pattern: RegExp; maxLength: number; required?: boolean }
  | { type: 'enum'; values: readonly string[]; required?: boolean };

export type QueryValues = Record<string, string | number | undefined>;

export function parseQuery(params: URLSearchParams, spec: Record<string, ParamSpec>): QueryValues {
  const out: QueryValues = {};
  const seen = new Set<string>();
  for (const [key, raw] of params) {
    const s = Object.prototype.hasOwnProperty.call(spec, key) ? spec[key] : undefined;
    const shown = JSON.stringify(key.slice(0, 40));
    if (!s) {
      const known = Object.keys(spec);
      throw new QueryError(`unknown parameter ${shown} (accepted: ${known.length ? known.join(', ') : 'none'})`);
    }
    if (seen.has(key)) throw new QueryError(`parameter '${key}' given more than once`);
    seen.add(key);
    out[key] = checkValue(key, raw, s);
  }
  for (const [key, s] of Object.entries(spec)) {
    if (s.required && !seen.has(key)) throw new QueryError(`parameter '${key}' is required`);
  }
  return out;
}

function checkValue(key: string, raw: string, s: ParamSpec): string | number {
  switch (s.type) {
    case 'int': {
      if (!/^-?\d{1,15}$/.test(raw)) throw new QueryError(`parameter '${key}' must be an integer, got ${JSON.stringify(raw.slice(0, 40))}`);
      const v = Number(raw);
      if (v < s.min || v > s.max) throw new QueryError(`parameter '${key}' must be between ${s.min} and ${s.max}, got ${v}`);
      return v;
    }
    case 'string':
      if (raw.length === 0 || raw.length > s.maxLength) throw new QueryError(`parameter '${key}' must have 1 to ${s.maxLength} characters`);
      if (raw.includes('\0') || !s.pattern.test(raw)) throw new QueryError(`parameter '${key}' is malformed: ${JSON.stringify(raw.slice(0, 80))}`);
      return raw;
    case 'enum':
      if (!s.values.includes(raw)) throw new QueryError(`parameter '${key}' must be one of ${s.values.join(', ')}, got ${JSON.stringify(raw.slice(0, 40))}`);
      return raw;
  }
}
