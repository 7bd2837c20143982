// The pair loop of the fused training gradient's reverse pass (forward-over-reverse), vectorised
// over feature channels: the WASM twin of the "Pairs: both directions at once" loop in
// src/model/fast/training-gradient.ts, which stays as the TypeScript fallback and says what each
// term is. Every quantity comes as a pair of pointers: its value and its tangent (the derivative
// along the loss's force adjoint). For pairs [p0, p1) of one block: filters of this layer for the
// block's pairs (rows of perLayer: dk at 0, value filters s | m1 | m2 at dvLocal), attention
// values s and silu′ per edge and head (edges 2p, 2p + 1), per-atom rows qkv [N, 5H]
// (q | k | s | m1 | m2), vectors [N, 3, H]; geometry (u, C) is f64.
//
// Channel loops assume H and H / heads are whole vectors (4 f32 or 2 f64). The forward edge loops
// and the per-atom row loops of a layer follow, after the reverse pair loop.
import { ld, st, addTo, mul, add, splat, hsum, lanes, ldi, ldf, at } from "./simd";

@inline function mul3<T>(a: v128, b: v128, c: v128): v128 {
  return mul<T>(mul<T>(a, b), c);
}

@inline function ldT<T>(base: usize, i: i32): f64 {
  return <f64>load<T>(at<T>(base, i));
}

function pairBackwardDual<T>(
  p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, dvLocal: i32, keys: i32, values: i32, hasVec: i32,
  pa: usize, pb: usize, u: usize, uT: usize, C: usize, CT: usize,
  qkv: usize, qkvT: usize, vec: usize, vecT: usize, gvec: usize, gvecT: usize, gdx: usize, gdxT: usize,
  s: usize, sT: usize, sd: usize, sdT: usize, filt: usize, filtT: usize, fder: usize, fderT: usize,
  gqkv: usize, gqkvT: usize, gvi: usize, gviT: usize, gA: usize, gAT: usize,
): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H, H4 = 4 * H, H5 = 5 * H, hd = H / heads;
  const one = splat<T>(1), zero = splat<T>(0);
  for (let p = p0; p < p1; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const c0 = ldf(C, p), c0T = ldf(CT, p);
    const ux = splat<T>(ldf(u, 3 * p)), uy = splat<T>(ldf(u, 3 * p + 1)), uz = splat<T>(ldf(u, 3 * p + 2));
    const uxT = splat<T>(ldf(uT, 3 * p)), uyT = splat<T>(ldf(uT, 3 * p + 1)), uzT = splat<T>(ldf(uT, 3 * p + 2));
    const fo = (p - p0) * perLayer;
    const aq = a * H5, bq = b * H5, ax = 3 * a * H, bx = 3 * b * H;
    // Vector messages: m1 (times vec_j) and m2 (times d = ±u).
    for (let c = 0; c < H; c += L) {
      const im = fo + dvLocal + H + c, id = fo + dvLocal + H2 + c;
      const fm = values ? ld<T>(filt, im) : one, fmT = values ? ld<T>(filtT, im) : zero;
      const fd = values ? ld<T>(filt, id) : one, fdT = values ? ld<T>(filtT, id) : zero;
      const vD1 = ld<T>(qkv, bq + H4 + c), vD1T = ld<T>(qkvT, bq + H4 + c);
      const vD2 = ld<T>(qkv, aq + H4 + c), vD2T = ld<T>(qkvT, aq + H4 + c);
      const gax = ld<T>(gvec, ax + c), gay = ld<T>(gvec, ax + H + c), gaz = ld<T>(gvec, ax + H2 + c);
      const gaxT = ld<T>(gvecT, ax + c), gayT = ld<T>(gvecT, ax + H + c), gazT = ld<T>(gvecT, ax + H2 + c);
      const gbx = ld<T>(gvec, bx + c), gby = ld<T>(gvec, bx + H + c), gbz = ld<T>(gvec, bx + H2 + c);
      const gbxT = ld<T>(gvecT, bx + c), gbyT = ld<T>(gvecT, bx + H + c), gbzT = ld<T>(gvecT, bx + H2 + c);
      const gm21 = add<T>(add<T>(mul<T>(gax, ux), mul<T>(gay, uy)), mul<T>(gaz, uz));
      const gm21T = add<T>(add<T>(add<T>(mul<T>(gaxT, ux), mul<T>(gayT, uy)), mul<T>(gazT, uz)),
        add<T>(add<T>(mul<T>(gax, uxT), mul<T>(gay, uyT)), mul<T>(gaz, uzT)));
      const gm22 = v128.neg<T>(add<T>(add<T>(mul<T>(gbx, ux), mul<T>(gby, uy)), mul<T>(gbz, uz)));
      const gm22T = v128.neg<T>(add<T>(add<T>(add<T>(mul<T>(gbxT, ux), mul<T>(gbyT, uy)), mul<T>(gbzT, uz)),
        add<T>(add<T>(mul<T>(gbx, uxT), mul<T>(gby, uyT)), mul<T>(gbz, uzT))));
      addTo<T>(gqkv, bq + H4 + c, mul<T>(gm21, fd));
      addTo<T>(gqkvT, bq + H4 + c, add<T>(mul<T>(gm21T, fd), mul<T>(gm21, fdT)));
      addTo<T>(gqkv, aq + H4 + c, mul<T>(gm22, fd));
      addTo<T>(gqkvT, aq + H4 + c, add<T>(mul<T>(gm22T, fd), mul<T>(gm22, fdT)));
      let gfm = zero, gfmT = zero;
      if (hasVec) {
        const vM1 = ld<T>(qkv, bq + H3 + c), vM1T = ld<T>(qkvT, bq + H3 + c);
        const vM2 = ld<T>(qkv, aq + H3 + c), vM2T = ld<T>(qkvT, aq + H3 + c);
        const vbx = ld<T>(vec, bx + c), vby = ld<T>(vec, bx + H + c), vbz = ld<T>(vec, bx + H2 + c);
        const vbxT = ld<T>(vecT, bx + c), vbyT = ld<T>(vecT, bx + H + c), vbzT = ld<T>(vecT, bx + H2 + c);
        const vax = ld<T>(vec, ax + c), vay = ld<T>(vec, ax + H + c), vaz = ld<T>(vec, ax + H2 + c);
        const vaxT = ld<T>(vecT, ax + c), vayT = ld<T>(vecT, ax + H + c), vazT = ld<T>(vecT, ax + H2 + c);
        const gm11 = add<T>(add<T>(mul<T>(gax, vbx), mul<T>(gay, vby)), mul<T>(gaz, vbz));
        const gm11T = add<T>(add<T>(add<T>(mul<T>(gaxT, vbx), mul<T>(gayT, vby)), mul<T>(gazT, vbz)),
          add<T>(add<T>(mul<T>(gax, vbxT), mul<T>(gay, vbyT)), mul<T>(gaz, vbzT)));
        const gm12 = add<T>(add<T>(mul<T>(gbx, vax), mul<T>(gby, vay)), mul<T>(gbz, vaz));
        const gm12T = add<T>(add<T>(add<T>(mul<T>(gbxT, vax), mul<T>(gbyT, vay)), mul<T>(gbzT, vaz)),
          add<T>(add<T>(mul<T>(gbx, vaxT), mul<T>(gby, vayT)), mul<T>(gbz, vazT)));
        const m11 = mul<T>(vM1, fm), m11T = add<T>(mul<T>(vM1T, fm), mul<T>(vM1, fmT));
        const m12 = mul<T>(vM2, fm), m12T = add<T>(mul<T>(vM2T, fm), mul<T>(vM2, fmT));
        addTo<T>(gvi, bx + c, mul<T>(gax, m11));
        addTo<T>(gvi, bx + H + c, mul<T>(gay, m11));
        addTo<T>(gvi, bx + H2 + c, mul<T>(gaz, m11));
        addTo<T>(gviT, bx + c, add<T>(mul<T>(gaxT, m11), mul<T>(gax, m11T)));
        addTo<T>(gviT, bx + H + c, add<T>(mul<T>(gayT, m11), mul<T>(gay, m11T)));
        addTo<T>(gviT, bx + H2 + c, add<T>(mul<T>(gazT, m11), mul<T>(gaz, m11T)));
        addTo<T>(gvi, ax + c, mul<T>(gbx, m12));
        addTo<T>(gvi, ax + H + c, mul<T>(gby, m12));
        addTo<T>(gvi, ax + H2 + c, mul<T>(gbz, m12));
        addTo<T>(gviT, ax + c, add<T>(mul<T>(gbxT, m12), mul<T>(gbx, m12T)));
        addTo<T>(gviT, ax + H + c, add<T>(mul<T>(gbyT, m12), mul<T>(gby, m12T)));
        addTo<T>(gviT, ax + H2 + c, add<T>(mul<T>(gbzT, m12), mul<T>(gbz, m12T)));
        addTo<T>(gqkv, bq + H3 + c, mul<T>(gm11, fm));
        addTo<T>(gqkvT, bq + H3 + c, add<T>(mul<T>(gm11T, fm), mul<T>(gm11, fmT)));
        addTo<T>(gqkv, aq + H3 + c, mul<T>(gm12, fm));
        addTo<T>(gqkvT, aq + H3 + c, add<T>(mul<T>(gm12T, fm), mul<T>(gm12, fmT)));
        gfm = add<T>(mul<T>(gm11, vM1), mul<T>(gm12, vM2));
        gfmT = add<T>(add<T>(mul<T>(gm11T, vM1), mul<T>(gm11, vM1T)), add<T>(mul<T>(gm12T, vM2), mul<T>(gm12, vM2T)));
      }
      if (values) {
        const gfd = add<T>(mul<T>(gm21, vD1), mul<T>(gm22, vD2));
        const gfdT = add<T>(add<T>(mul<T>(gm21T, vD1), mul<T>(gm21, vD1T)), add<T>(mul<T>(gm22T, vD2), mul<T>(gm22, vD2T)));
        const dd = ld<T>(fder, id), ddT = ld<T>(fderT, id);
        addTo<T>(gA, id, mul<T>(gfd, dd));
        addTo<T>(gAT, id, add<T>(mul<T>(gfdT, dd), mul<T>(gfd, ddT)));
        if (hasVec) {
          const dm = ld<T>(fder, im), dmT = ld<T>(fderT, im);
          addTo<T>(gA, im, mul<T>(gfm, dm));
          addTo<T>(gAT, im, add<T>(mul<T>(gfmT, dm), mul<T>(gfm, dmT)));
        }
      }
    }
    // Scalar messages per head (s times the attention value), then the attention logits.
    const e1 = 2 * p * heads, e2 = e1 + heads;
    for (let hh = 0; hh < heads; hh++) {
      const s1 = ldT<T>(s, e1 + hh), s1T = ldT<T>(sT, e1 + hh), s2 = ldT<T>(s, e2 + hh), s2T = ldT<T>(sT, e2 + hh);
      const w1 = splat<T>(s1 * c0), w1T = splat<T>(s1T * c0 + s1 * c0T);
      const w2 = splat<T>(s2 * c0), w2T = splat<T>(s2T * c0 + s2 * c0T);
      let gw1 = zero, gw1T = zero, gw2 = zero, gw2T = zero;
      const cEnd = (hh + 1) * hd;
      for (let c = hh * hd; c < cEnd; c += L) {
        const is = fo + dvLocal + c;
        const fs = values ? ld<T>(filt, is) : one, fsT = values ? ld<T>(filtT, is) : zero;
        const vs1 = ld<T>(qkv, bq + H2 + c), vs1T = ld<T>(qkvT, bq + H2 + c);
        const vs2 = ld<T>(qkv, aq + H2 + c), vs2T = ld<T>(qkvT, aq + H2 + c);
        const g1 = ld<T>(gdx, a * H + c), g1T = ld<T>(gdxT, a * H + c);
        const g2 = ld<T>(gdx, b * H + c), g2T = ld<T>(gdxT, b * H + c);
        addTo<T>(gqkv, bq + H2 + c, mul3<T>(g1, fs, w1));
        addTo<T>(gqkvT, bq + H2 + c, add<T>(add<T>(mul3<T>(g1T, fs, w1), mul3<T>(g1, fsT, w1)), mul3<T>(g1, fs, w1T)));
        addTo<T>(gqkv, aq + H2 + c, mul3<T>(g2, fs, w2));
        addTo<T>(gqkvT, aq + H2 + c, add<T>(add<T>(mul3<T>(g2T, fs, w2), mul3<T>(g2, fsT, w2)), mul3<T>(g2, fs, w2T)));
        gw1 = add<T>(gw1, mul3<T>(g1, vs1, fs));
        gw1T = add<T>(gw1T, add<T>(add<T>(mul3<T>(g1T, vs1, fs), mul3<T>(g1, vs1T, fs)), mul3<T>(g1, vs1, fsT)));
        gw2 = add<T>(gw2, mul3<T>(g2, vs2, fs));
        gw2T = add<T>(gw2T, add<T>(add<T>(mul3<T>(g2T, vs2, fs), mul3<T>(g2, vs2T, fs)), mul3<T>(g2, vs2, fsT)));
        if (values) {
          const gf = add<T>(mul3<T>(g1, vs1, w1), mul3<T>(g2, vs2, w2));
          const gfT = add<T>(
            add<T>(add<T>(mul3<T>(g1T, vs1, w1), mul3<T>(g1, vs1T, w1)), mul3<T>(g1, vs1, w1T)),
            add<T>(add<T>(mul3<T>(g2T, vs2, w2), mul3<T>(g2, vs2T, w2)), mul3<T>(g2, vs2, w2T)));
          const ds = ld<T>(fder, is), dsT = ld<T>(fderT, is);
          addTo<T>(gA, is, mul<T>(gf, ds));
          addTo<T>(gAT, is, add<T>(mul<T>(gfT, ds), mul<T>(gf, dsT)));
        }
      }
      const gs1 = hsum<T>(gw1) * c0, gs1T = hsum<T>(gw1T) * c0 + hsum<T>(gw1) * c0T;
      const gs2 = hsum<T>(gw2) * c0, gs2T = hsum<T>(gw2T) * c0 + hsum<T>(gw2) * c0T;
      const d11 = ldT<T>(sd, e1 + hh), d11T = ldT<T>(sdT, e1 + hh), d12 = ldT<T>(sd, e2 + hh), d12T = ldT<T>(sdT, e2 + hh);
      const gl1 = splat<T>(gs1 * d11), gl1T = splat<T>(gs1T * d11 + gs1 * d11T);
      const gl2 = splat<T>(gs2 * d12), gl2T = splat<T>(gs2T * d12 + gs2 * d12T);
      for (let c = hh * hd; c < cEnd; c += L) {
        const ik = fo + c;
        const dk = keys ? ld<T>(filt, ik) : one, dkT = keys ? ld<T>(filtT, ik) : zero;
        const qa = ld<T>(qkv, aq + c), qaT = ld<T>(qkvT, aq + c), kb = ld<T>(qkv, bq + H + c), kbT = ld<T>(qkvT, bq + H + c);
        const qb = ld<T>(qkv, bq + c), qbT = ld<T>(qkvT, bq + c), ka = ld<T>(qkv, aq + H + c), kaT = ld<T>(qkvT, aq + H + c);
        addTo<T>(gqkv, aq + c, mul3<T>(gl1, kb, dk));
        addTo<T>(gqkvT, aq + c, add<T>(add<T>(mul3<T>(gl1T, kb, dk), mul3<T>(gl1, kbT, dk)), mul3<T>(gl1, kb, dkT)));
        addTo<T>(gqkv, bq + H + c, mul3<T>(gl1, qa, dk));
        addTo<T>(gqkvT, bq + H + c, add<T>(add<T>(mul3<T>(gl1T, qa, dk), mul3<T>(gl1, qaT, dk)), mul3<T>(gl1, qa, dkT)));
        addTo<T>(gqkv, bq + c, mul3<T>(gl2, ka, dk));
        addTo<T>(gqkvT, bq + c, add<T>(add<T>(mul3<T>(gl2T, ka, dk), mul3<T>(gl2, kaT, dk)), mul3<T>(gl2, ka, dkT)));
        addTo<T>(gqkv, aq + H + c, mul3<T>(gl2, qb, dk));
        addTo<T>(gqkvT, aq + H + c, add<T>(add<T>(mul3<T>(gl2T, qb, dk), mul3<T>(gl2, qbT, dk)), mul3<T>(gl2, qb, dkT)));
        if (keys) {
          const gdk = add<T>(mul3<T>(gl1, qa, kb), mul3<T>(gl2, qb, ka));
          const gdkT = add<T>(
            add<T>(mul3<T>(gl1T, qa, kb), mul<T>(gl1, add<T>(mul<T>(qaT, kb), mul<T>(qa, kbT)))),
            add<T>(mul3<T>(gl2T, qb, ka), mul<T>(gl2, add<T>(mul<T>(qbT, ka), mul<T>(qb, kaT)))));
          const dd = ld<T>(fder, ik), ddT = ld<T>(fderT, ik);
          addTo<T>(gA, ik, mul<T>(gdk, dd));
          addTo<T>(gAT, ik, add<T>(mul<T>(gdkT, dd), mul<T>(gdk, ddT)));
        }
      }
    }
  }
}

export function et_pair_backward_dual_f32(
  p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, dvLocal: i32, keys: i32, values: i32, hasVec: i32,
  pa: usize, pb: usize, u: usize, uT: usize, C: usize, CT: usize,
  qkv: usize, qkvT: usize, vec: usize, vecT: usize, gvec: usize, gvecT: usize, gdx: usize, gdxT: usize,
  s: usize, sT: usize, sd: usize, sdT: usize, filt: usize, filtT: usize, fder: usize, fderT: usize,
  gqkv: usize, gqkvT: usize, gvi: usize, gviT: usize, gA: usize, gAT: usize,
): void {
  pairBackwardDual<f32>(p0, p1, H, heads, perLayer, dvLocal, keys, values, hasVec, pa, pb, u, uT, C, CT,
    qkv, qkvT, vec, vecT, gvec, gvecT, gdx, gdxT, s, sT, sd, sdT, filt, filtT, fder, fderT, gqkv, gqkvT, gvi, gviT, gA, gAT);
}

export function et_pair_backward_dual_f64(
  p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, dvLocal: i32, keys: i32, values: i32, hasVec: i32,
  pa: usize, pb: usize, u: usize, uT: usize, C: usize, CT: usize,
  qkv: usize, qkvT: usize, vec: usize, vecT: usize, gvec: usize, gvecT: usize, gdx: usize, gdxT: usize,
  s: usize, sT: usize, sd: usize, sdT: usize, filt: usize, filtT: usize, fder: usize, fderT: usize,
  gqkv: usize, gqkvT: usize, gvi: usize, gviT: usize, gA: usize, gAT: usize,
): void {
  pairBackwardDual<f64>(p0, p1, H, heads, perLayer, dvLocal, keys, values, hasVec, pa, pb, u, uT, C, CT,
    qkv, qkvT, vec, vecT, gvec, gvecT, gdx, gdxT, s, sT, sd, sdT, filt, filtT, fder, fderT, gqkv, gqkvT, gvi, gviT, gA, gAT);
}

// ---------------------------------------------------------------------------------------------
// The forward pass's edge loops, dual (value and tangent): the WASM twins of `logit` and
// `pairMessages` in src/model/fast/training-gradient.ts, for pairs [p0, p1) of one block, both
// directions of each pair (edge 2p: b → a, edge 2p + 1: a → b). Same layouts as above.

/** Attention logits per edge and head, Σ_c q_i·k_j·dk, and their tangents, into s / sT. */
function pairLogitsDual<T>(
  p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, keys: i32,
  pa: usize, pb: usize, qkv: usize, qkvT: usize, filt: usize, filtT: usize, s: usize, sT: usize,
): void {
  const L = lanes<T>(), H5 = 5 * H, hd = H / heads;
  const one = splat<T>(1), zero = splat<T>(0);
  for (let p = p0; p < p1; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const fk = (p - p0) * perLayer;
    const aq = a * H5, bq = b * H5;
    const e1 = 2 * p * heads, e2 = e1 + heads;
    for (let hh = 0; hh < heads; hh++) {
      let s1 = zero, s1T = zero, s2 = zero, s2T = zero;
      const cEnd = (hh + 1) * hd;
      for (let c = hh * hd; c < cEnd; c += L) {
        const dk = keys ? ld<T>(filt, fk + c) : one, dkT = keys ? ld<T>(filtT, fk + c) : zero;
        const qa = ld<T>(qkv, aq + c), qaT = ld<T>(qkvT, aq + c), kb = ld<T>(qkv, bq + H + c), kbT = ld<T>(qkvT, bq + H + c);
        const qb = ld<T>(qkv, bq + c), qbT = ld<T>(qkvT, bq + c), ka = ld<T>(qkv, aq + H + c), kaT = ld<T>(qkvT, aq + H + c);
        const qk1 = mul<T>(qa, kb), qk2 = mul<T>(qb, ka);
        s1 = add<T>(s1, mul<T>(qk1, dk));
        s1T = add<T>(s1T, add<T>(mul<T>(add<T>(mul<T>(qaT, kb), mul<T>(qa, kbT)), dk), mul<T>(qk1, dkT)));
        s2 = add<T>(s2, mul<T>(qk2, dk));
        s2T = add<T>(s2T, add<T>(mul<T>(add<T>(mul<T>(qbT, ka), mul<T>(qb, kaT)), dk), mul<T>(qk2, dkT)));
      }
      store<T>(at<T>(s, e1 + hh), <T>hsum<T>(s1));
      store<T>(at<T>(sT, e1 + hh), <T>hsum<T>(s1T));
      store<T>(at<T>(s, e2 + hh), <T>hsum<T>(s2));
      store<T>(at<T>(sT, e2 + hh), <T>hsum<T>(s2T));
    }
  }
}

/**
 * Messages of both directions of each pair, added into dx [N, H] and vecNext [N, 3, H] (and their
 * tangents): dx_i += v_s,j·fs·s·C; vecNext_i += vec_j·v_m,j·fm + d·v_d,j·fd (d = ±u).
 */
function pairMessagesDual<T>(
  p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, dvLocal: i32, values: i32, hasVec: i32,
  pa: usize, pb: usize, u: usize, uT: usize, C: usize, CT: usize, qkv: usize, qkvT: usize, vec: usize, vecT: usize,
  s: usize, sT: usize, filt: usize, filtT: usize, dx: usize, dxT: usize, vn: usize, vnT: usize,
): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H, H4 = 4 * H, H5 = 5 * H, hd = H / heads;
  const one = splat<T>(1), zero = splat<T>(0);
  for (let p = p0; p < p1; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const c0 = ldf(C, p), c0T = ldf(CT, p);
    const fo = (p - p0) * perLayer + dvLocal;
    const aq = a * H5, bq = b * H5, da = a * H, db = b * H;
    const e1 = 2 * p * heads, e2 = e1 + heads;
    for (let hh = 0; hh < heads; hh++) {
      const s1 = ldT<T>(s, e1 + hh), s1T = ldT<T>(sT, e1 + hh), s2 = ldT<T>(s, e2 + hh), s2T = ldT<T>(sT, e2 + hh);
      const w1 = splat<T>(s1 * c0), w1T = splat<T>(s1T * c0 + s1 * c0T);
      const w2 = splat<T>(s2 * c0), w2T = splat<T>(s2T * c0 + s2 * c0T);
      const cEnd = (hh + 1) * hd;
      for (let c = hh * hd; c < cEnd; c += L) {
        const fs = values ? ld<T>(filt, fo + c) : one, fsT = values ? ld<T>(filtT, fo + c) : zero;
        const vs1 = ld<T>(qkv, bq + H2 + c), vs1T = ld<T>(qkvT, bq + H2 + c);
        const vs2 = ld<T>(qkv, aq + H2 + c), vs2T = ld<T>(qkvT, aq + H2 + c);
        addTo<T>(dx, da + c, mul3<T>(vs1, fs, w1));
        addTo<T>(dxT, da + c, add<T>(add<T>(mul3<T>(vs1T, fs, w1), mul3<T>(vs1, fsT, w1)), mul3<T>(vs1, fs, w1T)));
        addTo<T>(dx, db + c, mul3<T>(vs2, fs, w2));
        addTo<T>(dxT, db + c, add<T>(add<T>(mul3<T>(vs2T, fs, w2), mul3<T>(vs2, fsT, w2)), mul3<T>(vs2, fs, w2T)));
      }
    }
    const ux = splat<T>(ldf(u, 3 * p)), uy = splat<T>(ldf(u, 3 * p + 1)), uz = splat<T>(ldf(u, 3 * p + 2));
    const uxT = splat<T>(ldf(uT, 3 * p)), uyT = splat<T>(ldf(uT, 3 * p + 1)), uzT = splat<T>(ldf(uT, 3 * p + 2));
    const ax = 3 * a * H, bx = 3 * b * H;
    for (let c = 0; c < H; c += L) {
      const fm = values ? ld<T>(filt, fo + H + c) : one, fmT = values ? ld<T>(filtT, fo + H + c) : zero;
      const fd = values ? ld<T>(filt, fo + H2 + c) : one, fdT = values ? ld<T>(filtT, fo + H2 + c) : zero;
      const vD1 = ld<T>(qkv, bq + H4 + c), vD1T = ld<T>(qkvT, bq + H4 + c);
      const vD2 = ld<T>(qkv, aq + H4 + c), vD2T = ld<T>(qkvT, aq + H4 + c);
      const m21 = mul<T>(vD1, fd), m21T = add<T>(mul<T>(vD1T, fd), mul<T>(vD1, fdT));
      const m22 = mul<T>(vD2, fd), m22T = add<T>(mul<T>(vD2T, fd), mul<T>(vD2, fdT));
      let ax0 = mul<T>(m21, ux), ay0 = mul<T>(m21, uy), az0 = mul<T>(m21, uz);
      let ax0T = add<T>(mul<T>(m21T, ux), mul<T>(m21, uxT));
      let ay0T = add<T>(mul<T>(m21T, uy), mul<T>(m21, uyT));
      let az0T = add<T>(mul<T>(m21T, uz), mul<T>(m21, uzT));
      let bx0 = v128.neg<T>(mul<T>(m22, ux)), by0 = v128.neg<T>(mul<T>(m22, uy)), bz0 = v128.neg<T>(mul<T>(m22, uz));
      let bx0T = v128.neg<T>(add<T>(mul<T>(m22T, ux), mul<T>(m22, uxT)));
      let by0T = v128.neg<T>(add<T>(mul<T>(m22T, uy), mul<T>(m22, uyT)));
      let bz0T = v128.neg<T>(add<T>(mul<T>(m22T, uz), mul<T>(m22, uzT)));
      if (hasVec) {
        const vM1 = ld<T>(qkv, bq + H3 + c), vM1T = ld<T>(qkvT, bq + H3 + c);
        const vM2 = ld<T>(qkv, aq + H3 + c), vM2T = ld<T>(qkvT, aq + H3 + c);
        const m11 = mul<T>(vM1, fm), m11T = add<T>(mul<T>(vM1T, fm), mul<T>(vM1, fmT));
        const m12 = mul<T>(vM2, fm), m12T = add<T>(mul<T>(vM2T, fm), mul<T>(vM2, fmT));
        const vbx = ld<T>(vec, bx + c), vby = ld<T>(vec, bx + H + c), vbz = ld<T>(vec, bx + H2 + c);
        const vax = ld<T>(vec, ax + c), vay = ld<T>(vec, ax + H + c), vaz = ld<T>(vec, ax + H2 + c);
        ax0 = add<T>(ax0, mul<T>(vbx, m11));
        ay0 = add<T>(ay0, mul<T>(vby, m11));
        az0 = add<T>(az0, mul<T>(vbz, m11));
        ax0T = add<T>(ax0T, add<T>(mul<T>(ld<T>(vecT, bx + c), m11), mul<T>(vbx, m11T)));
        ay0T = add<T>(ay0T, add<T>(mul<T>(ld<T>(vecT, bx + H + c), m11), mul<T>(vby, m11T)));
        az0T = add<T>(az0T, add<T>(mul<T>(ld<T>(vecT, bx + H2 + c), m11), mul<T>(vbz, m11T)));
        bx0 = add<T>(bx0, mul<T>(vax, m12));
        by0 = add<T>(by0, mul<T>(vay, m12));
        bz0 = add<T>(bz0, mul<T>(vaz, m12));
        bx0T = add<T>(bx0T, add<T>(mul<T>(ld<T>(vecT, ax + c), m12), mul<T>(vax, m12T)));
        by0T = add<T>(by0T, add<T>(mul<T>(ld<T>(vecT, ax + H + c), m12), mul<T>(vay, m12T)));
        bz0T = add<T>(bz0T, add<T>(mul<T>(ld<T>(vecT, ax + H2 + c), m12), mul<T>(vaz, m12T)));
      }
      addTo<T>(vn, ax + c, ax0); addTo<T>(vn, ax + H + c, ay0); addTo<T>(vn, ax + H2 + c, az0);
      addTo<T>(vnT, ax + c, ax0T); addTo<T>(vnT, ax + H + c, ay0T); addTo<T>(vnT, ax + H2 + c, az0T);
      addTo<T>(vn, bx + c, bx0); addTo<T>(vn, bx + H + c, by0); addTo<T>(vn, bx + H2 + c, bz0);
      addTo<T>(vnT, bx + c, bx0T); addTo<T>(vnT, bx + H + c, by0T); addTo<T>(vnT, bx + H2 + c, bz0T);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Per-atom row loops of a layer, dual: twins of the vdot, residual and residual-backward loops of
// training-gradient.ts (the dual forms of vectorDot / residualUpdate / residualBackward in et.ts).

/** vdot = Σ_xyz vec1·vec2 from vp [N, 3, 3H], with its tangent; written, not added. */
function vectorDotDual<T>(N: i32, H: i32, vp: usize, vpT: usize, vdot: usize, vdotT: usize): void {
  const L = lanes<T>(), H3 = 3 * H;
  for (let n = 0; n < N; n++) {
    const r0 = 3 * n * H3;
    for (let h = 0; h < H; h += L) {
      let s = splat<T>(0), sT = s;
      for (let c = 0; c < 3; c++) {
        const r = r0 + c * H3 + h;
        const v1 = ld<T>(vp, r), v2 = ld<T>(vp, r + H);
        s = add<T>(s, mul<T>(v1, v2));
        sT = add<T>(sT, add<T>(mul<T>(ld<T>(vpT, r), v2), mul<T>(v1, ld<T>(vpT, r + H))));
      }
      st<T>(vdot, n * H + h, s);
      st<T>(vdotT, n * H + h, sT);
    }
  }
}

/** x += vdot·o2 + o3; vecNext += vec3·o1 (hasVec); with tangents. */
function residualDual<T>(N: i32, H: i32, hasVec: i32, o: usize, oT: usize, vdot: usize, vdotT: usize, vp: usize, vpT: usize,
  x: usize, xT: usize, vn: usize, vnT: usize): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H;
  for (let n = 0; n < N; n++) {
    const xo = n * H, oo = n * H3;
    for (let h = 0; h < H; h += L) {
      const d = ld<T>(vdot, xo + h), o2 = ld<T>(o, oo + H + h);
      addTo<T>(x, xo + h, add<T>(mul<T>(d, o2), ld<T>(o, oo + H2 + h)));
      addTo<T>(xT, xo + h, add<T>(add<T>(mul<T>(ld<T>(vdotT, xo + h), o2), mul<T>(d, ld<T>(oT, oo + H + h))), ld<T>(oT, oo + H2 + h)));
    }
    if (hasVec) {
      for (let c = 0; c < 3; c++) {
        const row = (3 * n + c) * H, prow = (3 * n + c) * H3 + H2;
        for (let h = 0; h < H; h += L) {
          const v3 = ld<T>(vp, prow + h), o1 = ld<T>(o, oo + h);
          addTo<T>(vn, row + h, mul<T>(v3, o1));
          addTo<T>(vnT, row + h, add<T>(mul<T>(ld<T>(vpT, prow + h), o1), mul<T>(v3, ld<T>(oT, oo + h))));
        }
      }
    }
  }
}

/**
 * Back through the residual updates, dual: go = [Σ_xyz gvec·vec3, gx·vdot, gx] and, with vectors,
 * gvp = [gd·vec2, gd·vec1, gvec·o1] (gd = gx·o2). Every element of go (and of gvp with vectors)
 * is written.
 */
function residualBackwardDual<T>(N: i32, H: i32, hasVec: i32, gx: usize, gxT: usize, gvec: usize, gvecT: usize,
  vp: usize, vpT: usize, vdot: usize, vdotT: usize, o: usize, oT: usize, go: usize, goT: usize, gvp: usize, gvpT: usize): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H;
  for (let n = 0; n < N; n++) {
    const oo = n * H3, xo = n * H;
    for (let h = 0; h < H; h += L) {
      const g = ld<T>(gx, xo + h), gT = ld<T>(gxT, xo + h);
      let g1 = splat<T>(0), g1T = g1;
      if (hasVec) {
        const o2 = ld<T>(o, oo + H + h), o2T = ld<T>(oT, oo + H + h);
        const o1 = ld<T>(o, oo + h), o1T = ld<T>(oT, oo + h);
        const gd = mul<T>(g, o2), gdT = add<T>(mul<T>(gT, o2), mul<T>(g, o2T));
        for (let c = 0; c < 3; c++) {
          const row = (3 * n + c) * H3 + h, vrow = (3 * n + c) * H + h;
          const gv = ld<T>(gvec, vrow), gvT = ld<T>(gvecT, vrow);
          const v1 = ld<T>(vp, row), v1T = ld<T>(vpT, row);
          const v2 = ld<T>(vp, row + H), v2T = ld<T>(vpT, row + H);
          const v3 = ld<T>(vp, row + H2), v3T = ld<T>(vpT, row + H2);
          g1 = add<T>(g1, mul<T>(gv, v3));
          g1T = add<T>(g1T, add<T>(mul<T>(gvT, v3), mul<T>(gv, v3T)));
          st<T>(gvp, row, mul<T>(gd, v2));
          st<T>(gvpT, row, add<T>(mul<T>(gdT, v2), mul<T>(gd, v2T)));
          st<T>(gvp, row + H, mul<T>(gd, v1));
          st<T>(gvpT, row + H, add<T>(mul<T>(gdT, v1), mul<T>(gd, v1T)));
          st<T>(gvp, row + H2, mul<T>(gv, o1));
          st<T>(gvpT, row + H2, add<T>(mul<T>(gvT, o1), mul<T>(gv, o1T)));
        }
      }
      const d = ld<T>(vdot, xo + h);
      st<T>(go, oo + h, g1);
      st<T>(goT, oo + h, g1T);
      st<T>(go, oo + H + h, mul<T>(g, d));
      st<T>(goT, oo + H + h, add<T>(mul<T>(gT, d), mul<T>(g, ld<T>(vdotT, xo + h))));
      st<T>(go, oo + H2 + h, g);
      st<T>(goT, oo + H2 + h, gT);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Self-loops (edge i → i: r = 0, so C = 1, d = 0, and filters f(0) that have no tangent), forward
// and reverse: the twins of `logit`/`message` with self = true and of `selfLoop`. Edge of atom n:
// 2P + n, so s / sT / sd / sdT point at the self-loops' first edge. dk0, dv0: the constant
// filters (dk; s | m1 | m2), fdk0, fdv0: their silu′; gAk, gAv: where the tangents of their
// pre-activation adjoints are summed over atoms.

function selfLogitsDual<T>(N: i32, H: i32, heads: i32, keys: i32, qkv: usize, qkvT: usize, dk0: usize, s: usize, sT: usize): void {
  const L = lanes<T>(), H5 = 5 * H, hd = H / heads;
  const one = splat<T>(1);
  for (let n = 0; n < N; n++) {
    const q0 = n * H5;
    for (let hh = 0; hh < heads; hh++) {
      let acc = splat<T>(0), accT = acc;
      for (let c = hh * hd; c < (hh + 1) * hd; c += L) {
        const dk = keys ? ld<T>(dk0, c) : one;
        const q = ld<T>(qkv, q0 + c), qt = ld<T>(qkvT, q0 + c), kk = ld<T>(qkv, q0 + H + c), kt = ld<T>(qkvT, q0 + H + c);
        acc = add<T>(acc, mul3<T>(q, kk, dk));
        accT = add<T>(accT, mul<T>(add<T>(mul<T>(qt, kk), mul<T>(q, kt)), dk));
      }
      store<T>(at<T>(s, n * heads + hh), <T>hsum<T>(acc));
      store<T>(at<T>(sT, n * heads + hh), <T>hsum<T>(accT));
    }
  }
}

function selfMessagesDual<T>(N: i32, H: i32, heads: i32, values: i32, hasVec: i32, qkv: usize, qkvT: usize, vec: usize, vecT: usize,
  s: usize, sT: usize, dv0: usize, dx: usize, dxT: usize, vn: usize, vnT: usize): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H, H5 = 5 * H, hd = H / heads;
  const one = splat<T>(1);
  for (let n = 0; n < N; n++) {
    const q0 = n * H5, x0 = n * H, v0 = 3 * n * H;
    for (let hh = 0; hh < heads; hh++) {
      const w = splat<T>(ldT<T>(s, n * heads + hh)), wT = splat<T>(ldT<T>(sT, n * heads + hh));
      for (let c = hh * hd; c < (hh + 1) * hd; c += L) {
        const fs = values ? ld<T>(dv0, c) : one;
        const vs = ld<T>(qkv, q0 + H2 + c), vsT = ld<T>(qkvT, q0 + H2 + c);
        addTo<T>(dx, x0 + c, mul3<T>(vs, fs, w));
        addTo<T>(dxT, x0 + c, mul<T>(add<T>(mul<T>(vsT, w), mul<T>(vs, wT)), fs));
      }
    }
    if (!hasVec) continue; // the d·m2 term meets d = 0
    for (let c = 0; c < H; c += L) {
      const fm = values ? ld<T>(dv0, H + c) : one;
      const m1 = mul<T>(ld<T>(qkv, q0 + H3 + c), fm), m1T = mul<T>(ld<T>(qkvT, q0 + H3 + c), fm);
      for (let q = 0; q < 3; q++) {
        const i = v0 + q * H + c;
        const vj = ld<T>(vec, i);
        addTo<T>(vn, i, mul<T>(vj, m1));
        addTo<T>(vnT, i, add<T>(mul<T>(ld<T>(vecT, i), m1), mul<T>(vj, m1T)));
      }
    }
  }
}

function selfBackwardDual<T>(N: i32, H: i32, heads: i32, keys: i32, values: i32, hasVec: i32,
  qkv: usize, qkvT: usize, vec: usize, vecT: usize, gvec: usize, gvecT: usize, gdx: usize, gdxT: usize,
  s: usize, sT: usize, sd: usize, sdT: usize, dk0: usize, dv0: usize, fdk0: usize, fdv0: usize,
  gqkv: usize, gqkvT: usize, gvi: usize, gviT: usize, gAk: usize, gAv: usize): void {
  const L = lanes<T>(), H2 = 2 * H, H3 = 3 * H, H5 = 5 * H, hd = H / heads;
  const one = splat<T>(1);
  for (let n = 0; n < N; n++) {
    const q0 = n * H5, x0 = n * H, v0 = 3 * n * H;
    if (hasVec) {
      for (let c = 0; c < H; c += L) {
        const fm = values ? ld<T>(dv0, H + c) : one;
        const jM = q0 + H3 + c;
        const vM = ld<T>(qkv, jM), vMT = ld<T>(qkvT, jM);
        let gm1 = splat<T>(0), gm1T = gm1;
        for (let q = 0; q < 3; q++) {
          const i = v0 + q * H + c;
          const g = ld<T>(gvec, i), gT = ld<T>(gvecT, i), vj = ld<T>(vec, i), vjT = ld<T>(vecT, i);
          gm1 = add<T>(gm1, mul<T>(g, vj));
          gm1T = add<T>(gm1T, add<T>(mul<T>(gT, vj), mul<T>(g, vjT)));
          addTo<T>(gvi, i, mul3<T>(g, vM, fm));
          addTo<T>(gviT, i, mul<T>(add<T>(mul<T>(gT, vM), mul<T>(g, vMT)), fm));
        }
        addTo<T>(gqkv, jM, mul<T>(gm1, fm));
        addTo<T>(gqkvT, jM, mul<T>(gm1T, fm));
        if (values) addTo<T>(gAv, H + c, mul<T>(add<T>(mul<T>(gm1T, vM), mul<T>(gm1, vMT)), ld<T>(fdv0, H + c)));
      }
    }
    for (let hh = 0; hh < heads; hh++) {
      const sv = ldT<T>(s, n * heads + hh), svT = ldT<T>(sT, n * heads + hh);
      const w = splat<T>(sv), wT = splat<T>(svT);
      let gw1 = splat<T>(0), gw1T = gw1;
      const cEnd = (hh + 1) * hd;
      for (let c = hh * hd; c < cEnd; c += L) {
        const fs = values ? ld<T>(dv0, c) : one;
        const jS = q0 + H2 + c;
        const vs = ld<T>(qkv, jS), vsT = ld<T>(qkvT, jS);
        const g = ld<T>(gdx, x0 + c), gT = ld<T>(gdxT, x0 + c);
        addTo<T>(gqkv, jS, mul3<T>(g, fs, w));
        addTo<T>(gqkvT, jS, mul<T>(add<T>(mul<T>(gT, w), mul<T>(g, wT)), fs));
        gw1 = add<T>(gw1, mul3<T>(g, vs, fs));
        gw1T = add<T>(gw1T, mul<T>(add<T>(mul<T>(gT, vs), mul<T>(g, vsT)), fs));
        if (values) {
          const t = add<T>(add<T>(mul3<T>(gT, vs, w), mul3<T>(g, vsT, w)), mul3<T>(g, vs, wT));
          addTo<T>(gAv, c, mul<T>(t, ld<T>(fdv0, c)));
        }
      }
      const g1 = hsum<T>(gw1), g1T = hsum<T>(gw1T);
      const d1 = ldT<T>(sd, n * heads + hh), d1T = ldT<T>(sdT, n * heads + hh);
      const gl = splat<T>(g1 * d1), glT = splat<T>(g1T * d1 + g1 * d1T);
      for (let c = hh * hd; c < cEnd; c += L) {
        const dk = keys ? ld<T>(dk0, c) : one;
        const iq = q0 + c, jk = q0 + H + c;
        const q = ld<T>(qkv, iq), qt = ld<T>(qkvT, iq), kk = ld<T>(qkv, jk), kt = ld<T>(qkvT, jk);
        addTo<T>(gqkv, iq, mul3<T>(gl, kk, dk));
        addTo<T>(gqkvT, iq, mul<T>(add<T>(mul<T>(glT, kk), mul<T>(gl, kt)), dk));
        addTo<T>(gqkv, jk, mul3<T>(gl, q, dk));
        addTo<T>(gqkvT, jk, mul<T>(add<T>(mul<T>(glT, q), mul<T>(gl, qt)), dk));
        if (keys) {
          const t = add<T>(mul3<T>(glT, q, kk), mul<T>(gl, add<T>(mul<T>(qt, kk), mul<T>(q, kt))));
          addTo<T>(gAk, c, mul<T>(t, ld<T>(fdk0, c)));
        }
      }
    }
  }
}

export function et_self_logits_dual_f32(N: i32, H: i32, heads: i32, keys: i32, qkv: usize, qkvT: usize, dk0: usize, s: usize, sT: usize): void {
  selfLogitsDual<f32>(N, H, heads, keys, qkv, qkvT, dk0, s, sT);
}
export function et_self_logits_dual_f64(N: i32, H: i32, heads: i32, keys: i32, qkv: usize, qkvT: usize, dk0: usize, s: usize, sT: usize): void {
  selfLogitsDual<f64>(N, H, heads, keys, qkv, qkvT, dk0, s, sT);
}
export function et_self_messages_dual_f32(N: i32, H: i32, heads: i32, values: i32, hasVec: i32, qkv: usize, qkvT: usize, vec: usize, vecT: usize,
  s: usize, sT: usize, dv0: usize, dx: usize, dxT: usize, vn: usize, vnT: usize): void {
  selfMessagesDual<f32>(N, H, heads, values, hasVec, qkv, qkvT, vec, vecT, s, sT, dv0, dx, dxT, vn, vnT);
}
export function et_self_messages_dual_f64(N: i32, H: i32, heads: i32, values: i32, hasVec: i32, qkv: usize, qkvT: usize, vec: usize, vecT: usize,
  s: usize, sT: usize, dv0: usize, dx: usize, dxT: usize, vn: usize, vnT: usize): void {
  selfMessagesDual<f64>(N, H, heads, values, hasVec, qkv, qkvT, vec, vecT, s, sT, dv0, dx, dxT, vn, vnT);
}
export function et_self_backward_dual_f32(N: i32, H: i32, heads: i32, keys: i32, values: i32, hasVec: i32,
  qkv: usize, qkvT: usize, vec: usize, vecT: usize, gvec: usize, gvecT: usize, gdx: usize, gdxT: usize,
  s: usize, sT: usize, sd: usize, sdT: usize, dk0: usize, dv0: usize, fdk0: usize, fdv0: usize,
  gqkv: usize, gqkvT: usize, gvi: usize, gviT: usize, gAk: usize, gAv: usize): void {
  selfBackwardDual<f32>(N, H, heads, keys, values, hasVec, qkv, qkvT, vec, vecT, gvec, gvecT, gdx, gdxT, s, sT, sd, sdT,
    dk0, dv0, fdk0, fdv0, gqkv, gqkvT, gvi, gviT, gAk, gAv);
}
export function et_self_backward_dual_f64(N: i32, H: i32, heads: i32, keys: i32, values: i32, hasVec: i32,
  qkv: usize, qkvT: usize, vec: usize, vecT: usize, gvec: usize, gvecT: usize, gdx: usize, gdxT: usize,
  s: usize, sT: usize, sd: usize, sdT: usize, dk0: usize, dv0: usize, fdk0: usize, fdv0: usize,
  gqkv: usize, gqkvT: usize, gvi: usize, gviT: usize, gAk: usize, gAv: usize): void {
  selfBackwardDual<f64>(N, H, heads, keys, values, hasVec, qkv, qkvT, vec, vecT, gvec, gvecT, gdx, gdxT, s, sT, sd, sdT,
    dk0, dv0, fdk0, fdv0, gqkv, gqkvT, gvi, gviT, gAk, gAv);
}

// ---------------------------------------------------------------------------------------------
// Neighbour embedding over the pairs, dual: the twins of its two pair loops in
// training-gradient.ts. W = nbPre·C (distance projection times cutoff) weighs the neighbour's
// embedding row: cat_a[H..2H) += emb(z_b)·W, cat_b[H..2H) += emb(z_a)·W; in reverse the tangent
// adjoint of the embedding table (pemb) and the adjoint of nbPre (gpre, written).

function neighborEmbedDual<T>(P: i32, H: i32, pa: usize, pb: usize, z: usize, C: usize, CT: usize,
  pre: usize, preT: usize, emb: usize, cat: usize, catT: usize): void {
  const L = lanes<T>(), H2 = 2 * H;
  for (let p = 0; p < P; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const c = splat<T>(ldf(C, p)), cT = splat<T>(ldf(CT, p));
    const o = p * H, ea = ldi(z, a) * H, eb = ldi(z, b) * H, ca = a * H2 + H, cb = b * H2 + H;
    for (let h = 0; h < H; h += L) {
      const pr = ld<T>(pre, o + h);
      const wv = mul<T>(pr, c), wT = add<T>(mul<T>(ld<T>(preT, o + h), c), mul<T>(pr, cT));
      const eA = ld<T>(emb, ea + h), eB = ld<T>(emb, eb + h);
      addTo<T>(cat, ca + h, mul<T>(eB, wv));
      addTo<T>(cat, cb + h, mul<T>(eA, wv));
      addTo<T>(catT, ca + h, mul<T>(eB, wT));
      addTo<T>(catT, cb + h, mul<T>(eA, wT));
    }
  }
}

function neighborEmbedBackwardDual<T>(P: i32, H: i32, pa: usize, pb: usize, z: usize, C: usize, CT: usize,
  pre: usize, preT: usize, emb: usize, gcat: usize, gcatT: usize, pemb: usize, gpre: usize, gpreT: usize): void {
  const L = lanes<T>(), H2 = 2 * H;
  for (let p = 0; p < P; p++) {
    const a = ldi(pa, p), b = ldi(pb, p);
    const c = splat<T>(ldf(C, p)), cT = splat<T>(ldf(CT, p));
    const o = p * H, ea = ldi(z, a) * H, eb = ldi(z, b) * H, ca = a * H2 + H, cb = b * H2 + H;
    for (let h = 0; h < H; h += L) {
      const pr = ld<T>(pre, o + h);
      const wv = mul<T>(pr, c), wT = add<T>(mul<T>(ld<T>(preT, o + h), c), mul<T>(pr, cT));
      const ga = ld<T>(gcat, ca + h), gaT = ld<T>(gcatT, ca + h), gb = ld<T>(gcat, cb + h), gbT = ld<T>(gcatT, cb + h);
      const eA = ld<T>(emb, ea + h), eB = ld<T>(emb, eb + h);
      addTo<T>(pemb, eb + h, add<T>(mul<T>(gaT, wv), mul<T>(ga, wT)));
      addTo<T>(pemb, ea + h, add<T>(mul<T>(gbT, wv), mul<T>(gb, wT)));
      const gW = add<T>(mul<T>(ga, eB), mul<T>(gb, eA)), gWT = add<T>(mul<T>(gaT, eB), mul<T>(gbT, eA));
      st<T>(gpre, o + h, mul<T>(gW, c));
      st<T>(gpreT, o + h, add<T>(mul<T>(gWT, c), mul<T>(gW, cT)));
    }
  }
}

export function et_neighbor_embed_dual_f32(P: i32, H: i32, pa: usize, pb: usize, z: usize, C: usize, CT: usize, pre: usize, preT: usize, emb: usize, cat: usize, catT: usize): void {
  neighborEmbedDual<f32>(P, H, pa, pb, z, C, CT, pre, preT, emb, cat, catT);
}
export function et_neighbor_embed_dual_f64(P: i32, H: i32, pa: usize, pb: usize, z: usize, C: usize, CT: usize, pre: usize, preT: usize, emb: usize, cat: usize, catT: usize): void {
  neighborEmbedDual<f64>(P, H, pa, pb, z, C, CT, pre, preT, emb, cat, catT);
}
export function et_neighbor_embed_backward_dual_f32(P: i32, H: i32, pa: usize, pb: usize, z: usize, C: usize, CT: usize,
  pre: usize, preT: usize, emb: usize, gcat: usize, gcatT: usize, pemb: usize, gpre: usize, gpreT: usize): void {
  neighborEmbedBackwardDual<f32>(P, H, pa, pb, z, C, CT, pre, preT, emb, gcat, gcatT, pemb, gpre, gpreT);
}
export function et_neighbor_embed_backward_dual_f64(P: i32, H: i32, pa: usize, pb: usize, z: usize, C: usize, CT: usize,
  pre: usize, preT: usize, emb: usize, gcat: usize, gcatT: usize, pemb: usize, gpre: usize, gpreT: usize): void {
  neighborEmbedBackwardDual<f64>(P, H, pa, pb, z, C, CT, pre, preT, emb, gcat, gcatT, pemb, gpre, gpreT);
}

export function et_pair_logits_dual_f32(p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, keys: i32,
  pa: usize, pb: usize, qkv: usize, qkvT: usize, filt: usize, filtT: usize, s: usize, sT: usize): void {
  pairLogitsDual<f32>(p0, p1, H, heads, perLayer, keys, pa, pb, qkv, qkvT, filt, filtT, s, sT);
}
export function et_pair_logits_dual_f64(p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, keys: i32,
  pa: usize, pb: usize, qkv: usize, qkvT: usize, filt: usize, filtT: usize, s: usize, sT: usize): void {
  pairLogitsDual<f64>(p0, p1, H, heads, perLayer, keys, pa, pb, qkv, qkvT, filt, filtT, s, sT);
}
export function et_pair_messages_dual_f32(p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, dvLocal: i32, values: i32, hasVec: i32,
  pa: usize, pb: usize, u: usize, uT: usize, C: usize, CT: usize, qkv: usize, qkvT: usize, vec: usize, vecT: usize,
  s: usize, sT: usize, filt: usize, filtT: usize, dx: usize, dxT: usize, vn: usize, vnT: usize): void {
  pairMessagesDual<f32>(p0, p1, H, heads, perLayer, dvLocal, values, hasVec, pa, pb, u, uT, C, CT, qkv, qkvT, vec, vecT, s, sT, filt, filtT, dx, dxT, vn, vnT);
}
export function et_pair_messages_dual_f64(p0: i32, p1: i32, H: i32, heads: i32, perLayer: i32, dvLocal: i32, values: i32, hasVec: i32,
  pa: usize, pb: usize, u: usize, uT: usize, C: usize, CT: usize, qkv: usize, qkvT: usize, vec: usize, vecT: usize,
  s: usize, sT: usize, filt: usize, filtT: usize, dx: usize, dxT: usize, vn: usize, vnT: usize): void {
  pairMessagesDual<f64>(p0, p1, H, heads, perLayer, dvLocal, values, hasVec, pa, pb, u, uT, C, CT, qkv, qkvT, vec, vecT, s, sT, filt, filtT, dx, dxT, vn, vnT);
}
export function et_vector_dot_dual_f32(N: i32, H: i32, vp: usize, vpT: usize, vdot: usize, vdotT: usize): void { vectorDotDual<f32>(N, H, vp, vpT, vdot, vdotT); }
export function et_vector_dot_dual_f64(N: i32, H: i32, vp: usize, vpT: usize, vdot: usize, vdotT: usize): void { vectorDotDual<f64>(N, H, vp, vpT, vdot, vdotT); }
export function et_residual_dual_f32(N: i32, H: i32, hasVec: i32, o: usize, oT: usize, vdot: usize, vdotT: usize, vp: usize, vpT: usize, x: usize, xT: usize, vn: usize, vnT: usize): void {
  residualDual<f32>(N, H, hasVec, o, oT, vdot, vdotT, vp, vpT, x, xT, vn, vnT);
}
export function et_residual_dual_f64(N: i32, H: i32, hasVec: i32, o: usize, oT: usize, vdot: usize, vdotT: usize, vp: usize, vpT: usize, x: usize, xT: usize, vn: usize, vnT: usize): void {
  residualDual<f64>(N, H, hasVec, o, oT, vdot, vdotT, vp, vpT, x, xT, vn, vnT);
}
export function et_residual_backward_dual_f32(N: i32, H: i32, hasVec: i32, gx: usize, gxT: usize, gvec: usize, gvecT: usize,
  vp: usize, vpT: usize, vdot: usize, vdotT: usize, o: usize, oT: usize, go: usize, goT: usize, gvp: usize, gvpT: usize): void {
  residualBackwardDual<f32>(N, H, hasVec, gx, gxT, gvec, gvecT, vp, vpT, vdot, vdotT, o, oT, go, goT, gvp, gvpT);
}
export function et_residual_backward_dual_f64(N: i32, H: i32, hasVec: i32, gx: usize, gxT: usize, gvec: usize, gvecT: usize,
  vp: usize, vpT: usize, vdot: usize, vdotT: usize, o: usize, oT: usize, go: usize, goT: usize, gvp: usize, gvpT: usize): void {
  residualBackwardDual<f64>(N, H, hasVec, gx, gxT, gvec, gvecT, vp, vpT, vdot, vdotT, o, oT, go, goT, gvp, gvpT);
}
