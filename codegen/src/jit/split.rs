//! A filtering kernel runs as two passes over each group of chunks: the *selection pass*
//! computes the selection over every row, then the *output pass* computes the outputs over
//! the kept rows only.
//!
//! Why: in one pass, a kept row's loads of the other columns come one at a time between long
//! stretches of predicate work, so each pays the whole memory latency (at 1% selectivity this
//! was half the kernel's time). In a pass of their own, the kept rows' loads follow each other
//! closely and the processor overlaps their cache misses — what DataFusion gets from
//! evaluating the predicate for a whole batch before gathering. The group is small enough for
//! the output pass to find the predicate's columns still in cache.

use crate::ir::{Kernel, ScalarType, ValueId};

/// Chunks of 64 rows per group: the output pass of a group reads what its selection pass
/// read moments before (2,048 rows: 16 KiB per f64 column, in L1/L2).
pub const GROUP_CHUNKS: usize = 32;

/// The two passes of a filtering kernel.
#[derive(Debug)]
pub struct Split {
    /// The kernel without its outputs: it writes the selection bitmap only.
    pub select: Kernel,
    /// For each node of `select`, the node of the split kernel it computes.
    pub select_origin: Vec<ValueId>,
    /// The outputs, over the rows of one more (last) boolean input: the selection bitmap.
    /// Nodes the selection and the outputs share are computed again here, on kept rows only
    /// (they cannot fail there: the selection pass ran them on every row first).
    pub output: Kernel,
    pub output_origin: Vec<Option<ValueId>>,
}

/// Splits a filtering kernel with outputs; `None` for other kernels (one pass does it all).
pub fn split(kernel: &Kernel) -> Option<Split> {
    kernel.selection?;
    if kernel.outputs.is_empty() {
        return None;
    }
    let mut select = kernel.clone();
    select.outputs.clear();
    let (select, select_map) = select.pruned();
    let mut output = kernel.clone();
    let kept = output.input(ScalarType::Bool);
    output.selection = Some(kept);
    let (output, output_map) = output.pruned();
    let select_origin = inverse(&select_map, select.nodes.len())
        .into_iter()
        .map(|o| o.expect("every node of a pruned kernel comes from one"))
        .collect();
    let mut output_origin = inverse(&output_map, output.nodes.len());
    // The selection input is new: no node of the split kernel computes it.
    output_origin[output.selection.expect("set above").index()] = None;
    Some(Split {
        select,
        select_origin,
        output,
        output_origin,
    })
}

/// For each new node, the old node that `renumber` (old → new) maps to it.
fn inverse(renumber: &[Option<ValueId>], len: usize) -> Vec<Option<ValueId>> {
    let mut old = vec![None; len];
    for (index, new) in renumber.iter().enumerate() {
        if let Some(new) = new {
            old[new.index()] = Some(ValueId(index as u32));
        }
    }
    old
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinaryOp, Literal, Op};

    /// `SELECT a + b WHERE a < 0.5`, with `a + 1` shared by both sides.
    fn filtered() -> (Kernel, ValueId) {
        let mut k = Kernel::rows();
        let a = k.input(ScalarType::F64);
        let b = k.input(ScalarType::F64);
        let one = k.push(Op::Const(Literal::f64(1.0)), ScalarType::F64);
        let a1 = k.push(Op::Binary(BinaryOp::Add, a, one), ScalarType::F64);
        let half = k.push(Op::Const(Literal::f64(0.5)), ScalarType::F64);
        let keep = k.push(Op::Binary(BinaryOp::Lt, a1, half), ScalarType::Bool);
        let sum = k.push(Op::Binary(BinaryOp::Add, a1, b), ScalarType::F64);
        k.selection = Some(keep);
        k.outputs = vec![sum];
        (k, sum)
    }

    #[test]
    fn the_selection_pass_keeps_only_what_the_selection_needs() {
        let (k, _) = filtered();
        let s = split(&k).expect("a filtering kernel with outputs");
        assert!(s.select.outputs.is_empty());
        assert_eq!(s.select.nodes.len(), 5, "b and the sum are not needed");
        assert_eq!(s.select_origin[4], ValueId(5), "the comparison");
        s.select.validate().unwrap();
    }

    #[test]
    fn the_output_pass_reads_the_selection_and_recomputes_shared_nodes() {
        let (k, sum) = filtered();
        let s = split(&k).expect("a filtering kernel with outputs");
        s.output.validate().unwrap();
        assert_eq!(s.output.inputs.len(), 3);
        assert_eq!(s.output.inputs[2].ty, ScalarType::Bool);
        let sel = s.output.selection.unwrap();
        assert_eq!(s.output.node(sel).op, Op::Load(2));
        assert_eq!(s.output_origin[sel.index()], None);
        // a, b, 1, a + 1, the sum, the selection input: the comparison is gone.
        assert_eq!(s.output.nodes.len(), 6);
        let out = s.output.outputs[0];
        assert_eq!(s.output_origin[out.index()], Some(sum));
    }

    #[test]
    fn kernels_without_a_selection_or_outputs_are_not_split() {
        let (mut k, _) = filtered();
        let mut no_outputs = k.clone();
        no_outputs.outputs.clear();
        assert!(split(&no_outputs).is_none());
        k.selection = None;
        assert!(split(&k).is_none());
    }
}
