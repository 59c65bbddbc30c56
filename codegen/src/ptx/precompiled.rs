//! PTX that is not generated from the IR: helpers written in CUDA C (`codegen/cuda/*.cu`),
//! compiled to PTX by NVRTC with `codegen/cuda/regenerate.py` and committed, so building
//! corepy needs no CUDA. `tests/python/test_precompiled_ptx.py` checks that regenerating
//! gives the committed text; the Rust tests assemble each module with ptxas.

/// `corepy_tile_offsets(counts: *const u32, offsets: *mut u64, tiles: u64, total: *mut
/// u64)`: the exclusive prefix sums of a filter's per-tile counts, and their total; one
/// block of [`TILE_OFFSETS_THREADS`] threads.
pub const TILE_OFFSETS_PTX: &str = include_str!("../../cuda/tile_offsets.ptx");
pub const TILE_OFFSETS_ENTRY: &str = "corepy_tile_offsets";
pub const TILE_OFFSETS_PARAMS: usize = 4;
pub const TILE_OFFSETS_THREADS: u32 = 1024;
