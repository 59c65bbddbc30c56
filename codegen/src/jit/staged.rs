//! A selection in two stages. TPC-H's filters are conjunctions where a cheap test on a
//! narrow column (a date range) keeps few rows and the others are costly (128-bit decimal
//! comparisons, arithmetic). Evaluated as one loop, every row pays for every test. Staged,
//! loop 0 runs only the cheap conjuncts, over every row (four at once for 32-bit ones),
//! and loop 1 runs the rest over the rows those keep; the selection is the AND of both.
//!
//! Why this keeps the answer: a row is selected where the AND is TRUE, that is where every
//! conjunct is TRUE. A row the cheap conjuncts do not keep cannot be selected, so the costly
//! conjuncts may read FALSE there (their words hold 0 for the rows loop 1 skips; their
//! validity words are computed for every row as before). That holds only when the costly
//! nodes feed nothing but the AND, and when none of them can fail (a failure skipped on a
//! row the AND drops would change what the kernel does); otherwise nothing is staged.

use super::schedule::{Place, Schedule};
use crate::ir::{BinaryOp, Kernel, Op, ScalarType, ValueId};

/// The loop that walks the rows the cheap conjuncts keep.
pub const STAGED_LOOP: usize = 1;

/// Stages the selection of `kernel` where it is a conjunction with at least one cheap
/// and one costly conjunct (see the module's notes). Call it once the selection's own
/// nodes are placed and before anything outside the selection is; it returns the cheap
/// conjuncts, whose rows loop [`STAGED_LOOP`] walks.
pub fn stage(kernel: &Kernel, s: &mut Schedule, outside: &[bool]) -> Option<Vec<ValueId>> {
    let sel = kernel.selection?;
    let uses = use_counts(kernel);
    let mut conjuncts = Vec::new();
    collect_conjuncts(kernel, sel, &uses, true, &mut conjuncts)?;
    let inside = |i: usize| !outside[i];
    for (i, node) in kernel.nodes.iter().enumerate() {
        if !inside(i) {
            continue;
        }
        let loop0 = matches!(s.place[i], Place::Lane(0) | Place::Compare(0) | Place::Free);
        let allowed = match &node.op {
            Op::Load(_) | Op::Const(_) => true,
            Op::Binary(BinaryOp::And, _, _) => true,
            Op::Binary(op, a, _) if op.is_comparison() => kernel.ty(*a) != ScalarType::Bool,
            Op::Binary(..) | Op::Unary(..) | Op::Cast(_) => node.ty != ScalarType::Bool,
            _ => false,
        };
        if !allowed || node.guard.is_some() || node.can_fail(kernel) {
            return None;
        }
        if !loop0 && s.place[i] != Place::Word {
            return None;
        }
    }
    let (cheap, costly): (Vec<ValueId>, Vec<ValueId>) =
        conjuncts.iter().partition(|c| is_cheap(kernel, s, **c));
    if cheap.is_empty() || costly.is_empty() {
        return None;
    }
    // Every costly node of the selection moves to the staged loop.
    for (i, node) in kernel.nodes.iter().enumerate() {
        if !inside(i) || cheap.contains(&ValueId(i as u32)) {
            continue;
        }
        match s.place[i] {
            Place::Lane(0) => s.place[i] = Place::Lane(STAGED_LOOP),
            Place::Compare(0) => {
                s.place[i] = Place::Compare(STAGED_LOOP);
                s.word_step[i] = STAGED_LOOP as i32;
            }
            Place::Word if matches!(node.op, Op::Binary(BinaryOp::And, _, _)) => {
                let [a, b] = [node.op.operands()[0], node.op.operands()[1]];
                let words = s.word_step[a.index()].max(s.word_step[b.index()]);
                s.word_step[i] = words;
                s.valid_step[i] = s.valid_step[a.index()]
                    .max(s.valid_step[b.index()])
                    .max(words);
            }
            _ => {}
        }
    }
    s.loops = s.loops.max(STAGED_LOOP + 1);
    Some(cheap)
}

/// How many nodes, outputs, aggregates, keys and the selection use each node (a guard
/// on the selection itself aside).
fn use_counts(kernel: &Kernel) -> Vec<usize> {
    let mut uses = vec![0; kernel.nodes.len()];
    for node in &kernel.nodes {
        // A guard on the selection reads its final word, which staging keeps exact.
        let guard = node.guard.filter(|g| Some(*g) != kernel.selection);
        for a in node.op.operands().into_iter().chain(guard) {
            uses[a.index()] += 1;
        }
    }
    let roots = kernel.outputs.iter().chain(&kernel.group_keys).copied();
    let roots = roots.chain(kernel.aggregates.iter().filter_map(|a| a.arg));
    for id in roots.chain(kernel.selection) {
        uses[id.index()] += 1;
    }
    uses
}

/// The leaves of the AND tree at `id`, each used by nothing but the tree (`None` where a
/// node of the tree is used elsewhere, or a leaf is not a comparison or a boolean load).
fn collect_conjuncts(
    kernel: &Kernel,
    id: ValueId,
    uses: &[usize],
    root: bool,
    out: &mut Vec<ValueId>,
) -> Option<()> {
    if uses[id.index()] != 1 {
        return None;
    }
    match kernel.nodes[id.index()].op {
        Op::Binary(BinaryOp::And, a, b) => {
            collect_conjuncts(kernel, a, uses, false, out)?;
            collect_conjuncts(kernel, b, uses, false, out)
        }
        Op::Binary(op, a, _) if op.is_comparison() && kernel.ty(a) != ScalarType::Bool => {
            if root {
                // A lone comparison has nothing to stage.
                return None;
            }
            out.push(id);
            Some(())
        }
        _ => None,
    }
}

/// A conjunct worth running on every row: a comparison of two loads or constants of at
/// most 64 bits (never a decimal's 128).
fn is_cheap(kernel: &Kernel, s: &Schedule, id: ValueId) -> bool {
    let operands = kernel.nodes[id.index()].op.operands();
    operands
        .iter()
        .all(|a| s.place[a.index()] == Place::Free && kernel.ty(*a).byte_width() <= 8)
}
