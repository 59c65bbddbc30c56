//! The PTX renderer: the kernel IR as PTX text for NVIDIA GPUs (`.version 8.0`,
//! `.target sm_80`), read from the same IR as the Cranelift renderer and checked against
//! the same interpreter.
//!
//! Rendering needs no GPU: EXPLAIN shows the text on any machine, CI assembles every
//! generated module with `ptxas` and runs it on the emulator in `emulator` (tests), and
//! `engine` loads it through the CUDA driver where there is one.
//!
//! What is rendered today: row kernels (fused SQL stages) over every scalar type but
//! decimals, with NULLs, guards, failures and selections (compacted in row order); tensor
//! kernels, elementwise and reductions over any axes (block → grid), exp and tanh with the
//! CPU's bits. Not yet: decimals, ln, sin, cos, pow, float // and % — [`render`] says
//! which, and the stage stays on the CPU.

mod decimal;
mod math;
mod node;
pub mod precompiled;
mod rows;
mod tensor;
pub mod text;
mod tiles;

pub mod emulator;
pub mod ptxas;
#[cfg(test)]
mod tests;

use crate::ir::Kernel;
pub use rows::failure_code;
pub use tensor::slices;
pub use text::{BLOCK, TARGET, VERSION};

/// Bits of the failure word that hold the failing node's index.
pub const FAILURE_NODE_BITS: u32 = 20;

/// A parameter of an entry; every one is a `.u64` (a device pointer or the row count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    InputValues(usize),
    /// The input's validity bitmap, or 0 when no element is NULL.
    InputValidity(usize),
    /// Values for the padded rows (bit-packed booleans zeroed).
    OutputValues(usize),
    /// A zeroed validity bitmap for the padded rows.
    OutputValidity(usize),
    /// A zeroed bitmap that gets the kept rows' bits.
    Selection,
    /// One zeroed u32 a tile: the first pass of a filter counts kept rows into them.
    TileCounts,
    /// One u64 a tile: the exclusive prefix sums of the counts.
    TileOffsets,
    Rows,
    /// A tensor input: the device address of its element at domain index zero.
    TensorInput(usize),
    /// A dense tensor output.
    TensorOutput(usize),
    /// One u64 per (output element, slice) of reduction `j`: the slices' partial values.
    Partials(usize),
    /// The partials' positions, for an arg-reduction.
    PartialPositions(usize),
    /// A u64 set to `u64::MAX`; the first failing row lowers it (see [`decode_failure`]).
    Failure,
}

impl Param {
    pub fn name(&self) -> String {
        match self {
            Param::InputValues(i) => format!("in{i}"),
            Param::InputValidity(i) => format!("in{i}_valid"),
            Param::OutputValues(o) => format!("out{o}"),
            Param::OutputValidity(o) => format!("out{o}_valid"),
            Param::Selection => "selection".into(),
            Param::TileCounts => "tile_counts".into(),
            Param::TileOffsets => "tile_offsets".into(),
            Param::Rows => "rows".into(),
            Param::TensorInput(i) => format!("in{i}"),
            Param::TensorOutput(o) => format!("out{o}"),
            Param::Partials(j) => format!("partials{j}"),
            Param::PartialPositions(j) => format!("positions{j}"),
            Param::Failure => "failure".into(),
        }
    }
}

/// The name and parameter list of one entry, which the launch code follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySignature {
    pub name: String,
    pub params: Vec<Param>,
}

/// One PTX module: its text and its entries, in the order they run.
#[derive(Debug, Clone)]
pub struct PtxModule {
    pub text: String,
    pub entries: Vec<EntrySignature>,
}

impl PtxModule {
    /// Whether the module filters (a count pass, then a write pass).
    pub fn filters(&self) -> bool {
        self.entries.len() == 2
    }
}

/// Renders a kernel as one module named after `name`. A row kernel is entry `name`, and
/// for a filter first `name_count`; a tensor reduction is `name` then `name_finish`. An
/// error names what is not rendered yet.
pub fn render(kernel: &Kernel, name: &str) -> Result<PtxModule, String> {
    kernel.validate()?;
    if !kernel.domain.is_rows() {
        return tensor::render_tensor(kernel, name);
    }
    if !kernel.aggregates.is_empty() {
        return Err("aggregates are not rendered to PTX yet".into());
    }
    if kernel.nodes.len() >= 1 << FAILURE_NODE_BITS {
        return Err(format!(
            "{} nodes are too many for one PTX kernel",
            kernel.nodes.len()
        ));
    }
    let passes: &[(rows::Pass, String)] = &if kernel.selection.is_some() {
        vec![
            (rows::Pass::Count, format!("{name}_count")),
            (rows::Pass::Write, name.to_string()),
        ]
    } else {
        vec![(rows::Pass::All, name.to_string())]
    };
    let mut text = text::header();
    let mut entries = Vec::new();
    for (pass, entry_name) in passes {
        let (entry, signature) = rows::render_entry(kernel, entry_name, *pass)?;
        text.push_str(&entry);
        text.push('\n');
        entries.push(signature);
    }
    Ok(PtxModule { text, entries })
}

/// An entry's text and its signature: `.u64` parameters named after `params`.
fn signed_entry(
    name: &str,
    params: Vec<Param>,
    shared_words: u32,
    code: &text::Code,
) -> (String, EntrySignature) {
    let names: Vec<String> = params.iter().map(Param::name).collect();
    let text = text::entry(name, &names, shared_words, code);
    let signature = EntrySignature {
        name: name.to_string(),
        params,
    };
    (text, signature)
}

/// A stable entry name for `kernel`: `corepy_` and a hash of its IR (FNV-1a over the IR's
/// debug form, so the name is the same in every process and build).
pub fn entry_name(kernel: &Kernel) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{kernel:?}").bytes() {
        hash ^= byte as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("corepy_{hash:016x}")
}

/// The failing row, node and kind a failure word holds (`None`: no failure).
pub fn decode_failure(word: u64) -> Option<crate::abi::Failure> {
    if word == u64::MAX {
        return None;
    }
    let kind = match word & 0xF {
        1 => crate::abi::FailureKind::DivideByZero,
        2 => crate::abi::FailureKind::Overflow,
        _ => crate::abi::FailureKind::NegativeSqrt,
    };
    Some(crate::abi::Failure {
        kind,
        node: crate::ir::ValueId(((word >> 4) & ((1 << FAILURE_NODE_BITS) - 1)) as u32),
        row: (word >> (FAILURE_NODE_BITS + 4)) as usize,
    })
}
