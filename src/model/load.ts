/**
 * Open any model file oreo understands — its own `.oreo` format or a TorchMD-Net `.ckpt`/`.pt`
 * (recognised by content, not extension) — as a Potential, or directly as an MD Calculator.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import type { Calculator } from '../md/calculator.js';
import { DType } from '../engine/index.js';
import { InputError } from '../errors.js';
import { Potential } from './potential.js';
import { loadModelFile } from './io/native.js';
import { loadTorchMDNet } from './io/torchmdnet.js';

export interface LoadOptions {
  dtype?: DType;
}

function sniff(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? 'model file not found' : `cannot open model file (${code})`);
  }
  const head = new Uint8Array(8);
  readSync(fd, head, 0, 8, 0);
  closeSync(fd);
  return head;
}

export function loadPotential(path: string, options: LoadOptions = {}): Potential {
  const head = sniff(path);
  if (new TextDecoder().decode(head) === 'OREOTNS1') return loadModelFile(path, options);
  if (head[0] === 0x50 && head[1] === 0x4b) return loadTorchMDNet(path, options);
  throw new InputError(path, 'not a model file oreo can read (expected an oreo .oreo model or a TorchMD-Net .ckpt/.pt)');
}

export async function loadCalculator(path: string, options: LoadOptions = {}): Promise<Calculator> {
  return loadPotential(path, options).asCalculator();
}
