/**
 * An ANI ensemble as one `.oreo` file: oreo's tensor container (../io/tensor-file.ts) with
 * `format: "oreo-model"` and `kind: "ani-ensemble"` in its header, so the one model loader
 * (src/model/load.ts and its byte-level twins) can tell it from an ET and open it.
 *
 * Header: the AEV constants as the `.params` file states them, the element order, the
 * self-atomic energies in Hartree (as published; converted to eV when the model is built), each
 * member's layer list (sizes, activation), and meta (name, level of theory, provenance, licence).
 * Tensors: `m<k>.<El>.<layer>.weight` [out, in] and `.bias` [out], float32 exactly as published.
 * Browser-safe: bytes in, bytes out.
 */
import { InputError } from '../../errors.js';
import { parseTensors, serializeTensors, NamedTensor } from '../io/tensor-file.js';
import { AniEnsembleData, AevParams, ElementNetwork, LayerSpec } from './types.js';

export const ANI_KIND = 'ani-ensemble';

interface MemberHeader {
  networks: Record<string, LayerSpec[]>;
}

export function serializeAni(d: AniEnsembleData): Uint8Array {
  const tensors = new Map<string, NamedTensor>();
  const members: MemberHeader[] = d.members.map((nets, m) => {
    const networks: Record<string, LayerSpec[]> = {};
    for (const [el, net] of nets) {
      networks[el] = net.layers;
      net.layers.forEach((l, k) => {
        tensors.set(`m${m}.${el}.${k}.weight`, { dtype: 'float32', shape: [l.out, l.in], data: net.weights[k] });
        tensors.set(`m${m}.${el}.${k}.bias`, { dtype: 'float32', shape: [l.out], data: net.biases[k] });
      });
    }
    return { networks };
  });
  return serializeTensors(
    { format: 'oreo-model', kind: ANI_KIND, version: 1, dtype: 'float32', aev: d.aev, selfEnergiesHartree: d.selfEnergies, members, meta: d.meta },
    tensors,
  );
}

/** Whether a parsed oreo-model header is an ANI ensemble's. */
export function isAniHeader(header: Record<string, unknown>): boolean {
  return header.kind === ANI_KIND;
}

export function aniFromTensors(header: Record<string, unknown>, tensors: Map<string, NamedTensor>, file: string): AniEnsembleData {
  const aev = header.aev as AevParams | undefined;
  const sae = header.selfEnergiesHartree as number[] | undefined;
  const members = header.members as MemberHeader[] | undefined;
  if (!aev || !Array.isArray(aev.species)) throw new InputError(file, 'missing', undefined, 'aev');
  if (!Array.isArray(sae) || sae.length !== aev.species.length || sae.some((v) => !Number.isFinite(v))) {
    throw new InputError(file, `expected ${aev.species.length} finite self energies`, undefined, 'selfEnergiesHartree');
  }
  if (!Array.isArray(members) || members.length === 0) throw new InputError(file, 'no ensemble members', undefined, 'members');
  const data = members.map((mh, m) => {
    const nets = new Map<string, ElementNetwork>();
    for (const el of aev.species) {
      const layers = mh.networks?.[el];
      if (!Array.isArray(layers) || layers.length === 0) throw new InputError(file, `member ${m} has no network for ${el}`, `member ${m}`, el);
      const weights: Float32Array[] = [];
      const biases: Float32Array[] = [];
      layers.forEach((l, k) => {
        const take = (name: string, shape: number[]) => {
          const t = tensors.get(name);
          if (!t) throw new InputError(file, 'tensor missing', name);
          if (t.shape.join(',') !== shape.join(',')) throw new InputError(file, `shape [${t.shape}], expected [${shape}]`, name);
          return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
        };
        weights.push(take(`m${m}.${el}.${k}.weight`, [l.out, l.in]));
        biases.push(take(`m${m}.${el}.${k}.bias`, [l.out]));
      });
      nets.set(el, { layers, weights, biases });
    }
    return nets;
  });
  return { aev, selfEnergies: sae, members: data, meta: (header.meta as Record<string, unknown>) ?? {} };
}

export function parseAniBytes(bytes: Uint8Array, file: string): AniEnsembleData {
  const { header, tensors } = parseTensors(bytes, file);
  if (header.format !== 'oreo-model' || !isAniHeader(header)) throw new InputError(file, `not an ANI ensemble (kind '${String(header.kind)}')`, undefined, 'kind');
  return aniFromTensors(header, tensors, file);
}
