// SIMD helpers shared by the edge kernels: loads, stores and arithmetic on v128 by element index
// (T = f32 for f32x4, f64 for f64x2), addressed as byte base + element index.

@inline export function at<T>(base: usize, i: i32): usize {
  return base + <usize>i * sizeof<T>();
}

@inline export function ld<T>(base: usize, i: i32): v128 {
  return v128.load(at<T>(base, i));
}

@inline export function st<T>(base: usize, i: i32, v: v128): void {
  v128.store(at<T>(base, i), v);
}

/** base[i..] += v */
@inline export function addTo<T>(base: usize, i: i32, v: v128): void {
  const p = at<T>(base, i);
  v128.store(p, v128.add<T>(v128.load(p), v));
}

@inline export function mul<T>(a: v128, b: v128): v128 {
  return v128.mul<T>(a, b);
}

@inline export function add<T>(a: v128, b: v128): v128 {
  return v128.add<T>(a, b);
}

@inline export function sub<T>(a: v128, b: v128): v128 {
  return v128.sub<T>(a, b);
}

@inline export function splat<T>(x: f64): v128 {
  return v128.splat<T>(<T>x);
}

@inline export function hsum<T>(v: v128): f64 {
  if (sizeof<T>() == 4) {
    return <f64>(f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3)));
  }
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

@inline export function lanes<T>(): i32 {
  return 16 / <i32>sizeof<T>();
}

@inline export function ldi(base: usize, i: i32): i32 {
  return load<i32>(base + (<usize>i << 2));
}

@inline export function ldf(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}

