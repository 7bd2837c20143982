/** Shared element check for analytic potentials that were parametrised for particular elements. */
import { OreoError } from '../../errors.js';
import { symbolOf } from '../../elements.js';

export function checkAllowedElements(potential: string, allowed: number[] | undefined, z: Int32Array): void {
  if (!allowed) return;
  const missing = [...new Set(z)].filter((zi) => !allowed.includes(zi));
  if (missing.length) {
    const name = (zi: number) => {
      try {
        return symbolOf(zi);
      } catch {
        return `Z=${zi}`;
      }
    };
    throw new OreoError(
      `${potential} potential covers ${allowed.map(name).join(', ')} but the structure also has ${missing.map(name).join(', ')}`,
    );
  }
}
