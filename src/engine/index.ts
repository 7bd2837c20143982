export * from './tensor.js';
export * from './autograd.js';
export * from './ops.js';
export * from './functional.js';
