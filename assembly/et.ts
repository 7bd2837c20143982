// The per-edge loops of the Equivariant Transformer's fast energy+forces path, vectorised over
// feature channels (f32x4 / f64x2). They are the WASM twins of the loops of the same names in
// src/model/fast/energy-forces.ts, which stay as the TypeScript fallback and say what each term
// is; the arithmetic is the same, only the order of the channel sums differs (per vector lane,
// then across lanes).
//
// Everything is addressed by byte offsets into this module's memory, laid out by the caller
// (src/model/fast/arena.ts). Per-atom rows: qkv [N, 5H] as q | k | s | m1 | m2, vectors
// [N, 3, H]; per pair p (atoms a < b; edge b → a first, then a → b): filters [P, cols] with this
// layer's key filter at column kOff and value filters at vOff (s | m1 | m2), attention [2P + N,
// heads] (pairs, then self-loops). Geometry (cut, u, gCut, gU) is f64 whatever T is.
//
// The channel loops assume H and H / heads are whole vectors (4 f32 or 2 f64); the caller falls
// back to TypeScript otherwise.

import { at, ld, st, addTo, mul, add, sub, splat, hsum, lanes, ldi, ldf } from "./simd";

/**
 * Attention logits Σ_c q_i·k_j·dk per head, for both edges of every pair and the self-loops.
 * filt = 0: no key filters (distance_influence without keys); dkSelf = 0 likewise.
 */
function attentionLogits<T>(
  P: i32, N: i32, H: i32, heads: i32, cols: i32, kOff: i32,
  pa: usize, pb: usize, qkv: usize, filt: usize, dkSelf: usize, attn: usize,
): void {
  const H5 = 5 * H, hd = H / heads, L = lanes<T>();
  const one = splat<T>(1);
  for (let p = 0; p < P; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const qa = a * H5, qb = b * H5, ka = qa + H, kb = qb + H;
    const fk = p * cols + kOff;
    const e1 = 2 * p * heads, e2 = e1 + heads;
    for (let hh = 0; hh < heads; hh++) {
      let s1 = v128.splat<T>(<T>0), s2 = v128.splat<T>(<T>0);
      const c1 = (hh + 1) * hd;
      for (let c = hh * hd; c < c1; c += L) {
        const dk = filt ? ld<T>(filt, fk + c) : one;
        s1 = add<T>(s1, mul<T>(mul<T>(ld<T>(qkv, qa + c), ld<T>(qkv, kb + c)), dk));
        s2 = add<T>(s2, mul<T>(mul<T>(ld<T>(qkv, qb + c), ld<T>(qkv, ka + c)), dk));
      }
      store<T>(at<T>(attn, e1 + hh), <T>hsum<T>(s1));
      store<T>(at<T>(attn, e2 + hh), <T>hsum<T>(s2));
    }
  }
  for (let n = 0; n < N; n++) {
    const q = n * H5, k = q + H, e = (2 * P + n) * heads;
    for (let hh = 0; hh < heads; hh++) {
      let s = v128.splat<T>(<T>0);
      const c1 = (hh + 1) * hd;
      for (let c = hh * hd; c < c1; c += L) {
        const dk = dkSelf ? ld<T>(dkSelf, c) : one;
        s = add<T>(s, mul<T>(mul<T>(ld<T>(qkv, q + c), ld<T>(qkv, k + c)), dk));
      }
      store<T>(at<T>(attn, e + hh), <T>hsum<T>(s));
    }
  }
}

export function et_attention_f32(P: i32, N: i32, H: i32, heads: i32, cols: i32, kOff: i32, pa: usize, pb: usize, qkv: usize, filt: usize, dkSelf: usize, attn: usize): void {
  attentionLogits<f32>(P, N, H, heads, cols, kOff, pa, pb, qkv, filt, dkSelf, attn);
}
export function et_attention_f64(P: i32, N: i32, H: i32, heads: i32, cols: i32, kOff: i32, pa: usize, pb: usize, qkv: usize, filt: usize, dkSelf: usize, attn: usize): void {
  attentionLogits<f64>(P, N, H, heads, cols, kOff, pa, pb, qkv, filt, dkSelf, attn);
}

/**
 * Messages scattered at the edge targets: dx += s_j·dv_s·a_ij per head; vecNext += vec_j·m1_j·dv_m
 * + m2_j·dv_m2·d_ij over all channels; then the self-loops (d = 0). filt = 0: no value filters.
 * vc: the cutoff multiplies the values (vector_cutoff) instead of the attention weights.
 */
function messages<T>(
  P: i32, N: i32, H: i32, heads: i32, cols: i32, vOff: i32, vc: i32, hasVec: i32,
  pa: usize, pb: usize, qkv: usize, filt: usize, dvSelf: usize, attn: usize, cut: usize, u: usize,
  vec: usize, vecNext: usize, dx: usize,
): void {
  const H2 = 2 * H, H5 = 5 * H, hd = H / heads, L = lanes<T>();
  const one = splat<T>(1);
  for (let p = 0; p < P; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const C = ldf(cut, p);
    const cf = vc ? C : 1.0, ca = vc ? 1.0 : C;
    const vaS = a * H5 + H2, vbS = b * H5 + H2, vaM = vaS + H, vbM = vbS + H, vaD = vaM + H, vbD = vbM + H;
    const dxa = a * H, dxb = b * H;
    const fS = p * cols + vOff, fM = fS + H, fD = fM + H;
    const e1 = 2 * p * heads, e2 = e1 + heads;
    for (let hh = 0; hh < heads; hh++) {
      const w1 = splat<T>(<f64>load<T>(at<T>(attn, e1 + hh)) * ca * cf);
      const w2 = splat<T>(<f64>load<T>(at<T>(attn, e2 + hh)) * ca * cf);
      const c1 = (hh + 1) * hd;
      for (let c = hh * hd; c < c1; c += L) {
        const fs = filt ? ld<T>(filt, fS + c) : one;
        addTo<T>(dx, dxa + c, mul<T>(mul<T>(ld<T>(qkv, vbS + c), fs), w1));
        addTo<T>(dx, dxb + c, mul<T>(mul<T>(ld<T>(qkv, vaS + c), fs), w2));
      }
    }
    const ux = splat<T>(ldf(u, 3 * p) * cf), uy = splat<T>(ldf(u, 3 * p + 1) * cf), uz = splat<T>(ldf(u, 3 * p + 2) * cf);
    const cfv = splat<T>(cf);
    const ax = 3 * a * H, ay = ax + H, az = ay + H, bx = 3 * b * H, by = bx + H, bz = by + H;
    for (let c = 0; c < H; c += L) {
      const fd = filt ? ld<T>(filt, fD + c) : one;
      const m2b = mul<T>(ld<T>(qkv, vbD + c), fd), m2a = mul<T>(ld<T>(qkv, vaD + c), fd);
      if (hasVec) {
        const fm = mul<T>(filt ? ld<T>(filt, fM + c) : one, cfv);
        const m1b = mul<T>(ld<T>(qkv, vbM + c), fm), m1a = mul<T>(ld<T>(qkv, vaM + c), fm);
        addTo<T>(vecNext, ax + c, add<T>(mul<T>(ld<T>(vec, bx + c), m1b), mul<T>(m2b, ux)));
        addTo<T>(vecNext, ay + c, add<T>(mul<T>(ld<T>(vec, by + c), m1b), mul<T>(m2b, uy)));
        addTo<T>(vecNext, az + c, add<T>(mul<T>(ld<T>(vec, bz + c), m1b), mul<T>(m2b, uz)));
        addTo<T>(vecNext, bx + c, sub<T>(mul<T>(ld<T>(vec, ax + c), m1a), mul<T>(m2a, ux)));
        addTo<T>(vecNext, by + c, sub<T>(mul<T>(ld<T>(vec, ay + c), m1a), mul<T>(m2a, uy)));
        addTo<T>(vecNext, bz + c, sub<T>(mul<T>(ld<T>(vec, az + c), m1a), mul<T>(m2a, uz)));
      } else {
        addTo<T>(vecNext, ax + c, mul<T>(m2b, ux));
        addTo<T>(vecNext, ay + c, mul<T>(m2b, uy));
        addTo<T>(vecNext, az + c, mul<T>(m2b, uz));
        addTo<T>(vecNext, bx + c, v128.neg<T>(mul<T>(m2a, ux)));
        addTo<T>(vecNext, by + c, v128.neg<T>(mul<T>(m2a, uy)));
        addTo<T>(vecNext, bz + c, v128.neg<T>(mul<T>(m2a, uz)));
      }
    }
  }
  for (let n = 0; n < N; n++) {
    const vS = n * H5 + H2, vM = vS + H, dxn = n * H;
    const nx = 3 * n * H, ny = nx + H, nz = ny + H;
    const e = (2 * P + n) * heads;
    for (let hh = 0; hh < heads; hh++) {
      const wa = v128.splat<T>(load<T>(at<T>(attn, e + hh)));
      const c1 = (hh + 1) * hd;
      for (let c = hh * hd; c < c1; c += L) {
        const fs = dvSelf ? ld<T>(dvSelf, c) : one;
        addTo<T>(dx, dxn + c, mul<T>(mul<T>(ld<T>(qkv, vS + c), fs), wa));
        if (hasVec) {
          const m1 = mul<T>(ld<T>(qkv, vM + c), dvSelf ? ld<T>(dvSelf, H + c) : one);
          addTo<T>(vecNext, nx + c, mul<T>(ld<T>(vec, nx + c), m1));
          addTo<T>(vecNext, ny + c, mul<T>(ld<T>(vec, ny + c), m1));
          addTo<T>(vecNext, nz + c, mul<T>(ld<T>(vec, nz + c), m1));
        }
      }
    }
  }
}

export function et_messages_f32(
  P: i32, N: i32, H: i32, heads: i32, cols: i32, vOff: i32, vc: i32, hasVec: i32,
  pa: usize, pb: usize, qkv: usize, filt: usize, dvSelf: usize, attn: usize, cut: usize, u: usize,
  vec: usize, vecNext: usize, dx: usize,
): void {
  messages<f32>(P, N, H, heads, cols, vOff, vc, hasVec, pa, pb, qkv, filt, dvSelf, attn, cut, u, vec, vecNext, dx);
}
export function et_messages_f64(
  P: i32, N: i32, H: i32, heads: i32, cols: i32, vOff: i32, vc: i32, hasVec: i32,
  pa: usize, pb: usize, qkv: usize, filt: usize, dvSelf: usize, attn: usize, cut: usize, u: usize,
  vec: usize, vecNext: usize, dx: usize,
): void {
  messages<f64>(P, N, H, heads, cols, vOff, vc, hasVec, pa, pb, qkv, filt, dvSelf, attn, cut, u, vec, vecNext, dx);
}

/**
 * The reverse of attentionLogits + messages for one layer: from the gradients of the layer's
 * message outputs (gdx [N, H], gvo [N, 3, H]) to those of q | k | v (gqkv, accumulated), of the
 * input vectors (gvi, accumulated), of the filter pre-activations (G, written: this layer's
 * columns of each pair), of the cutoff (gCut, accumulated) and of the pair directions (gU,
 * accumulated). keys / values: whether this layer has key / value filters (their columns in
 * filt, fder and G start at kOff / vOff).
 */
function edgesBackward<T>(
  P: i32, N: i32, H: i32, heads: i32, cols: i32, kOff: i32, vOff: i32, keys: i32, values: i32, vc: i32, hasVec: i32,
  pa: usize, pb: usize, qkv: usize, filt: usize, fder: usize, dkSelf: usize, dvSelf: usize,
  attn: usize, attnDer: usize, cut: usize, u: usize, vec: usize,
  gdx: usize, gvo: usize, gvi: usize, gqkv: usize, G: usize, gCut: usize, gU: usize,
): void {
  const H2 = 2 * H, H5 = 5 * H, hd = H / heads, L = lanes<T>();
  const one = splat<T>(1);
  const zero = v128.splat<T>(<T>0);
  for (let p = 0; p < P; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const C = ldf(cut, p);
    const cf = vc ? C : 1.0, ca = vc ? 1.0 : C;
    const cfv = splat<T>(cf);
    const uxs = ldf(u, 3 * p), uys = ldf(u, 3 * p + 1), uzs = ldf(u, 3 * p + 2);
    const ux = splat<T>(uxs), uy = splat<T>(uys), uz = splat<T>(uzs);
    const qa = a * H5, qb = b * H5, ka = qa + H, kb = qb + H;
    const vaS = qa + H2, vbS = qb + H2, vaM = vaS + H, vbM = vbS + H, vaD = vaM + H, vbD = vbM + H;
    const dxa = a * H, dxb = b * H;
    const ax = 3 * a * H, ay = ax + H, az = ay + H, bx = 3 * b * H, by = bx + H, bz = by + H;
    const fk = p * cols + kOff, fS = p * cols + vOff, fM = fS + H, fD = fM + H;
    const e1 = 2 * p * heads, e2 = e1 + heads;
    let gCv = zero;
    let g1x = zero, g1y = zero, g1z = zero, g2x = zero, g2y = zero, g2z = zero;
    for (let c = 0; c < H; c += L) {
      const dvm = values ? ld<T>(filt, fM + c) : one, dvd = values ? ld<T>(filt, fD + c) : one;
      const fm = mul<T>(cfv, dvm), fd = mul<T>(cfv, dvd);
      const vd1 = ld<T>(qkv, vbD + c), vd2 = ld<T>(qkv, vaD + c);
      const gax = ld<T>(gvo, ax + c), gay = ld<T>(gvo, ay + c), gaz = ld<T>(gvo, az + c);
      const gbx = ld<T>(gvo, bx + c), gby = ld<T>(gvo, by + c), gbz = ld<T>(gvo, bz + c);
      const gd1 = add<T>(add<T>(mul<T>(gax, ux), mul<T>(gay, uy)), mul<T>(gaz, uz));
      const gd2 = v128.neg<T>(add<T>(add<T>(mul<T>(gbx, ux), mul<T>(gby, uy)), mul<T>(gbz, uz)));
      const m21 = mul<T>(vd1, fd), m22 = mul<T>(vd2, fd);
      g1x = add<T>(g1x, mul<T>(gax, m21));
      g1y = add<T>(g1y, mul<T>(gay, m21));
      g1z = add<T>(g1z, mul<T>(gaz, m21));
      g2x = add<T>(g2x, mul<T>(gbx, m22));
      g2y = add<T>(g2y, mul<T>(gby, m22));
      g2z = add<T>(g2z, mul<T>(gbz, m22));
      addTo<T>(gqkv, vbD + c, mul<T>(gd1, fd));
      addTo<T>(gqkv, vaD + c, mul<T>(gd2, fd));
      const Pd = add<T>(mul<T>(gd1, vd1), mul<T>(gd2, vd2));
      let Pm = zero;
      if (hasVec) {
        const vm1 = ld<T>(qkv, vbM + c), vm2 = ld<T>(qkv, vaM + c);
        const vbx = ld<T>(vec, bx + c), vby = ld<T>(vec, by + c), vbz = ld<T>(vec, bz + c);
        const vax = ld<T>(vec, ax + c), vay = ld<T>(vec, ay + c), vaz = ld<T>(vec, az + c);
        const gm1 = add<T>(add<T>(mul<T>(gax, vbx), mul<T>(gay, vby)), mul<T>(gaz, vbz));
        const gm2 = add<T>(add<T>(mul<T>(gbx, vax), mul<T>(gby, vay)), mul<T>(gbz, vaz));
        const m11 = mul<T>(vm1, fm), m12 = mul<T>(vm2, fm);
        addTo<T>(gvi, bx + c, mul<T>(gax, m11));
        addTo<T>(gvi, by + c, mul<T>(gay, m11));
        addTo<T>(gvi, bz + c, mul<T>(gaz, m11));
        addTo<T>(gvi, ax + c, mul<T>(gbx, m12));
        addTo<T>(gvi, ay + c, mul<T>(gby, m12));
        addTo<T>(gvi, az + c, mul<T>(gbz, m12));
        addTo<T>(gqkv, vbM + c, mul<T>(gm1, fm));
        addTo<T>(gqkv, vaM + c, mul<T>(gm2, fm));
        Pm = add<T>(mul<T>(gm1, vm1), mul<T>(gm2, vm2));
      }
      if (values) {
        st<T>(G, fM + c, mul<T>(mul<T>(Pm, cfv), ld<T>(fder, fM + c)));
        st<T>(G, fD + c, mul<T>(mul<T>(Pd, cfv), ld<T>(fder, fD + c)));
      }
      if (vc) gCv = add<T>(gCv, add<T>(mul<T>(Pm, dvm), mul<T>(Pd, dvd)));
    }
    let gC: f64 = 0;
    for (let hh = 0; hh < heads; hh++) {
      const s1 = <f64>load<T>(at<T>(attn, e1 + hh)), s2 = <f64>load<T>(at<T>(attn, e2 + hh));
      const w1 = splat<T>(s1 * ca), w2 = splat<T>(s2 * ca);
      let ga1v = zero, ga2v = zero;
      const c0 = hh * hd, c1 = c0 + hd;
      for (let c = c0; c < c1; c += L) {
        const dvs = values ? ld<T>(filt, fS + c) : one;
        const fs = mul<T>(cfv, dvs);
        const vs1 = ld<T>(qkv, vbS + c), vs2 = ld<T>(qkv, vaS + c);
        const gx1 = ld<T>(gdx, dxa + c), gx2 = ld<T>(gdx, dxb + c);
        ga1v = add<T>(ga1v, mul<T>(mul<T>(gx1, vs1), dvs));
        ga2v = add<T>(ga2v, mul<T>(mul<T>(gx2, vs2), dvs));
        const gs1 = mul<T>(gx1, w1), gs2 = mul<T>(gx2, w2);
        addTo<T>(gqkv, vbS + c, mul<T>(gs1, fs));
        addTo<T>(gqkv, vaS + c, mul<T>(gs2, fs));
        const Ps = add<T>(mul<T>(gs1, vs1), mul<T>(gs2, vs2));
        if (values) st<T>(G, fS + c, mul<T>(mul<T>(Ps, cfv), ld<T>(fder, fS + c)));
        if (vc) gCv = add<T>(gCv, mul<T>(Ps, dvs));
      }
      const ga1 = hsum<T>(ga1v) * cf, ga2 = hsum<T>(ga2v) * cf;
      if (!vc) gC += ga1 * s1 + ga2 * s2;
      const gl1s = ga1 * ca * <f64>load<T>(at<T>(attnDer, e1 + hh));
      const gl2s = ga2 * ca * <f64>load<T>(at<T>(attnDer, e2 + hh));
      const gl1 = splat<T>(gl1s), gl2 = splat<T>(gl2s);
      for (let c = c0; c < c1; c += L) {
        const qav = ld<T>(qkv, qa + c), qbv = ld<T>(qkv, qb + c), kav = ld<T>(qkv, ka + c), kbv = ld<T>(qkv, kb + c);
        if (keys) {
          const dk = ld<T>(filt, fk + c);
          const l1 = mul<T>(gl1, dk), l2 = mul<T>(gl2, dk);
          addTo<T>(gqkv, qa + c, mul<T>(l1, kbv));
          addTo<T>(gqkv, kb + c, mul<T>(l1, qav));
          addTo<T>(gqkv, qb + c, mul<T>(l2, kav));
          addTo<T>(gqkv, ka + c, mul<T>(l2, qbv));
          st<T>(G, fk + c, mul<T>(add<T>(mul<T>(mul<T>(gl1, qav), kbv), mul<T>(mul<T>(gl2, qbv), kav)), ld<T>(fder, fk + c)));
        } else {
          addTo<T>(gqkv, qa + c, mul<T>(gl1, kbv));
          addTo<T>(gqkv, kb + c, mul<T>(gl1, qav));
          addTo<T>(gqkv, qb + c, mul<T>(gl2, kav));
          addTo<T>(gqkv, ka + c, mul<T>(gl2, qbv));
        }
      }
    }
    gC += hsum<T>(gCv);
    store<f64>(gCut + (<usize>p << 3), ldf(gCut, p) + gC);
    store<f64>(gU + (<usize>(3 * p) << 3), ldf(gU, 3 * p) + (hsum<T>(g1x) - hsum<T>(g2x)));
    store<f64>(gU + (<usize>(3 * p + 1) << 3), ldf(gU, 3 * p + 1) + (hsum<T>(g1y) - hsum<T>(g2y)));
    store<f64>(gU + (<usize>(3 * p + 2) << 3), ldf(gU, 3 * p + 2) + (hsum<T>(g1z) - hsum<T>(g2z)));
  }
  // Self-loops: constant filters, d = 0.
  for (let n = 0; n < N; n++) {
    const q = n * H5, k = q + H, vS = q + H2, vM = vS + H, dxn = n * H;
    const nx = 3 * n * H, ny = nx + H, nz = ny + H;
    const e = (2 * P + n) * heads;
    for (let hh = 0; hh < heads; hh++) {
      const wa = v128.splat<T>(load<T>(at<T>(attn, e + hh)));
      let gav = zero;
      const c0 = hh * hd, c1 = c0 + hd;
      for (let c = c0; c < c1; c += L) {
        const fs = dvSelf ? ld<T>(dvSelf, c) : one;
        const gxm = ld<T>(gdx, dxn + c);
        gav = add<T>(gav, mul<T>(mul<T>(gxm, ld<T>(qkv, vS + c)), fs));
        addTo<T>(gqkv, vS + c, mul<T>(mul<T>(gxm, wa), fs));
        if (hasVec) {
          const fm = dvSelf ? ld<T>(dvSelf, H + c) : one;
          const gnx = ld<T>(gvo, nx + c), gny = ld<T>(gvo, ny + c), gnz = ld<T>(gvo, nz + c);
          const gm = add<T>(add<T>(mul<T>(gnx, ld<T>(vec, nx + c)), mul<T>(gny, ld<T>(vec, ny + c))), mul<T>(gnz, ld<T>(vec, nz + c)));
          addTo<T>(gqkv, vM + c, mul<T>(gm, fm));
          const m1 = mul<T>(ld<T>(qkv, vM + c), fm);
          addTo<T>(gvi, nx + c, mul<T>(gnx, m1));
          addTo<T>(gvi, ny + c, mul<T>(gny, m1));
          addTo<T>(gvi, nz + c, mul<T>(gnz, m1));
        }
      }
      const gl = splat<T>(hsum<T>(gav) * <f64>load<T>(at<T>(attnDer, e + hh)));
      for (let c = c0; c < c1; c += L) {
        const dk = dkSelf ? ld<T>(dkSelf, c) : one;
        const qv = ld<T>(qkv, q + c), kv = ld<T>(qkv, k + c);
        addTo<T>(gqkv, q + c, mul<T>(mul<T>(gl, kv), dk));
        addTo<T>(gqkv, k + c, mul<T>(mul<T>(gl, qv), dk));
      }
    }
  }
}

export function et_edges_backward_f32(
  P: i32, N: i32, H: i32, heads: i32, cols: i32, kOff: i32, vOff: i32, keys: i32, values: i32, vc: i32, hasVec: i32,
  pa: usize, pb: usize, qkv: usize, filt: usize, fder: usize, dkSelf: usize, dvSelf: usize,
  attn: usize, attnDer: usize, cut: usize, u: usize, vec: usize,
  gdx: usize, gvo: usize, gvi: usize, gqkv: usize, G: usize, gCut: usize, gU: usize,
): void {
  edgesBackward<f32>(P, N, H, heads, cols, kOff, vOff, keys, values, vc, hasVec, pa, pb, qkv, filt, fder, dkSelf, dvSelf,
    attn, attnDer, cut, u, vec, gdx, gvo, gvi, gqkv, G, gCut, gU);
}
export function et_edges_backward_f64(
  P: i32, N: i32, H: i32, heads: i32, cols: i32, kOff: i32, vOff: i32, keys: i32, values: i32, vc: i32, hasVec: i32,
  pa: usize, pb: usize, qkv: usize, filt: usize, fder: usize, dkSelf: usize, dvSelf: usize,
  attn: usize, attnDer: usize, cut: usize, u: usize, vec: usize,
  gdx: usize, gvo: usize, gvi: usize, gqkv: usize, G: usize, gCut: usize, gU: usize,
): void {
  edgesBackward<f64>(P, N, H, heads, cols, kOff, vOff, keys, values, vc, hasVec, pa, pb, qkv, filt, fder, dkSelf, dvSelf,
    attn, attnDer, cut, u, vec, gdx, gvo, gvi, gqkv, G, gCut, gU);
}

// ---------------------------------------------------------------------------------------------
// Per-atom steps of a layer (rows of H channels), twins of the TypeScript loops in
// energy-forces.ts: the layer norm both ways, the bias rows, and the residual updates.

/** torch.nn.LayerNorm over rows of H: xhat = (x − mean)/σ (σ with eps inside the root), rstd = 1/σ (f64), out = xhat·w + b. */
function layerNormForward<T>(x: usize, w: usize, b: usize, N: i32, H: i32, eps: f64, xhat: usize, rstd: usize, out: usize): void {
  const L = lanes<T>();
  for (let n = 0; n < N; n++) {
    const o = n * H;
    let s = v128.splat<T>(<T>0);
    for (let h = 0; h < H; h += L) s = add<T>(s, ld<T>(x, o + h));
    const m = splat<T>(hsum<T>(s) / <f64>H);
    let v = v128.splat<T>(<T>0);
    for (let h = 0; h < H; h += L) {
      const d = sub<T>(ld<T>(x, o + h), m);
      v = add<T>(v, mul<T>(d, d));
    }
    const rs = 1 / Math.sqrt(hsum<T>(v) / <f64>H + eps);
    store<f64>(rstd + (<usize>n << 3), rs);
    const r = splat<T>(rs);
    for (let h = 0; h < H; h += L) {
      const xh = mul<T>(sub<T>(ld<T>(x, o + h), m), r);
      st<T>(xhat, o + h, xh);
      st<T>(out, o + h, add<T>(mul<T>(xh, ld<T>(w, h)), ld<T>(b, h)));
    }
  }
}

/** gx += the layer norm's input gradient for output gradient gy. */
function layerNormBackward<T>(gy: usize, w: usize, xhat: usize, rstd: usize, N: i32, H: i32, gx: usize): void {
  const L = lanes<T>();
  for (let n = 0; n < N; n++) {
    const o = n * H;
    let s1 = v128.splat<T>(<T>0), s2 = s1;
    for (let h = 0; h < H; h += L) {
      const g = mul<T>(ld<T>(gy, o + h), ld<T>(w, h));
      s1 = add<T>(s1, g);
      s2 = add<T>(s2, mul<T>(g, ld<T>(xhat, o + h)));
    }
    const m1 = splat<T>(hsum<T>(s1) / <f64>H), m2 = splat<T>(hsum<T>(s2) / <f64>H);
    const rs = splat<T>(load<f64>(rstd + (<usize>n << 3)));
    for (let h = 0; h < H; h += L) {
      const g = mul<T>(ld<T>(gy, o + h), ld<T>(w, h));
      addTo<T>(gx, o + h, mul<T>(rs, sub<T>(sub<T>(g, m1), mul<T>(ld<T>(xhat, o + h), m2))));
    }
  }
}

/** y[r, :] += bias for each of `rows` rows of `cols`. */
function addRowBias<T>(y: usize, bias: usize, rows: i32, cols: i32): void {
  const L = lanes<T>();
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c += L) addTo<T>(y, o + c, ld<T>(bias, c));
  }
}

/** vdot[n] = Σ_xyz vec1·vec2 from vec_proj's output vp [N, 3, 3H] (vec1 | vec2 | vec3). */
function vectorDot<T>(N: i32, H: i32, vp: usize, vdot: usize): void {
  const L = lanes<T>(), H3 = 3 * H;
  for (let n = 0; n < N; n++) {
    const r0 = 3 * n * H3;
    for (let h = 0; h < H; h += L) {
      let s = mul<T>(ld<T>(vp, r0 + h), ld<T>(vp, r0 + H + h));
      s = add<T>(s, mul<T>(ld<T>(vp, r0 + H3 + h), ld<T>(vp, r0 + H3 + H + h)));
      s = add<T>(s, mul<T>(ld<T>(vp, r0 + 2 * H3 + h), ld<T>(vp, r0 + 2 * H3 + H + h)));
      st<T>(vdot, n * H + h, s);
    }
  }
}

/** The residual updates after o_proj: x += vdot·o2 + o3; vecNext += vec3·o1 (hasVec). */
function residualUpdate<T>(N: i32, H: i32, hasVec: i32, o: usize, vdot: usize, vp: usize, x: usize, vecNext: usize): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H;
  for (let n = 0; n < N; n++) {
    const xo = n * H, oo = n * H3;
    for (let h = 0; h < H; h += L) {
      addTo<T>(x, xo + h, add<T>(mul<T>(ld<T>(vdot, xo + h), ld<T>(o, oo + H + h)), ld<T>(o, oo + H2 + h)));
    }
    if (hasVec) {
      for (let c = 0; c < 3; c++) {
        const row = (3 * n + c) * H, prow = (3 * n + c) * H3 + H2;
        for (let h = 0; h < H; h += L) addTo<T>(vecNext, row + h, mul<T>(ld<T>(vp, prow + h), ld<T>(o, oo + h)));
      }
    }
  }
}

/**
 * Gradients at the residual updates, backwards: go = [Σ_xyz gvo·vec3, gx·vdot, gx] for o_proj;
 * with vectors also gvp = [gd·vec2, gd·vec1, gvo·o1] (gd = gx·o2) for vec_proj.
 */
function residualBackward<T>(N: i32, H: i32, hasVec: i32, gx: usize, gvo: usize, vp: usize, vdot: usize, o: usize, go: usize, gvp: usize): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H;
  const zero = v128.splat<T>(<T>0);
  for (let n = 0; n < N; n++) {
    const oo = n * H3, xo = n * H;
    for (let h = 0; h < H; h += L) {
      const g = ld<T>(gx, xo + h);
      let g1 = zero;
      if (hasVec) {
        for (let c = 0; c < 3; c++) g1 = add<T>(g1, mul<T>(ld<T>(gvo, (3 * n + c) * H + h), ld<T>(vp, (3 * n + c) * H3 + H2 + h)));
        const gd = mul<T>(g, ld<T>(o, oo + H + h));
        const o1 = ld<T>(o, oo + h);
        for (let c = 0; c < 3; c++) {
          const row = (3 * n + c) * H3;
          st<T>(gvp, row + h, mul<T>(gd, ld<T>(vp, row + H + h)));
          st<T>(gvp, row + H + h, mul<T>(gd, ld<T>(vp, row + h)));
          st<T>(gvp, row + H2 + h, mul<T>(ld<T>(gvo, (3 * n + c) * H + h), o1));
        }
      }
      st<T>(go, oo + h, g1);
      st<T>(go, oo + H + h, mul<T>(g, ld<T>(vdot, xo + h)));
      st<T>(go, oo + H2 + h, g);
    }
  }
}

/** a[i] += b[i] for i < n (n whole vectors). */
function addInto<T>(a: usize, b: usize, n: i32): void {
  const L = lanes<T>();
  for (let i = 0; i < n; i += L) addTo<T>(a, i, ld<T>(b, i));
}

export function et_layer_norm_f32(x: usize, w: usize, b: usize, N: i32, H: i32, eps: f64, xhat: usize, rstd: usize, out: usize): void { layerNormForward<f32>(x, w, b, N, H, eps, xhat, rstd, out); }
export function et_layer_norm_f64(x: usize, w: usize, b: usize, N: i32, H: i32, eps: f64, xhat: usize, rstd: usize, out: usize): void { layerNormForward<f64>(x, w, b, N, H, eps, xhat, rstd, out); }
export function et_layer_norm_backward_f32(gy: usize, w: usize, xhat: usize, rstd: usize, N: i32, H: i32, gx: usize): void { layerNormBackward<f32>(gy, w, xhat, rstd, N, H, gx); }
export function et_layer_norm_backward_f64(gy: usize, w: usize, xhat: usize, rstd: usize, N: i32, H: i32, gx: usize): void { layerNormBackward<f64>(gy, w, xhat, rstd, N, H, gx); }
export function et_add_row_bias_f32(y: usize, bias: usize, rows: i32, cols: i32): void { addRowBias<f32>(y, bias, rows, cols); }
export function et_add_row_bias_f64(y: usize, bias: usize, rows: i32, cols: i32): void { addRowBias<f64>(y, bias, rows, cols); }
export function et_vector_dot_f32(N: i32, H: i32, vp: usize, vdot: usize): void { vectorDot<f32>(N, H, vp, vdot); }
export function et_vector_dot_f64(N: i32, H: i32, vp: usize, vdot: usize): void { vectorDot<f64>(N, H, vp, vdot); }
export function et_residual_f32(N: i32, H: i32, hasVec: i32, o: usize, vdot: usize, vp: usize, x: usize, vecNext: usize): void { residualUpdate<f32>(N, H, hasVec, o, vdot, vp, x, vecNext); }
export function et_residual_f64(N: i32, H: i32, hasVec: i32, o: usize, vdot: usize, vp: usize, x: usize, vecNext: usize): void { residualUpdate<f64>(N, H, hasVec, o, vdot, vp, x, vecNext); }
export function et_residual_backward_f32(N: i32, H: i32, hasVec: i32, gx: usize, gvo: usize, vp: usize, vdot: usize, o: usize, go: usize, gvp: usize): void { residualBackward<f32>(N, H, hasVec, gx, gvo, vp, vdot, o, go, gvp); }
export function et_residual_backward_f64(N: i32, H: i32, hasVec: i32, gx: usize, gvo: usize, vp: usize, vdot: usize, o: usize, go: usize, gvp: usize): void { residualBackward<f64>(N, H, hasVec, gx, gvo, vp, vdot, o, go, gvp); }
export function et_add_into_f32(a: usize, b: usize, n: i32): void { addInto<f32>(a, b, n); }
export function et_add_into_f64(a: usize, b: usize, n: i32): void { addInto<f64>(a, b, n); }
