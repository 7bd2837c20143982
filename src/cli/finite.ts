/**
 * JSON.stringify prints NaN and ±Infinity as null, so a command that prints numbers would
 * report a broken model as a result with exit 0. Results pass through here first: the first
 * non-finite number is an error naming where it sits.
 */
import { OreoError } from '../errors.js';

export function requireFinite(value: unknown, what: string, path = ''): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new OreoError(`${what}: ${path || 'the result'} is ${value}; the model's predictions are not finite (damaged weights, or structures far outside its training)`);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    const a = value as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) requireFinite(a[i], what, `${path}[${i}]`);
    return;
  }
  if (Array.isArray(value)) value.forEach((v, i) => requireFinite(v, what, `${path}[${i}]`));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) requireFinite(v, what, path ? `${path}.${k}` : k);
}
