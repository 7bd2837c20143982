/**
 * The 3D view of a molecule or trajectory (3Dmol.js): ball-and-stick, Jmol colours, bonds drawn
 * from each frame's interatomic distances (so a bond that breaks in a trajectory disappears).
 */
import * as $3Dmol from '3dmol';

const STYLE = { stick: { radius: 0.13, colorscheme: 'Jmol' }, sphere: { scale: 0.26, colorscheme: 'Jmol' } };

/** One frame as XYZ text, the format 3Dmol.js perceives bonds in. */
export function xyzText(symbols: readonly string[], positions: ArrayLike<number | null>, comment = ''): string {
  const lines = [String(symbols.length), comment.replace(/\n/g, ' ')];
  for (let i = 0; i < symbols.length; i++) {
    const c = [positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]].map((x) => (x === null || !Number.isFinite(x) ? 0 : x).toFixed(6));
    lines.push(`${symbols[i]} ${c.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

let software: boolean | undefined;

/**
 * Whether WebGL runs on a software rasteriser (SwiftShader, llvmpipe: headless browsers, machines
 * without a GPU). Multisampled antialiasing costs those ~10× per frame, enough to stall live MD.
 */
export function softwareWebGl(): boolean {
  if (software !== undefined) return software;
  software = false;
  try {
    const gl = document.createElement('canvas').getContext('webgl');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    software = /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
  } catch {
    /* keep the default */
  }
  return software;
}

export class MoleculeViewer {
  private readonly viewer: $3Dmol.GLViewer | null;
  private frames = 0;
  readonly error: string | null = null;

  constructor(readonly element: HTMLElement) {
    let v: $3Dmol.GLViewer | null = null;
    try {
      v = $3Dmol.createViewer(element, { backgroundColor: 'white', antialias: !softwareWebGl() } as never) ?? null;
    } catch (err) {
      this.error = `3D view unavailable: ${(err as Error).message}`;
    }
    if (!v && !this.error) this.error = '3D view unavailable: this browser offers no WebGL';
    if (this.error) {
      element.classList.add('viewer-error');
      element.textContent = this.error;
    }
    this.viewer = v;
  }

  /** Load every frame of a trajectory at once; show frame 0. */
  setTrajectory(symbols: readonly string[], frames: readonly ArrayLike<number | null>[]): void {
    const v = this.viewer;
    if (!v) return;
    v.removeAllModels();
    v.addModelsAsFrames(frames.map((f, i) => xyzText(symbols, f, `frame ${i}`)).join(''), 'xyz');
    v.setStyle({}, STYLE as never);
    this.frames = frames.length;
    v.zoomTo();
    void v.setFrame(0);
    v.render();
  }

  /** Show frame `i` of the loaded trajectory. */
  async showFrame(i: number): Promise<void> {
    const v = this.viewer;
    if (!v || this.frames === 0) return;
    await v.setFrame(Math.max(0, Math.min(this.frames - 1, i)));
    v.render();
  }

  /** Replace the molecule by one structure (live MD); the camera stays where the user left it. */
  setStructure(symbols: readonly string[], positions: ArrayLike<number>, recenter = false): void {
    const v = this.viewer;
    if (!v) return;
    v.removeAllModels();
    v.addModel(xyzText(symbols, positions), 'xyz');
    v.setStyle({}, STYLE as never);
    this.frames = 0;
    if (recenter) v.zoomTo();
    v.render();
  }

  resize(): void {
    this.viewer?.resize();
    this.viewer?.render();
  }
}
