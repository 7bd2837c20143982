export { FastEnergyForces, type FastResult } from './energy-forces.js';
export { PairList } from '../neighbors.js';
