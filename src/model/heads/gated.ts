/**
 * The gated equivariant block of PaiNN (Schütt et al. 2021) as TorchMD-Net's output models use
 * it, with its parameters found under any prefix, so that one block serves the energy head
 * (`output_model`), the property head (`head`) and the noise head (`head.noise`) alike:
 *
 *   a = ‖W₁·vec‖ over xyz,  b = W₂·vec,  [s, g] = L₂(SiLU(L₁([x ‖ a])))
 *   x' = SiLU(s) (or s),    vec' = g ⊙ b
 *
 * Parameter names below the prefix are TorchMD-Net's (`vec1_proj`, `vec2_proj`,
 * `update_net.layers.{0,2}`), so a TorchMD-Net `output_model` maps one to one.
 */
import { Tensor, concat, linear, mul, reshape, silu, split, sqrtSafe, square, sum } from '../../engine/index.js';
import { param, type Params, type Representation } from '../et.js';

export function gatedBlock(params: Params, prefix: string, x: Tensor, vec: Tensor, outDim: number, scalarActivation: boolean): Representation {
  const N = x.shape[0];
  const vecNorm = sqrtSafe(sum(square(linear(vec, param(params, `${prefix}.vec1_proj.weight`))), 1));
  const vec2 = linear(vec, param(params, `${prefix}.vec2_proj.weight`));
  let h = linear(concat([x, vecNorm], 1), param(params, `${prefix}.update_net.layers.0.weight`), param(params, `${prefix}.update_net.layers.0.bias`));
  h = linear(silu(h), param(params, `${prefix}.update_net.layers.2.weight`), param(params, `${prefix}.update_net.layers.2.bias`));
  const [xOut, gate] = split(h, outDim, -1);
  return { x: scalarActivation ? silu(xOut) : xOut, vec: mul(reshape(gate, [N, 1, outDim]), vec2) };
}

/** Shapes of the two-block stack H → H/2 → 1 (`<prefix>.output_network.{0,1}`) every ET head uses. */
export function twoBlockShapes(prefix: string, H: number): Map<string, number[]> {
  const s = new Map<string, number[]>();
  const blocks: [number, number][] = [
    [H, H / 2],
    [H / 2, 1],
  ];
  blocks.forEach(([hin, hout], b) => {
    const p = `${prefix}.output_network.${b}`;
    s.set(`${p}.vec1_proj.weight`, [hin, hin]);
    s.set(`${p}.vec2_proj.weight`, [hout, hin]);
    s.set(`${p}.update_net.layers.0.weight`, [hin, 2 * hin]);
    s.set(`${p}.update_net.layers.0.bias`, [hin]);
    s.set(`${p}.update_net.layers.2.weight`, [2 * hout, hin]);
    s.set(`${p}.update_net.layers.2.bias`, [2 * hout]);
  });
  return s;
}

/** Both blocks: per-atom scalar [N, 1] and vector [N, 3, 1]. */
export function twoBlocks(params: Params, prefix: string, r: Representation): Representation {
  const H = r.x.shape[1];
  const b0 = gatedBlock(params, `${prefix}.output_network.0`, r.x, r.vec, H / 2, true);
  return gatedBlock(params, `${prefix}.output_network.1`, b0.x, b0.vec, 1, false);
}
