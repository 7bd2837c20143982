/**
 * Bonds for the stability analysis. The bond finder lives in src/chem/bonds.ts so that MD's
 * stability watchdog (src/md/watchdog.ts) uses the very same criterion without importing analysis.
 */
export * from '../chem/bonds.js';
