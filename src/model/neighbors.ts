/**
 * Neighbour search: the atom pairs of the same molecule closer than the cutoff. Molecules are
 * searched one at a time; inside a molecule a cell list (cells at least one cutoff wide, 27-cell
 * stencil) keeps the cost O(N) for large systems, while small molecules use the direct double
 * loop, which is faster below a few dozen atoms.
 *
 * PairList finds the unordered pairs (a < b) into buffers reused from call to call: the fast
 * path computes every edge quantity once per pair and applies it to both directions.
 * neighborPairs turns them into the directed edge list (j → i and i → j) the autodiff ET uses.
 */
import { OreoError } from '../errors.js';

export interface Pairs {
  /** Source atom j of each directed pair (TorchMD-Net's edge_index[0]). */
  src: Int32Array;
  /** Target atom i, where messages are aggregated (edge_index[1]). */
  tgt: Int32Array;
}

const DIRECT_LIMIT = 48;

export class PairList {
  /** First atom of each pair (the smaller index). */
  a = new Int32Array(256);
  /** Second atom of each pair. */
  b = new Int32Array(256);
  count = 0;
  private head = new Int32Array(0);
  private next = new Int32Array(0);
  private cell = new Int32Array(0);

  /**
   * Fill the list for atoms 0..n−1 grouped into molecules by `mol` (non-decreasing). Throws if
   * two atoms of a molecule coincide, where the model is undefined.
   */
  find(positions: ArrayLike<number>, mol: Int32Array, n: number, cutoff: number): void {
    this.count = 0;
    let start = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n && mol[i] === mol[start]) continue;
      if (i < n && mol[i] < mol[start]) {
        throw new OreoError('batch molecule index must be non-decreasing (atoms of a molecule kept together)');
      }
      if (i - start <= DIRECT_LIMIT) this.direct(positions, start, i, cutoff);
      else this.cells(positions, start, i, cutoff);
      start = i;
    }
  }

  private push(i: number, j: number): void {
    if (this.count === this.a.length) {
      const a = new Int32Array(2 * this.a.length);
      const b = new Int32Array(2 * this.b.length);
      a.set(this.a);
      b.set(this.b);
      this.a = a;
      this.b = b;
    }
    this.a[this.count] = i < j ? i : j;
    this.b[this.count] = i < j ? j : i;
    this.count++;
  }

  private test(positions: ArrayLike<number>, i: number, j: number, c2: number): void {
    const dx = positions[3 * j] - positions[3 * i];
    const dy = positions[3 * j + 1] - positions[3 * i + 1];
    const dz = positions[3 * j + 2] - positions[3 * i + 2];
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 < c2) {
      if (d2 === 0) throw new OreoError(`atoms ${i} and ${j} sit at the same position; the model is undefined there`);
      this.push(i, j);
    }
  }

  private direct(positions: ArrayLike<number>, start: number, end: number, cutoff: number): void {
    const c2 = cutoff * cutoff;
    for (let i = start; i < end; i++) for (let j = i + 1; j < end; j++) this.test(positions, i, j, c2);
  }

  private cells(positions: ArrayLike<number>, start: number, end: number, cutoff: number): void {
    const c2 = cutoff * cutoff;
    let lx = Infinity, ly = Infinity, lz = Infinity, hx = -Infinity, hy = -Infinity, hz = -Infinity;
    for (let i = start; i < end; i++) {
      const x = positions[3 * i], y = positions[3 * i + 1], z = positions[3 * i + 2];
      if (x < lx) lx = x;
      if (x > hx) hx = x;
      if (y < ly) ly = y;
      if (y > hy) hy = y;
      if (z < lz) lz = z;
      if (z > hz) hz = z;
    }
    // Cells one cutoff wide, at most ~n of them in total so that a sparse cloud costs no more
    // memory than a dense one.
    const m = end - start;
    let w = cutoff;
    const cellsFor = (w: number) =>
      (Math.floor((hx - lx) / w) + 1) * (Math.floor((hy - ly) / w) + 1) * (Math.floor((hz - lz) / w) + 1);
    while (cellsFor(w) > 8 * m + 64) w *= 1.5;
    const nx = Math.floor((hx - lx) / w) + 1, ny = Math.floor((hy - ly) / w) + 1, nz = Math.floor((hz - lz) / w) + 1;
    const nCells = nx * ny * nz;
    if (this.head.length < nCells) this.head = new Int32Array(nCells);
    if (this.next.length < m) {
      this.next = new Int32Array(m);
      this.cell = new Int32Array(m);
    }
    const head = this.head, next = this.next, cell = this.cell;
    head.fill(-1, 0, nCells);
    for (let i = start; i < end; i++) {
      const cx = Math.min(nx - 1, Math.floor((positions[3 * i] - lx) / w));
      const cy = Math.min(ny - 1, Math.floor((positions[3 * i + 1] - ly) / w));
      const cz = Math.min(nz - 1, Math.floor((positions[3 * i + 2] - lz) / w));
      const c = (cx * ny + cy) * nz + cz;
      cell[i - start] = c;
      next[i - start] = head[c];
      head[c] = i - start;
    }
    // With cells at least one cutoff wide, the 27-cell stencil holds every neighbour.
    for (let i = start; i < end; i++) {
      const c = cell[i - start];
      const cz = c % nz, cy = Math.floor(c / nz) % ny, cx = Math.floor(c / (ny * nz));
      for (let x = Math.max(0, cx - 1); x <= Math.min(nx - 1, cx + 1); x++) {
        for (let y = Math.max(0, cy - 1); y <= Math.min(ny - 1, cy + 1); y++) {
          for (let z = Math.max(0, cz - 1); z <= Math.min(nz - 1, cz + 1); z++) {
            for (let j = head[(x * ny + y) * nz + z]; j !== -1; j = next[j]) {
              if (j + start > i) this.test(positions, i, j + start, c2);
            }
          }
        }
      }
    }
  }
}

/** All ordered pairs (j → i, i ≠ j) of the same molecule closer than the cutoff. Throws if two
 * atoms of a molecule coincide. */
export function neighborPairs(positions: ArrayLike<number>, mol: Int32Array, cutoff: number): Pairs {
  const list = new PairList();
  list.find(positions, mol, mol.length, cutoff);
  const src = new Int32Array(2 * list.count);
  const tgt = new Int32Array(2 * list.count);
  for (let p = 0; p < list.count; p++) {
    const i = list.a[p], j = list.b[p];
    src[2 * p] = j;
    tgt[2 * p] = i;
    src[2 * p + 1] = i;
    tgt[2 * p + 1] = j;
  }
  return { src, tgt };
}
