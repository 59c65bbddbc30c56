//! A selection in two stages. TPC-H's filters are conjunctions where cheap tests (a date
//! range, string tests computed before the kernel) keep few rows and the others are costly
//! (128-bit decimal comparisons, arithmetic). Evaluated as one loop, every row pays for
//! every test. Staged, loop 0 runs only the cheap conjuncts, over every row (four at once
//! for 32-bit comparisons), and loop 1 runs the rest over the rows those keep; the
//! selection is the AND of both.
//!
//! Why this keeps the answer: a row is selected where the AND is TRUE, that is where every
//! conjunct is TRUE. A row the cheap conjuncts do not keep cannot be selected, so the costly
//! conjuncts may read anything there (their comparisons' words hold 0 for the rows loop 1
//! skips; validity words are computed for every row as before). That holds only when the
//! selection's nodes feed nothing but the selection, and when none of them can fail (a
//! failure skipped on a row the AND drops would change what the kernel does); otherwise
//! nothing is staged.

use super::schedule::{Place, Schedule};
use crate::ir::{BinaryOp, Kernel, Op, ScalarType, UnaryOp, ValueId};

/// The loop that walks the rows the cheap conjuncts keep.
pub const STAGED_LOOP: usize = 1;

/// Stages the selection of `kernel` where it is a conjunction with at least one cheap
/// and one costly conjunct (see the module's notes). Call it once the selection's own
/// nodes are placed and before anything outside the selection is; it returns the cheap
/// conjuncts, whose kept rows loop [`STAGED_LOOP`] walks.
pub fn stage(kernel: &Kernel, s: &mut Schedule, outside: &[bool]) -> Option<Vec<ValueId>> {
    let sel = kernel.selection?;
    if !feeds_only_the_selection(kernel, outside) {
        return None;
    }
    for (i, node) in kernel.nodes.iter().enumerate() {
        let in_loop0 = matches!(
            s.place[i],
            Place::Lane(0) | Place::Compare(0) | Place::Free | Place::Word
        );
        let staged_as_placed = stageable(kernel, node) && in_loop0;
        if !outside[i] && !staged_as_placed {
            return None;
        }
    }
    let mut conjuncts = Vec::new();
    top_conjuncts(kernel, sel, &mut conjuncts);
    let (cheap, costly): (Vec<ValueId>, Vec<ValueId>) = conjuncts
        .into_iter()
        .partition(|c| subtree(kernel, *c).iter().all(|n| is_cheap(kernel, s, *n)));
    if cheap.is_empty() || costly.is_empty() {
        return None;
    }
    let mut stays = vec![false; kernel.nodes.len()];
    for &c in &cheap {
        for n in subtree(kernel, c) {
            stays[n.index()] = true;
        }
    }
    // Every other node of the selection moves to the staged loop; the words built on them
    // are known a step later.
    for (i, node) in kernel.nodes.iter().enumerate() {
        if outside[i] || stays[i] {
            continue;
        }
        match s.place[i] {
            Place::Lane(0) => s.place[i] = Place::Lane(STAGED_LOOP),
            Place::Compare(0) => {
                s.place[i] = Place::Compare(STAGED_LOOP);
                s.word_step[i] = STAGED_LOOP as i32;
            }
            Place::Word => recompute_word(kernel, s, i, node),
            _ => {}
        }
    }
    s.loops = s.loops.max(STAGED_LOOP + 1);
    Some(cheap)
}

/// Whether no node the selection reads is read by anything else: outputs, aggregates,
/// keys, nodes outside the selection (a guard on the selection itself aside: it reads the
/// final word, which staging keeps exact).
fn feeds_only_the_selection(kernel: &Kernel, outside: &[bool]) -> bool {
    let sel = kernel.selection;
    let roots = kernel.outputs.iter().chain(&kernel.group_keys).copied();
    let mut roots = roots.chain(kernel.aggregates.iter().filter_map(|a| a.arg));
    if roots.any(|r| !outside[r.index()] && !is_free(kernel, r)) {
        return false;
    }
    kernel.nodes.iter().enumerate().all(|(i, node)| {
        let guard = node.guard.filter(|g| Some(*g) != sel);
        !outside[i]
            || node
                .op
                .operands()
                .into_iter()
                .chain(guard)
                .all(|a| outside[a.index()] || is_free(kernel, a))
    })
}

/// A load or constant of a non-boolean type (materialized where used, never moved).
fn is_free(kernel: &Kernel, id: ValueId) -> bool {
    matches!(kernel.nodes[id.index()].op, Op::Load(_) | Op::Const(_))
        && kernel.ty(id) != ScalarType::Bool
}

/// Whether a node of the selection may be staged: boolean logic, comparisons, loads,
/// constants, and arithmetic that cannot fail.
fn stageable(kernel: &Kernel, node: &crate::ir::Node) -> bool {
    if node.guard.is_some() || node.can_fail(kernel) {
        return false;
    }
    let not_bool = |a: &ValueId| kernel.ty(*a) != ScalarType::Bool;
    match &node.op {
        Op::Load(_) | Op::Const(_) => true,
        Op::Binary(BinaryOp::And | BinaryOp::Or, _, _) => true,
        Op::Binary(op, _, _) if op.is_comparison() => true,
        Op::Unary(UnaryOp::Not | UnaryOp::IsNull | UnaryOp::IsNotNull, _) => true,
        Op::Binary(_, a, b) => node.ty != ScalarType::Bool && not_bool(a) && not_bool(b),
        Op::Unary(_, a) | Op::Cast(a) => node.ty != ScalarType::Bool && not_bool(a),
        _ => false,
    }
}

/// The operands of the AND chain at `id` that are not ANDs themselves.
fn top_conjuncts(kernel: &Kernel, id: ValueId, out: &mut Vec<ValueId>) {
    match kernel.nodes[id.index()].op {
        Op::Binary(BinaryOp::And, a, b) => {
            top_conjuncts(kernel, a, out);
            top_conjuncts(kernel, b, out);
        }
        _ => out.push(id),
    }
}

/// The nodes `id` is computed from, itself included.
fn subtree(kernel: &Kernel, id: ValueId) -> Vec<ValueId> {
    let mut seen = vec![id];
    let mut i = 0;
    while i < seen.len() {
        for a in kernel.nodes[seen[i].index()].op.operands() {
            if !seen.contains(&a) {
                seen.push(a);
            }
        }
        i += 1;
    }
    seen
}

/// A node worth computing on every row: boolean logic on words, a load or constant, or a
/// comparison of two loads or constants of at most 64 bits (never a decimal's 128).
fn is_cheap(kernel: &Kernel, s: &Schedule, id: ValueId) -> bool {
    match s.place[id.index()] {
        Place::Word | Place::Free => true,
        Place::Compare(_) => kernel.nodes[id.index()]
            .op
            .operands()
            .iter()
            .all(|a| s.place[a.index()] == Place::Free && kernel.ty(*a).byte_width() <= 8),
        Place::Lane(_) => false,
    }
}

/// The steps after which a boolean node's value and validity words are known, from its
/// operands' (as `schedule::place_node` computes them).
fn recompute_word(kernel: &Kernel, s: &mut Schedule, i: usize, node: &crate::ir::Node) {
    let operands = node.op.operands();
    let word = |s: &Schedule| {
        operands
            .iter()
            .map(|a| s.word_step[a.index()])
            .max()
            .unwrap_or(-1)
    };
    let valid = operands
        .iter()
        .map(|a| s.valid_step[a.index()])
        .max()
        .unwrap_or(-1);
    match node.op {
        Op::Load(_) | Op::Const(_) => {}
        Op::Unary(UnaryOp::IsNull | UnaryOp::IsNotNull, a) => {
            s.word_step[i] = s.valid_step[a.index()];
            s.valid_step[i] = -1;
        }
        Op::Binary(BinaryOp::And | BinaryOp::Or, _, _) => {
            s.word_step[i] = word(s);
            s.valid_step[i] = valid.max(s.word_step[i]);
        }
        _ => {
            debug_assert!(kernel.ty(ValueId(i as u32)) == ScalarType::Bool);
            s.word_step[i] = word(s);
            s.valid_step[i] = valid;
        }
    }
}
