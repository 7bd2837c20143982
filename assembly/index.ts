// Entry point of the WASM kernels module: everything exported here becomes a WASM export.
export * from "./gemm";
export * from "./silu";
export * from "./et";
export * from "./et-train";
