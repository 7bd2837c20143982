/**
 * SVG → PNG with resvg. Plots carry their text as outlines (see text.ts), so system fonts are
 * switched off: the PNG is the same on a bare CI machine as on a desktop.
 */
import { Resvg } from '@resvg/resvg-js';

export interface PngOptions {
  /** Pixel scale relative to the SVG's size; default 2 (sharp on high-DPI screens and in slides). */
  scale?: number;
  /** Background colour; default white. */
  background?: string;
}

export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  const scale = options.scale ?? 2;
  if (!(scale > 0 && scale <= 16)) throw new RangeError(`PNG scale must be in (0, 16], got ${scale}`);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: options.background ?? '#ffffff',
    font: { loadSystemFonts: false },
    logLevel: 'off',
  });
  return new Uint8Array(resvg.render().asPng());
}

/** Width and height from a PNG's IHDR chunk; throws if the bytes are not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) throw new Error('not a PNG file (bad signature)');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const type = String.fromCharCode(png[12], png[13], png[14], png[15]);
  if (type !== 'IHDR') throw new Error('not a PNG file (first chunk is not IHDR)');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
