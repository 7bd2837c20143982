/**
 * Just enough of the TrueType format to pull glyph outlines out of a font: the cmap (format 4),
 * horizontal metrics and the glyf table (simple and composite glyphs). Used once, by
 * make-glyphs.ts, to turn a font into the outline table that the plots draw text with; nothing
 * reads font files at run time.
 */

export interface GlyphOutline {
  /** Advance width, font units. */
  advance: number;
  /** SVG path data in font units, y pointing down, baseline at y = 0. Empty for blank glyphs. */
  d: string;
}

export interface FontOutlines {
  unitsPerEm: number;
  ascender: number;
  descender: number;
  familyName: string;
  glyphs: Map<number, GlyphOutline>;
}

interface Point {
  x: number;
  y: number;
  on: boolean;
}

export function readTrueTypeOutlines(bytes: Uint8Array, codePoints: Iterable<number>): FontOutlines {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o);
  const i16 = (o: number) => view.getInt16(o);
  const u32 = (o: number) => view.getUint32(o);

  const tables = new Map<string, number>();
  const numTables = u16(4);
  for (let t = 0; t < numTables; t++) {
    const rec = 12 + 16 * t;
    const tag = String.fromCharCode(bytes[rec], bytes[rec + 1], bytes[rec + 2], bytes[rec + 3]);
    tables.set(tag, u32(rec + 8));
  }
  const table = (tag: string): number => {
    const o = tables.get(tag);
    if (o === undefined) throw new Error(`font has no '${tag}' table (only TrueType-outline fonts are supported)`);
    return o;
  };

  const head = table('head');
  const unitsPerEm = u16(head + 18);
  const longLoca = i16(head + 50) === 1;
  const hhea = table('hhea');
  const ascender = i16(hhea + 4);
  const descender = i16(hhea + 6);
  const numHMetrics = u16(hhea + 34);
  const hmtx = table('hmtx');
  const numGlyphs = u16(table('maxp') + 4);
  const loca = table('loca');
  const glyf = table('glyf');

  const advanceOf = (g: number) => u16(hmtx + 4 * Math.min(g, numHMetrics - 1));
  const glyphRange = (g: number): [number, number] => {
    if (g < 0 || g >= numGlyphs) throw new Error(`glyph index ${g} out of range`);
    return longLoca ? [u32(loca + 4 * g), u32(loca + 4 * g + 4)] : [2 * u16(loca + 2 * g), 2 * u16(loca + 2 * g + 2)];
  };

  // cmap: the Unicode BMP subtable, format 4.
  const cmap = table('cmap');
  let sub = -1;
  for (let k = 0; k < u16(cmap + 2); k++) {
    const rec = cmap + 4 + 8 * k;
    const platform = u16(rec), encoding = u16(rec + 2);
    const off = cmap + u32(rec + 4);
    if (u16(off) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) {
      sub = off;
      if (platform === 3) break;
    }
  }
  if (sub < 0) throw new Error('font has no Unicode format-4 cmap');
  const segCount = u16(sub + 6) / 2;
  const endCodes = sub + 14;
  const startCodes = endCodes + 2 * segCount + 2;
  const idDeltas = startCodes + 2 * segCount;
  const idRangeOffsets = idDeltas + 2 * segCount;
  const glyphIndex = (c: number): number => {
    for (let s = 0; s < segCount; s++) {
      if (u16(endCodes + 2 * s) < c) continue;
      const start = u16(startCodes + 2 * s);
      if (start > c) return 0;
      const delta = u16(idDeltas + 2 * s);
      const rangeOffset = u16(idRangeOffsets + 2 * s);
      if (rangeOffset === 0) return (c + delta) & 0xffff;
      const g = u16(idRangeOffsets + 2 * s + rangeOffset + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };

  const contoursOf = (g: number, depth = 0): Point[][] => {
    if (depth > 8) throw new Error('composite glyphs nested too deeply');
    const [start, end] = glyphRange(g);
    if (end <= start) return [];
    const p = glyf + start;
    const nContours = i16(p);
    if (nContours >= 0) return simpleGlyph(p, nContours);
    const out: Point[][] = [];
    let o = p + 10;
    for (;;) {
      const flags = u16(o);
      const child = u16(o + 2);
      o += 4;
      let dx: number, dy: number;
      if (flags & 0x0001) {
        dx = i16(o); dy = i16(o + 2); o += 4;
      } else {
        dx = view.getInt8(o); dy = view.getInt8(o + 1); o += 2;
      }
      if (!(flags & 0x0002)) throw new Error(`glyph ${g}: point-matched composite components are not supported`);
      let a = 1, b = 0, c = 0, d = 1;
      const f2dot14 = (q: number) => i16(q) / 16384;
      if (flags & 0x0008) {
        a = d = f2dot14(o); o += 2;
      } else if (flags & 0x0040) {
        a = f2dot14(o); d = f2dot14(o + 2); o += 4;
      } else if (flags & 0x0080) {
        a = f2dot14(o); b = f2dot14(o + 2); c = f2dot14(o + 4); d = f2dot14(o + 6); o += 8;
      }
      for (const contour of contoursOf(child, depth + 1)) {
        out.push(contour.map((pt) => ({ x: a * pt.x + c * pt.y + dx, y: b * pt.x + d * pt.y + dy, on: pt.on })));
      }
      if (!(flags & 0x0020)) break;
    }
    return out;
  };

  const simpleGlyph = (p: number, nContours: number): Point[][] => {
    const endPts: number[] = [];
    for (let k = 0; k < nContours; k++) endPts.push(u16(p + 10 + 2 * k));
    const nPoints = nContours ? endPts[nContours - 1] + 1 : 0;
    let o = p + 10 + 2 * nContours;
    o += 2 + u16(o); // skip the instructions
    const flags: number[] = [];
    while (flags.length < nPoints) {
      const f = bytes[o++];
      flags.push(f);
      if (f & 0x08) {
        const repeat = bytes[o++];
        for (let r = 0; r < repeat; r++) flags.push(f);
      }
    }
    const readCoords = (shortBit: number, sameBit: number): number[] => {
      const v: number[] = [];
      let cur = 0;
      for (const f of flags) {
        if (f & shortBit) {
          const m = bytes[o++];
          cur += f & sameBit ? m : -m;
        } else if (!(f & sameBit)) {
          cur += i16(o);
          o += 2;
        }
        v.push(cur);
      }
      return v;
    };
    const xs = readCoords(0x02, 0x10);
    const ys = readCoords(0x04, 0x20);
    const contours: Point[][] = [];
    let first = 0;
    for (const last of endPts) {
      const c: Point[] = [];
      for (let k = first; k <= last; k++) c.push({ x: xs[k], y: ys[k], on: (flags[k] & 0x01) !== 0 });
      contours.push(c);
      first = last + 1;
    }
    return contours;
  };

  const glyphs = new Map<number, GlyphOutline>();
  for (const cp of codePoints) {
    const g = glyphIndex(cp);
    if (g === 0 && cp !== 0) continue;
    glyphs.set(cp, { advance: advanceOf(g), d: contoursOf(g).map(contourPath).join('') });
  }
  return { unitsPerEm, ascender, descender, familyName: fontFamily(bytes, tables), glyphs };
}

/** Quadratic TrueType contour → SVG path (y flipped so that it points down). */
function contourPath(c: Point[]): string {
  if (c.length === 0) return '';
  const fmt = (v: number) => String(Math.round(v * 10) / 10);
  const P = (pt: { x: number; y: number }) => `${fmt(pt.x)} ${fmt(-pt.y)}`;
  const mid = (a: Point, b: Point): Point => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, on: true });
  // Start on an on-curve point (or the implied midpoint of two off-curve ones).
  let startIdx = c.findIndex((pt) => pt.on);
  let start: Point;
  if (startIdx < 0) {
    start = mid(c[c.length - 1], c[0]);
    startIdx = 0;
  } else {
    start = c[startIdx];
    startIdx++;
  }
  let d = `M${P(start)}`;
  let control: Point | null = null;
  for (let k = 0; k < c.length; k++) {
    const pt = c[(startIdx + k) % c.length];
    if (pt === start) continue;
    if (pt.on) {
      d += control ? `Q${P(control)} ${P(pt)}` : `L${P(pt)}`;
      control = null;
    } else {
      if (control) d += `Q${P(control)} ${P(mid(control, pt))}`;
      control = pt;
    }
  }
  d += control ? `Q${P(control)} ${P(start)}Z` : 'Z';
  return d;
}

function fontFamily(bytes: Uint8Array, tables: Map<string, number>): string {
  const o = tables.get('name');
  if (o === undefined) return '';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint16(o + 2);
  const strings = o + view.getUint16(o + 4);
  for (let k = 0; k < count; k++) {
    const rec = o + 6 + 12 * k;
    const platform = view.getUint16(rec), nameId = view.getUint16(rec + 6);
    const len = view.getUint16(rec + 8), off = strings + view.getUint16(rec + 10);
    if (nameId === 4 && platform === 3) {
      let s = '';
      for (let i = 0; i < len; i += 2) s += String.fromCharCode(view.getUint16(off + i));
      return s;
    }
  }
  return '';
}
