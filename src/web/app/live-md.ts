/**
 * MD in the browser: pick a bundled molecule and model, set the thermostat, press Run and watch it
 * move. The stepping happens in a Web Worker running oreo's own engine and integrators; the page
 * draws the frames and energies it reports.
 */
import { Chart, COLORS } from './charts.js';
import { h, fmt } from './dom.js';
import { api, type ModelEntry, type Molecule, type MoleculeEntry } from './api.js';
import { MoleculeViewer } from './viewer.js';
import type { FromWorker, MdFrame, MdSettings, ToWorker } from '../protocol.js';
import type { ThermostatKind } from '../../md/integrators/types.js';
import { formatExtxyzFrame } from '../../data/extxyz.js';
import { moleculeFromFile, moleculeFromSmiles } from './own-molecule.js';

/** A worker that answers requests; one per page. */
export class MdWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: { energy: number; forces: Float64Array }): void; reject(e: Error): void }>();
  onMessage: ((m: FromWorker) => void) | null = null;

  constructor() {
    this.worker = new Worker('/md-worker.js');
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'forces') {
        this.pending.get(m.id)?.resolve({ energy: m.energy, forces: m.forces });
        this.pending.delete(m.id);
        return;
      }
      if (m.type === 'error' && m.id !== undefined && this.pending.has(m.id)) {
        this.pending.get(m.id)!.reject(new Error(m.message));
        this.pending.delete(m.id);
        return;
      }
      this.onMessage?.(m);
    };
    this.worker.onerror = (e) => this.onMessage?.({ type: 'error', message: e.message || 'the MD worker failed to start' });
  }

  send(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Energy (eV) and forces (eV/Å) of one geometry with a bundled model, computed in the worker. */
  async forces(modelId: string, dtype: 'float32' | 'float64', z: number[], positions: number[]): Promise<{ energy: number; forces: Float64Array }> {
    const model = await api.modelBytes(modelId);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type: 'forces', id, model, modelName: modelId, dtype, z, positions }, [model]);
    });
  }
}

interface Field {
  label: string;
  input: HTMLInputElement | HTMLSelectElement;
}

export class LiveMd {
  readonly element: HTMLElement;
  private readonly viewer: MoleculeViewer;
  private readonly energyChart: Chart;
  private readonly tempChart: Chart;
  private readonly status: HTMLElement;
  private readonly runButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly fields: Record<string, Field>;
  private molecule: Molecule | null = null;
  /** The settings the worker's simulation was built with; a change starts a new one. */
  private loadedKey = '';
  private running = false;
  private readonly series = { t: [] as number[], epot: [] as number[], etot: [] as number[], econs: [] as number[], temp: [] as number[] };
  private lastDraw = 0;

  constructor(
    private readonly worker: MdWorker,
    molecules: MoleculeEntry[],
    models: ModelEntry[],
  ) {
    const sel = (id: string, options: [string, string][], value?: string) =>
      h('select', { id }, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
    const numIn = (id: string, value: number, min: number, max: number, step: number) => h('input', { id, type: 'number', value, min, max, step });
    const aspirin = molecules.find((m) => m.id.includes('aspirin'))?.id;
    this.fields = {
      molecule: { label: 'Molecule', input: sel('md-molecule', molecules.map((m) => [m.id, m.label]), aspirin) },
      model: { label: 'Model', input: sel('md-model', models.filter((m) => !m.info.error).map((m) => [m.id, `${m.id}${m.info.parameters ? ` (${m.info.parameters} parameters)` : ''}`])) },
      dtype: { label: 'Arithmetic', input: sel('md-dtype', [['float64', 'float64 (as oreo simulate)'], ['float32', 'float32 (faster)']]) },
      // The second thread needs shared memory, which only a cross-origin isolated page has. On a
      // machine of two cores or fewer the page's own drawing needs the other core: measured on
      // two cores, a helper thread there made the MD no faster (docs/performance.md).
      threads: {
        label: 'Threads',
        input: sel('md-threads', [['2', '2 (a helper worker)'], ['1', '1']], self.crossOriginIsolated && navigator.hardwareConcurrency >= 4 ? '2' : '1'),
      },
      thermostat: {
        label: 'Thermostat',
        input: sel('md-thermostat', [['nose-hoover', 'Nosé–Hoover (MDsim)'], ['nhc', 'Nosé–Hoover chain'], ['langevin', 'Langevin'], ['nve', 'NVE (velocity Verlet)']]),
      },
      temperature: { label: 'T (K)', input: numIn('md-temperature', 500, 0, 5000, 10) },
      dt: { label: 'dt (fs)', input: numIn('md-dt', 0.5, 0.01, 5, 0.05) },
      steps: { label: 'Steps', input: numIn('md-steps', 1000, 1, 1_000_000, 100) },
      seed: { label: 'Seed', input: numIn('md-seed', 1, 0, 2 ** 31, 1) },
      allowUnstable: { label: 'Go on after a collapse', input: h('input', { id: 'md-allow-unstable', type: 'checkbox' }) },
      relaxFirst: { label: 'Relax first (FIRE, fmax 0.05 eV/Å)', input: h('input', { id: 'md-relax', type: 'checkbox', checked: true }) },
    };
    this.runButton = h('button', { type: 'button', id: 'md-run', class: 'primary' }, 'Run');
    this.stopButton = h('button', { type: 'button', id: 'md-stop', disabled: true }, 'Stop');
    const resetButton = h('button', { type: 'button', id: 'md-reset' }, 'Restart');
    this.smilesInput = h('input', { id: 'md-smiles', type: 'text', size: 40, placeholder: 'SMILES, e.g. Cn1cnc2c1c(=O)n(C)c(=O)n2C' });
    const smilesButton = h('button', { type: 'button', id: 'md-smiles-build' }, '3D from SMILES');
    const fileInput = h('input', { id: 'md-file', type: 'file', accept: '.xyz,.extxyz,.sdf,.mol' });
    this.downloadTraj = h('button', { type: 'button', id: 'md-download-traj', disabled: true }, 'Download trajectory (extxyz)');
    this.downloadThermo = h('button', { type: 'button', id: 'md-download-thermo', disabled: true }, 'Download thermo (CSV)');
    this.warning = h('div', { id: 'md-warning', class: 'status error', hidden: true });
    const unusable = models.filter((m) => m.info.error).map((m) => `${m.id}: ${String(m.info.error)}`);
    this.status = h(
      'div',
      { id: 'md-status', class: 'status' },
      models.length > unusable.length ? 'Pick a molecule and a model, then press Run.' : 'No usable models found (models/*.oreo).',
      unusable.length ? ` Not offered: ${unusable.join('; ')}` : '',
    );
    const view = h('div', { class: 'viewer', id: 'md-viewer' });
    this.energyChart = new Chart({
      title: 'Energy',
      xLabel: 'time (fs)',
      yLabel: 'eV',
      series: [
        { label: 'Epot', color: COLORS.blue },
        { label: 'Etot', color: COLORS.black },
        { label: 'Etot + thermostat', color: COLORS.purple, dash: [4, 3] },
      ],
      height: 200,
    });
    this.energyChart.element.id = 'md-energy-chart';
    this.tempChart = new Chart({ title: 'Temperature', xLabel: 'time (fs)', yLabel: 'K', series: [{ label: 'T', color: COLORS.orange }], height: 180 });
    this.tempChart.element.id = 'md-temperature-chart';
    this.element = h(
      'section',
      { class: 'live', id: 'live' },
      h('h2', {}, 'Molecular dynamics in the browser'),
      h('p', { class: 'muted' }, 'The same engine, models (ET, ANI-2x) and integrators as oreo simulate, running in a Web Worker in this tab.'),
      h(
        'div',
        { class: 'form' },
        ...Object.values(this.fields).map((f) => h('label', {}, h('span', {}, f.label), f.input)),
        h('div', { class: 'buttons' }, this.runButton, this.stopButton, resetButton),
      ),
      h(
        'div',
        { class: 'form own-molecule', id: 'md-own' },
        h('span', { class: 'muted' }, 'Your own molecule: type a SMILES, or drop an xyz/SDF file here'),
        this.smilesInput,
        smilesButton,
        fileInput,
      ),
      this.warning,
      this.status,
      h('div', { class: 'buttons' }, this.downloadTraj, this.downloadThermo),
      h('div', { class: 'player-grid' }, view, h('div', { class: 'charts' }, this.energyChart.element, this.tempChart.element)),
    );
    this.viewer = new MoleculeViewer(view);
    this.runButton.addEventListener('click', () => void this.run());
    this.stopButton.addEventListener('click', () => this.worker.send({ type: 'stop' }));
    resetButton.addEventListener('click', () => {
      this.loadedKey = '';
      void this.run();
    });
    this.fields.molecule.input.addEventListener('change', () => void this.showMolecule());
    worker.onMessage = (m) => this.onWorker(m);
    smilesButton.addEventListener('click', () => void this.fromSmiles());
    this.smilesInput.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') void this.fromSmiles();
    });
    fileInput.addEventListener('change', () => {
      const f = fileInput.files?.[0];
      if (f) void this.fromFile(f);
    });
    this.element.addEventListener('dragover', (e) => e.preventDefault());
    this.element.addEventListener('drop', (e) => {
      e.preventDefault();
      const f = (e as DragEvent).dataTransfer?.files?.[0];
      if (f) void this.fromFile(f);
    });
    this.downloadTraj.addEventListener('click', () => this.download('trajectory.extxyz', this.trajectoryText(), 'chemical/x-xyz'));
    this.downloadThermo.addEventListener('click', () => this.download('thermo.csv', this.thermoText(), 'text/csv'));
  }

  mount(): void {
    this.energyChart.setData([[], [], [], []]);
    this.tempChart.setData([[], []]);
    void this.showMolecule();
  }

  resize(): void {
    this.viewer.resize();
    this.energyChart.resize();
    this.tempChart.resize();
  }

  private value(name: string): string {
    return this.fields[name].input.value;
  }

  private number(name: string, min: number, max: number): number {
    const v = Number(this.value(name));
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${this.fields[name].label} must be between ${min} and ${max}`);
    return v;
  }

  private readonly smilesInput: HTMLInputElement;
  private readonly downloadTraj: HTMLButtonElement;
  private readonly downloadThermo: HTMLButtonElement;
  private readonly warning: HTMLElement;
  /** Molecules the user brought (SMILES or a file), by their id in the molecule list. */
  private readonly own = new Map<string, Molecule>();
  /** Every frame the worker reported in this simulation, for the downloads. */
  private readonly frames: MdFrame[] = [];

  /** Add a molecule of the user's to the list, select it and show it. */
  private adopt(m: Molecule): void {
    this.own.set(m.id, m);
    const select = this.fields.molecule.input as HTMLSelectElement;
    select.append(h('option', { value: m.id }, m.label));
    select.value = m.id;
    this.element.dataset.ownMolecule = m.formula;
    void this.showMolecule();
  }

  private async fromSmiles(): Promise<void> {
    const smiles = this.smilesInput.value.trim();
    if (!smiles) return;
    try {
      this.setStatus(`Building 3D coordinates for ${smiles}…`);
      this.adopt(await moleculeFromSmiles(smiles));
      this.setStatus(`${this.molecule?.formula ?? ''}: 3D structure from OpenChemLib's conformer generator (not relaxed). Pick a model and press Run.`);
    } catch (err) {
      this.setStatus(`Cannot use this SMILES: ${(err as Error).message}`, 'error');
    }
  }

  private async fromFile(file: File): Promise<void> {
    try {
      this.adopt(moleculeFromFile(file.name, await file.text()));
      this.setStatus(`${this.molecule?.formula ?? ''} read from ${file.name}. Pick a model and press Run.`);
    } catch (err) {
      this.setStatus(`Cannot read ${file.name}: ${(err as Error).message}`, 'error');
    }
  }

  private download(name: string, text: string, type: string): void {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** The reported frames as extxyz (Å; energy in eV as ASE reads it; time and temperature per frame). */
  private trajectoryText(): string {
    const mol = this.molecule;
    if (!mol) return '';
    const z = Int32Array.from(mol.z);
    return this.frames
      .map((f) => formatExtxyzFrame({ z, positions: f.positions, info: { energy: f.epot, step: f.step, time_fs: f.timeFs, Ekin_eV: f.ekin, T_K: f.temperature, Econserved_eV: f.econserved }, arrays: {}, pbc: [false, false, false] }))
      .join('');
  }

  /** thermo.csv as `oreo simulate` writes it. */
  private thermoText(): string {
    return 'time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K\n' + this.frames.map((f) => `${f.timeFs / 1000},${f.etot},${f.epot},${f.ekin},${f.temperature}`).join('\n') + '\n';
  }

  private async showMolecule(): Promise<void> {
    try {
      const id = this.value('molecule');
      this.molecule = this.own.get(id) ?? (await api.molecule(id));
      this.viewer.setStructure(this.molecule.symbols, this.molecule.positions, true);
      this.loadedKey = '';
    } catch (err) {
      this.setStatus(`Cannot load the molecule: ${(err as Error).message}`, 'error');
    }
  }

  private setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', kind === 'error');
  }

  private settings(): MdSettings {
    return {
      thermostat: this.value('thermostat') as ThermostatKind,
      dt: this.number('dt', 0.001, 10),
      temperature: this.number('temperature', 0, 1e5),
      seed: Math.floor(this.number('seed', 0, 2 ** 31)),
      ttime: 20,
      friction: 0.01,
      chainLength: 3,
      zeroMomentum: true,
      zeroAngularMomentum: true,
      allowUnstable: (this.fields.allowUnstable.input as HTMLInputElement).checked,
      relaxFirst: (this.fields.relaxFirst.input as HTMLInputElement).checked,
    };
  }

  /** Run `steps` steps, building a new simulation first if molecule, model or settings changed. */
  async run(): Promise<void> {
    if (this.running) return;
    try {
      const settings = this.settings();
      const steps = Math.floor(this.number('steps', 1, 1_000_000));
      const modelId = this.value('model');
      if (!modelId) throw new Error('no model selected');
      const dtype = this.value('dtype') as 'float32' | 'float64';
      const threads = Number(this.value('threads'));
      const key = JSON.stringify([this.value('molecule'), modelId, dtype, threads, settings]);
      this.running = true;
      delete this.status.dataset.done;
      delete this.status.dataset.collapsed;
      delete this.status.dataset.collapseKind;
      this.runButton.disabled = true;
      this.stopButton.disabled = false;
      if (key !== this.loadedKey) {
        if (!this.molecule || this.molecule.id !== this.value('molecule')) await this.showMolecule();
        const mol = this.molecule!;
        this.setStatus(`Loading ${modelId}…`);
        const model = await api.modelBytes(modelId);
        for (const s of Object.values(this.series)) s.length = 0;
        this.frames.length = 0;
        this.warning.hidden = true;
        this.warning.textContent = '';
        delete this.status.dataset.warning;
        this.worker.send({ type: 'init', model, modelName: modelId, dtype, z: mol.z, positions: mol.positions, settings, threads }, [model]);
        this.loadedKey = key;
      }
      // Redraw about 20 times per second whatever the speed; report often enough for smooth plots.
      this.worker.send({ type: 'run', steps, reportEvery: Math.max(1, Math.min(10, Math.floor(steps / 200))) });
      this.element.dataset.target = String(steps);
    } catch (err) {
      this.finish();
      this.setStatus((err as Error).message, 'error');
    }
  }

  private finish(): void {
    this.running = false;
    this.runButton.disabled = false;
    this.stopButton.disabled = true;
  }

  private record(f: MdFrame): void {
    if (this.frames.length === 0 || this.frames[this.frames.length - 1].step !== f.step) this.frames.push(f);
    this.downloadTraj.disabled = this.downloadThermo.disabled = false;
    const s = this.series;
    s.t.push(f.timeFs);
    s.epot.push(f.epot);
    s.etot.push(f.etot);
    s.econs.push(f.econserved);
    s.temp.push(f.temperature);
  }

  /**
   * Draw the newest frame now (force) or soon: at most every 50 ms, and leaving at least as much
   * idle time as a draw takes, so that a slow WebGL (software rendering) shows fewer frames instead
   * of falling behind the worker.
   */
  private draw(f: MdFrame, force = false): void {
    this.pendingFrame = f;
    if (force) {
      if (this.drawTimer !== null) window.clearTimeout(this.drawTimer);
      this.drawTimer = null;
      this.drawNow();
      return;
    }
    if (this.drawTimer !== null) return;
    const wait = Math.max(0, Math.max(50, 2 * this.drawCost) - (performance.now() - this.lastDraw));
    this.drawTimer = window.setTimeout(() => {
      this.drawTimer = null;
      this.drawNow();
    }, wait);
  }

  private pendingFrame: MdFrame | null = null;
  private drawTimer: number | null = null;
  /** Duration of the last draw, ms. */
  private drawCost = 0;

  private drawNow(): void {
    const f = this.pendingFrame;
    if (!f) return;
    this.pendingFrame = null;
    const start = performance.now();
    this.lastDraw = start;
    if (this.molecule) this.viewer.setStructure(this.molecule.symbols, f.positions);
    const s = this.series;
    this.energyChart.update([s.t, s.epot, s.etot, s.econs]);
    this.tempChart.update([s.t, s.temp]);
    const st = this.status.dataset;
    st.step = String(f.step);
    st.epot = String(f.epot);
    st.etot = String(f.etot);
    st.temperature = String(f.temperature);
    st.frames = String(s.t.length);
    this.drawCost = performance.now() - start;
  }

  private kernels = '';
  private rate = 0;

  private describe(f: MdFrame): string {
    return (
      `step ${f.step} · t = ${fmt(f.timeFs, 6)} fs · Epot = ${fmt(f.epot, 9)} eV · Etot = ${fmt(f.etot, 9)} eV · T = ${fmt(f.temperature, 4)} K` +
      (this.rate ? ` · ${fmt(this.rate, 3)} steps/s` : '') +
      ` · kernels: ${this.kernels}`
    );
  }

  private onWorker(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        this.kernels = m.kernels;
        this.rate = 0;
        this.record(m.frame);
        this.draw(m.frame, true);
        {
          const r = m.relaxation;
          const relaxed = r ? `Relaxed in ${r.steps} FIRE steps, fmax ${fmt(r.startFmax, 3)} → ${fmt(r.fmax, 3)} eV/Å${r.converged ? '' : ' (not converged)'}. ` : '';
          if (r) this.status.dataset.relaxSteps = String(r.steps);
          this.setStatus(`${m.atoms} atoms, ${m.parameters} model parameters. ${relaxed}` + this.describe(m.frame));
        }
        this.status.dataset.step = String(m.frame.step);
        break;
      case 'frame':
        this.rate = m.stepsPerSecond || this.rate;
        this.record(m.frame);
        this.draw(m.frame);
        this.setStatus(this.describe(m.frame));
        this.lastFrame = m.frame;
        break;
      case 'done':
        if (this.lastFrame) {
          this.draw(this.lastFrame, true);
          // A collapse leads the line: "collapsed at 0.0125 ps" is what a person must not miss.
          const text = m.collapse
            ? `collapsed at ${m.collapse.timePs} ps: ${m.collapse.message.replace(/^collapsed at [^:]*: /, '')} · ${this.describe(this.lastFrame)}`
            : this.describe(this.lastFrame) + (m.reason ? ` · stopped: ${m.reason}` : ' · done');
          this.setStatus(text, m.reason && m.reason !== 'stopped' ? 'error' : 'info');
        }
        if (m.reason && m.reason !== 'stopped') this.loadedKey = '';
        if (m.collapse) {
          this.status.dataset.collapsed = String(m.collapse.timePs);
          this.status.dataset.collapseKind = m.collapse.kind;
        }
        this.status.dataset.done = String(m.step);
        this.finish();
        break;
      case 'error':
        this.setStatus(`Error: ${m.message}`, 'error');
        this.loadedKey = '';
        this.finish();
        break;
      case 'warning':
        this.warning.hidden = false;
        this.warning.textContent = (this.warning.textContent ? this.warning.textContent + ' · ' : '') + m.message;
        this.status.dataset.warning = m.message;
        break;
      case 'forces':
        break;
    }
  }

  private lastFrame: MdFrame | null = null;
}
