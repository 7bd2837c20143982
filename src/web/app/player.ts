/**
 * The trajectory player of an MD run: 3D view, play/pause, a scrub slider with the frame's time
 * and energy, and Epot/Etot, T and RMSD against time. The slider, the plots (click to seek) and the
 * 3D view all follow one current frame.
 */
import { Chart, COLORS, type Column } from './charts.js';
import { h, fmt } from './dom.js';
import type { TrajectoryPayload } from './api.js';
import { MoleculeViewer } from './viewer.js';

export class TrajectoryPlayer {
  readonly element: HTMLElement;
  private readonly viewer: MoleculeViewer;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLElement;
  private readonly playButton: HTMLButtonElement;
  private readonly charts: Chart[] = [];
  private readonly chartColumns: Column[][] = [];
  private frame = 0;
  private timer: number | null = null;

  constructor(private readonly t: TrajectoryPayload, title: string) {
    const view = h('div', { class: 'viewer', id: 'traj-viewer' });
    this.slider = h('input', { type: 'range', min: 0, max: Math.max(0, t.indices.length - 1), value: 0, step: 1, id: 'frame-slider', 'aria-label': 'frame' });
    this.label = h('span', { class: 'frame-label', id: 'frame-label' });
    this.playButton = h('button', { id: 'play', type: 'button' }, 'Play');
    const speed = h('select', { id: 'speed', 'aria-label': 'frames per second' }, ...[5, 10, 20, 40].map((f) => h('option', { value: f, selected: f === 10 }, `${f} fps`)));
    const chartBox = h('div', { class: 'charts' });
    this.element = h(
      'section',
      { class: 'player', id: 'player', 'data-frames': t.indices.length },
      h('h2', {}, title),
      h('p', { class: 'muted' }, `${t.formula}, ${t.z.length} atoms, ${t.totalFrames} saved frames${t.stride > 1 ? ` (showing every ${t.stride}th)` : ''}`),
      t.truncated ? h('p', { class: 'error', id: 'truncated' }, `Frames after frame ${t.totalFrames - 1} not shown (a run still writing, or a damaged file): ${t.truncated}`) : null,
      h('div', { class: 'player-grid' }, h('div', {}, view, h('div', { class: 'controls' }, this.playButton, speed, this.slider), this.label), chartBox),
    );
    this.viewer = new MoleculeViewer(view);

    this.slider.addEventListener('input', () => this.setFrame(Number(this.slider.value)));
    this.playButton.addEventListener('click', () => (this.timer === null ? this.play(Number(speed.value)) : this.pause()));
    speed.addEventListener('change', () => {
      if (this.timer !== null) {
        this.pause();
        this.play(Number(speed.value));
      }
    });

    const time = t.timesPs;
    const specs: { title: string; yLabel: string; series: { label: string; color: string }[]; columns: Column[] }[] = [];
    // thermo.csv has the finer time resolution when frames are strided; otherwise both agree.
    const th = t.thermo;
    if (th && th.timePs.length > 0) {
      specs.push({ title: 'Energy', yLabel: 'eV', series: [{ label: 'Epot', color: COLORS.blue }, { label: 'Etot', color: COLORS.black }], columns: [th.timePs, th.epot, th.etot] });
      specs.push({ title: 'Temperature', yLabel: 'K', series: [{ label: 'T', color: COLORS.orange }], columns: [th.timePs, th.temperature] });
    } else {
      if (t.energies) specs.push({ title: 'Energy', yLabel: 'eV', series: [{ label: 'Epot', color: COLORS.blue }], columns: [time, t.energies] });
      if (t.temperatures) specs.push({ title: 'Temperature', yLabel: 'K', series: [{ label: 'T', color: COLORS.orange }], columns: [time, t.temperatures] });
    }
    specs.push({ title: 'RMSD to frame 0 (superposed)', yLabel: 'Å', series: [{ label: 'RMSD', color: COLORS.green }], columns: [time, t.rmsd] });
    for (const s of specs) {
      const c = new Chart({ title: s.title, xLabel: 'time (ps)', yLabel: s.yLabel, series: s.series, height: 180 });
      c.onSeek = (x) => this.seekTime(x);
      chartBox.append(c.element);
      this.charts.push(c);
      this.chartColumns.push(s.columns);
    }
  }

  /** Draw once the player is in the document (sizes come from the layout). */
  mount(): void {
    this.viewer.setTrajectory(this.t.symbols, this.t.positions);
    this.charts.forEach((c, k) => c.setData(this.chartColumns[k]));
    this.setFrame(0);
  }

  get frameCount(): number {
    return this.t.indices.length;
  }

  setFrame(i: number): void {
    const n = this.t.indices.length;
    this.frame = Math.max(0, Math.min(n - 1, Math.round(i)));
    this.slider.value = String(this.frame);
    const time = this.t.timesPs[this.frame];
    const e = this.t.energies?.[this.frame];
    const temp = this.t.temperatures?.[this.frame];
    this.label.textContent =
      `frame ${this.t.indices[this.frame]} of ${this.t.totalFrames - 1} · t = ${fmt(time, 6)} ps` +
      (e !== undefined ? ` · Epot = ${fmt(e, 8)} eV` : '') +
      (temp !== undefined ? ` · T = ${fmt(temp, 4)} K` : '') +
      ` · RMSD = ${fmt(this.t.rmsd[this.frame], 3)} Å`;
    this.element.dataset.frame = String(this.frame);
    void this.viewer.showFrame(this.frame);
    for (const c of this.charts) c.setMarker(time);
  }

  /** Jump to the saved frame nearest to time x (ps). */
  seekTime(x: number): void {
    let best = 0;
    let bestD = Infinity;
    this.t.timesPs.forEach((t, i) => {
      if (t === null) return;
      const d = Math.abs(t - x);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    });
    this.pause();
    this.setFrame(best);
  }

  play(fps: number): void {
    if (this.frame >= this.t.indices.length - 1) this.setFrame(0);
    this.playButton.textContent = 'Pause';
    this.timer = window.setInterval(() => {
      if (this.frame >= this.t.indices.length - 1) this.pause();
      else this.setFrame(this.frame + 1);
    }, 1000 / fps);
  }

  pause(): void {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    this.playButton.textContent = 'Play';
  }

  resize(): void {
    this.viewer.resize();
    for (const c of this.charts) c.resize();
  }

  destroy(): void {
    this.pause();
    for (const c of this.charts) c.destroy();
  }
}
