export { Fire, fireDefaults, type FireOptions } from './fire.js';
export { Lbfgs, lbfgsDefaults, type LbfgsOptions } from './lbfgs.js';
export { createOptimizer, maxAtomForce, minimize, optimizerKinds, type MinimizeOptions, type MinimizeResult, type MinimizeStep, type OptimizerKind } from './minimize.js';
export type { Optimizer } from './types.js';
