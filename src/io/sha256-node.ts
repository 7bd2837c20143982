/**
 * In Node, model checksums are computed by node:crypto instead of the plain TypeScript SHA-256
 * that the browser uses (same digest, ~10× faster: loading a model hashes the whole file).
 * Imported for its effect by the Node-only model loader (src/model/load.ts), which every Node
 * command that opens a model goes through; the browser bundle never imports it.
 */
import { createHash } from 'node:crypto';
import { useNativeSha256 } from './sha256.js';

useNativeSha256((parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
});
