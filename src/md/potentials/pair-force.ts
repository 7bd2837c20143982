/**
 * Newton's third law for a central pair term: with g = −(dV/dr)/r, atom j feels g·d and atom i
 * −g·d, where d = r_j − r_i.
 */
export function addPairForce(forces: Float64Array, i: number, j: number, g: number, dx: number, dy: number, dz: number): void {
  forces[3 * j] += g * dx;
  forces[3 * j + 1] += g * dy;
  forces[3 * j + 2] += g * dz;
  forces[3 * i] -= g * dx;
  forces[3 * i + 1] -= g * dy;
  forces[3 * i + 2] -= g * dz;
}
