//! The frame: the one argument of a compiled kernel, an array of 64-bit slots that the
//! driver fills with pointers and counters and the kernel reads (and partly writes back).

/// Number of whole chunks to run.
pub const N_CHUNKS: usize = 0;
/// Rows of each chunk that exist (all ones but for the tail chunk): errors and the
/// selection ignore the others.
pub const LIVE: usize = 1;
/// Index of the first chunk in the batch (for error rows and the selection bitmap).
pub const CHUNK_BASE: usize = 2;
/// Rows written to the outputs so far (read and written back).
pub const COUNT: usize = 3;
/// Written on failure: the kind (1 divide by zero, 2 overflow, 3 negative sqrt), node, row.
pub const ERR_KIND: usize = 4;
pub const ERR_NODE: usize = 5;
pub const ERR_ROW: usize = 6;
/// The selection bitmap (kernels with a filter).
pub const SELECTION: usize = 7;
/// The slots of an aggregating kernel's state (see [`crate::aggregate`]).
pub const STATE: usize = 8;
/// Input `i`: values at `IO + 2i`, validity at `IO + 2i + 1`; then output
/// `j`: values at `IO + 2 * inputs + 2j`, validity next to it.
pub const IO: usize = 9;

pub const KIND_DIVIDE_BY_ZERO: i64 = 1;
pub const KIND_OVERFLOW: i64 = 2;
pub const KIND_NEGATIVE_SQRT: i64 = 3;

/// The frame's length for a kernel's inputs and outputs.
pub fn frame_len(inputs: usize, outputs: usize) -> usize {
    IO + 2 * (inputs + outputs)
}

/// Most chunks one call runs: the length of [`ALL_VALID`] in words.
pub const MAX_CALL_CHUNKS: usize = 1024;

/// Validity words of all ones, passed for inputs without a validity bitmap: kernels load
/// every validity word the same way, with no test for a missing bitmap in the loop.
pub static ALL_VALID: [u64; MAX_CALL_CHUNKS] = [u64::MAX; MAX_CALL_CHUNKS];
