/**
 * Text for plots, drawn as glyph outlines (DejaVu Sans, see font/) instead of SVG <text>.
 * An SVG made this way looks identical in every browser and editor, and rendering it to PNG
 * needs no installed fonts: CI machines and containers often have none, and resvg would then
 * silently drop every label. The string itself is kept in an aria-label for screen readers and
 * text search.
 *
 * Each glyph used in a document is defined once in <defs> and placed with <use>.
 */
import { ASCENDER, DESCENDER, GLYPHS, UNITS_PER_EM } from './font/glyphs.js';

const table = new Map<number, { advance: number; d: string }>(GLYPHS.map(([cp, advance, d]) => [cp, { advance, d }]));
const FALLBACK = '?'.codePointAt(0)!;

function glyphOf(cp: number): { cp: number; advance: number; d: string } {
  const g = table.get(cp);
  if (g) return { cp, ...g };
  return { cp: FALLBACK, ...table.get(FALLBACK)! };
}

/** Width of a string at a font size (px), from the glyph advances (no kerning). */
export function textWidth(text: string, size: number): number {
  let w = 0;
  for (const ch of text) w += glyphOf(ch.codePointAt(0)!).advance;
  return (w * size) / UNITS_PER_EM;
}

/** Height above the baseline and depth below it of the font at a size, px. */
export function fontExtents(size: number): { ascent: number; descent: number } {
  return { ascent: (ASCENDER * size) / UNITS_PER_EM, descent: (-DESCENDER * size) / UNITS_PER_EM };
}

export interface TextStyle {
  /** Font size, px. */
  size: number;
  /** Which point of the text sits at x: default 'start'. */
  anchor?: 'start' | 'middle' | 'end';
  /** 'baseline' (default) or 'middle': y is the baseline, or the middle of a capital letter. */
  valign?: 'baseline' | 'middle';
  fill?: string;
  /** Rotation in degrees about (x, y), e.g. −90 for a y-axis label. */
  rotate?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Collects the glyphs a document uses; `defs()` goes into the SVG once. */
export class TextRenderer {
  private readonly used = new Set<number>();

  /** An SVG fragment drawing `text` at (x, y). */
  text(text: string, x: number, y: number, style: TextStyle): string {
    const { size } = style;
    const scale = size / UNITS_PER_EM;
    const width = textWidth(text, size);
    const dx = style.anchor === 'middle' ? -width / 2 : style.anchor === 'end' ? -width : 0;
    // Cap height of DejaVu Sans is 1493 units.
    const dy = style.valign === 'middle' ? (1493 * scale) / 2 : 0;
    let pen = 0;
    const uses: string[] = [];
    for (const ch of text) {
      const g = glyphOf(ch.codePointAt(0)!);
      if (g.d) {
        this.used.add(g.cp);
        uses.push(`<use href="#g${g.cp}" x="${round(pen)}"/>`);
      }
      pen += g.advance;
    }
    const transform = [`translate(${round(x)} ${round(y)})`];
    if (style.rotate) transform.push(`rotate(${style.rotate})`);
    transform.push(`translate(${round(dx)} ${round(dy)})`, `scale(${+scale.toPrecision(6)})`);
    return `<g aria-label="${esc(text)}" role="img" fill="${style.fill ?? '#222'}" transform="${transform.join(' ')}">${uses.join('')}</g>`;
  }

  /** <defs> content with every glyph used so far. */
  defs(): string {
    return [...this.used].sort((a, b) => a - b).map((cp) => `<path id="g${cp}" d="${table.get(cp)!.d}"/>`).join('');
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
