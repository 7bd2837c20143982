/**
 * Neighbour search: all ordered atom pairs (j → i, i ≠ j) of the same molecule closer than the
 * cutoff. Molecules are searched one at a time; inside a molecule a cell list (cells of one
 * cutoff length, 27-cell stencil) keeps the cost O(N) for large systems, while small molecules
 * use the direct double loop, which is faster below a few dozen atoms.
 */
import { OreoError } from '../errors.js';

export interface Pairs {
  /** Source atom j of each directed pair (TorchMD-Net's edge_index[0]). */
  src: Int32Array;
  /** Target atom i, where messages are aggregated (edge_index[1]). */
  tgt: Int32Array;
}

const DIRECT_LIMIT = 48;

/** Ranges [start, end) of consecutive atoms sharing a molecule index; mol must be grouped. */
export function moleculeRanges(mol: Int32Array): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  for (let i = 1; i <= mol.length; i++) {
    if (i === mol.length || mol[i] !== mol[start]) {
      if (i < mol.length && mol[i] < mol[start]) {
        throw new OreoError('batch molecule index must be non-decreasing (atoms of a molecule kept together)');
      }
      ranges.push([start, i]);
      start = i;
    }
  }
  return ranges;
}

export function neighborPairs(positions: ArrayLike<number>, mol: Int32Array, cutoff: number): Pairs {
  const src: number[] = [];
  const tgt: number[] = [];
  const c2 = cutoff * cutoff;
  const visit = (i: number, j: number) => {
    const dx = positions[3 * j] - positions[3 * i];
    const dy = positions[3 * j + 1] - positions[3 * i + 1];
    const dz = positions[3 * j + 2] - positions[3 * i + 2];
    const d2 = dx * dx + dy * dy + dz * dz;
    if (d2 < c2) {
      if (d2 === 0) throw new OreoError(`atoms ${i} and ${j} sit at the same position; the model is undefined there`);
      src.push(j, i);
      tgt.push(i, j);
    }
  };
  for (const [start, end] of moleculeRanges(mol)) {
    const n = end - start;
    if (n <= DIRECT_LIMIT) {
      for (let i = start; i < end; i++) for (let j = i + 1; j < end; j++) visit(i, j);
      continue;
    }
    cellListPairs(positions, start, end, cutoff, visit);
  }
  return { src: Int32Array.from(src), tgt: Int32Array.from(tgt) };
}

function cellListPairs(
  positions: ArrayLike<number>,
  start: number,
  end: number,
  cutoff: number,
  visit: (i: number, j: number) => void,
): void {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let i = start; i < end; i++) {
    for (let k = 0; k < 3; k++) {
      const v = positions[3 * i + k];
      if (!Number.isFinite(v)) throw new OreoError(`atom ${i} has a non-finite coordinate`);
      lo[k] = Math.min(lo[k], v);
      hi[k] = Math.max(hi[k], v);
    }
  }
  const dims = [0, 1, 2].map((k) => Math.max(1, Math.floor((hi[k] - lo[k]) / cutoff) + 1));
  const cellOf = (i: number) => {
    const c = [0, 1, 2].map((k) => Math.min(dims[k] - 1, Math.floor((positions[3 * i + k] - lo[k]) / cutoff)));
    return c;
  };
  // Linked-list cells: head[cell] = first atom, next[atom] = following atom in the same cell.
  const nCells = dims[0] * dims[1] * dims[2];
  const head = new Int32Array(nCells).fill(-1);
  const next = new Int32Array(end - start).fill(-1);
  const cellIndex = new Int32Array(end - start);
  for (let i = start; i < end; i++) {
    const [cx, cy, cz] = cellOf(i);
    const c = (cx * dims[1] + cy) * dims[2] + cz;
    cellIndex[i - start] = c;
    next[i - start] = head[c];
    head[c] = i - start;
  }
  for (let i = start; i < end; i++) {
    const c = cellIndex[i - start];
    const cz = c % dims[2];
    const cy = Math.floor(c / dims[2]) % dims[1];
    const cx = Math.floor(c / (dims[1] * dims[2]));
    for (let dx = -1; dx <= 1; dx++) {
      const x = cx + dx;
      if (x < 0 || x >= dims[0]) continue;
      for (let dy = -1; dy <= 1; dy++) {
        const y = cy + dy;
        if (y < 0 || y >= dims[1]) continue;
        for (let dz = -1; dz <= 1; dz++) {
          const z = cz + dz;
          if (z < 0 || z >= dims[2]) continue;
          for (let j = head[(x * dims[1] + y) * dims[2] + z]; j !== -1; j = next[j]) {
            // Each unordered pair once: visit emits both directions.
            if (j + start > i) visit(i, j + start);
          }
        }
      }
    }
  }
}
