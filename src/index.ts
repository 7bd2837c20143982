/**
 * oreo as a library: `import { loadModel, Dynamics, readStructures } from 'oreo'`.
 *
 * Units everywhere: Å, eV, eV/Å, fs, K, amu (the readers convert each file's own units at the
 * edge). The CLI (`oreo …`) is built on the same functions, so a script and a command give the
 * same numbers.
 */
export { loadModel, Model, flatPositions } from './api/model.js';
export { EnsembleModel } from './api/ensemble-model.js';
export type { EnergyForcesSpread } from './api/ensemble-model.js';
export type { SpreadSummary } from './model/ani/ensemble.js';
export type { Structure, EnergyAndForces, LoadModelOptions } from './api/model.js';
export { Dynamics } from './api/dynamics.js';
export type { DynamicsOptions, DynamicsStart, Observer, RunResult } from './api/dynamics.js';
export { optimize } from './api/optimize.js';
export { Fire, Lbfgs } from './optimize/index.js';
export type { MinimizeOptions, MinimizeResult, MinimizeStep, OptimizerKind, FireOptions, LbfgsOptions } from './optimize/index.js';
export type { Collapse, WatchdogOptions } from './md/watchdog.js';
export { readStructures, writeExtxyz } from './api/data.js';
export { bundledData, bundledModel } from './data/bundled.js';
export type { Conformation } from './data/conformation.js';
export { runSimulation } from './md/run.js';
export type { SimulationOptions, SimulationResult } from './md/run.js';
export type { Calculator } from './calculator.js';
export { pretrain, finetune } from './train/stages.js';
export type { FinetuneOptions, StageOptions } from './train/stages.js';
export type { TrainObserver, StepReport, LoopEnd } from './train/loop.js';
export { ET_OREO, PRESETS } from './train/objective.js';
export type { ObjectiveConfig } from './train/objective.js';
export { paperDefaults } from './train/trainer.js';
export { OreoError, InputError } from './errors.js';
