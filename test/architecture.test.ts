// The layers of docs/architecture.md, checked on the import graph of src/: no import cycle between
// files, and no import from a lower layer to a higher one (nor between two areas of one layer).
// The graph is read from the source text (static imports, `export … from`, `import type`, and
// dynamic `import('…')`), so a type-only or lazy import counts like any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from './paths.js';

const srcDir = join(repoRoot, 'src');

/**
 * The layers, lowest first, as docs/architecture.md ("Layers") writes them down. An area is a
 * folder of src/ or a top-level file without its `.ts`. A module may import its own area, any
 * area of a lower layer, and nothing else.
 */
const LAYERS: string[][] = [
  ['errors'],
  ['units', 'elements', 'linalg', 'calculator', 'random', 'io'],
  ['engine', 'data'],
  ['chem'],
  ['model'],
  ['md'],
  ['optimize'],
  ['qm', 'analysis'],
  ['polymers', 'sampling'],
  ['train'],
  ['corpus'],
  ['api', 'web', 'driver'],
  ['index', 'cli'],
];

/** Lower areas a module may still not import: MD and optimisation know a model only as a Calculator. */
const NEVER: Record<string, string[]> = {
  md: ['engine', 'model'],
  optimize: ['engine', 'model'],
};

/**
 * Edges tolerated for a while, each with the issue that removes it (none today). An exception
 * that no longer exists fails the test, so none lingers once its edge is gone.
 */
const KNOWN: { from: string; to: string; why: string }[] = [];

type Edge = { from: string; to: string };

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every relative import of every .ts file under src/, as paths relative to src/. */
function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(srcDir)) {
    // Comments may quote imports; strings holding `import` text do not occur in src/.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      const base = resolve(dirname(file), spec).replace(/\.js$/, '');
      const target = [base + '.ts', join(base, 'index.ts')].find((p) => existsSync(p));
      assert.ok(target, `${relative(repoRoot, file)}: import '${spec}' names no file`);
      edges.push({ from: relative(srcDir, file), to: relative(srcDir, target) });
    }
  }
  return edges;
}

function areaOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.ts$/, '');
}

function layerOf(area: string): number {
  const i = LAYERS.findIndex((l) => l.includes(area));
  assert.ok(i >= 0, `src/${area} has no layer: add it to LAYERS here and to docs/architecture.md`);
  return i;
}

const isKnown = (e: Edge) => KNOWN.some((k) => k.from === e.from && k.to === e.to);
const show = (e: Edge) => `src/${e.from} → src/${e.to}`;

/** Strongly connected components with more than one file (Tarjan), each as its files. */
function cycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, []);
    if (!next.has(e.to)) next.set(e.to, []);
    next.get(e.from)!.push(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next.get(v)!.includes(v)) out.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

const graph = importGraph();

test('the import graph is read: every area of src/ is found and has a layer', () => {
  assert.ok(graph.length > 500, `only ${graph.length} imports read from src/`);
  const areas = new Set(graph.flatMap((e) => [areaOf(e.from), areaOf(e.to)]));
  for (const a of ['engine', 'model', 'md', 'cli']) assert.ok(areas.has(a), `no imports of src/${a} read`);
  for (const a of areas) layerOf(a);
});

test('no import cycle between files of src/', () => {
  const found = cycles(graph.filter((e) => !isKnown(e)));
  assert.deepEqual(
    found.map((c) => c.map((f) => 'src/' + f).join(' ↔ ')),
    [],
    'files that import each other, directly or around a loop',
  );
});

test('no import from a lower layer to a higher one, nor between areas of one layer', () => {
  const wrong: string[] = [];
  for (const e of graph) {
    const [a, b] = [areaOf(e.from), areaOf(e.to)];
    if (a === b || isKnown(e)) continue;
    const [la, lb] = [layerOf(a), layerOf(b)];
    if (lb > la) wrong.push(`${show(e)} (layer ${la} ${a} imports layer ${lb} ${b})`);
    else if (lb === la) wrong.push(`${show(e)} (${a} and ${b} share layer ${la})`);
    else if (NEVER[a]?.includes(b)) wrong.push(`${show(e)} (${a} never imports ${b})`);
  }
  assert.deepEqual(wrong, []);
});

test('every known exception still exists (delete the ones that are gone)', () => {
  const gone = KNOWN.filter((k) => !graph.some((e) => e.from === k.from && e.to === k.to));
  assert.deepEqual(gone.map((k) => `src/${k.from} → src/${k.to} (${k.why})`), []);
});
