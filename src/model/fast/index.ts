export { FastEnergyForces, type FastResult } from './energy-forces.js';
export { PairList } from './pair-list.js';
