//! Where each node of a kernel is computed inside one chunk of 64 rows.
//!
//! A chunk runs as alternating *word steps* and *lane loops*: word step −1, loop 0, word
//! step 0, loop 1, word step 1, … Word steps compute 64-bit words: the validity of every
//! node and the values of boolean nodes (bit-packed as Arrow stores them). Lane loops walk
//! the 64 rows computing non-boolean values; comparisons in a loop pack their results into
//! words that the following word step can use. A node goes into the earliest loop whose
//! inputs are ready, so most kernels are one loop between two word steps; a node that needs
//! a word computed after a loop (a CASE on a comparison, or a guard) goes into a later loop,
//! and values that cross loops are kept in a small per-chunk scratch area.

use super::staged::{stage, STAGED_LOOP};
use crate::ir::{BinaryOp, Kernel, Op, ScalarType, UnaryOp, ValueId};

/// How a node is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A load or constant of a non-boolean type: materialized in each loop that uses it.
    Free,
    /// A non-boolean value computed in lane loop `k`.
    Lane(usize),
    /// A comparison of non-boolean values in lane loop `k`, packed into a word.
    Compare(usize),
    /// A boolean computed on words.
    Word,
}

#[derive(Debug)]
pub struct Schedule {
    pub place: Vec<Place>,
    /// Step after which the node's value word is known (boolean and comparison nodes).
    pub word_step: Vec<i32>,
    /// Step after which the node's validity word is known.
    pub valid_step: Vec<i32>,
    /// Step after which a CASE's "branch taken" words are known.
    pub taken_step: Vec<i32>,
    /// Lane values stored to the chunk scratch in their loop (read by a later loop, or an
    /// output compacted after the loops).
    pub spilled: Vec<bool>,
    /// Number of lane loops.
    pub loops: usize,
    /// Rows each iteration of loop `k` computes at once (2 for all-f64 loops, else 1).
    pub lanes: Vec<usize>,
    /// The loop where output values that are loads or constants are written.
    pub output_loop: usize,
    /// Step after which the selection word is known.
    pub selection_step: Option<i32>,
    /// A selection in two stages ([`super::staged`]): the cheap conjuncts, whose kept rows
    /// loop [`STAGED_LOOP`] walks.
    pub staged: Option<Vec<ValueId>>,
}

impl Schedule {
    /// Whether loop `k` walks only the rows the selection keeps (the loops after it).
    pub fn is_sparse(&self, kernel: &Kernel, k: usize) -> bool {
        let after_selection =
            kernel.selection.is_some() && self.selection_step.is_some_and(|step| k as i32 > step);
        after_selection || self.is_staged(k)
    }

    /// Whether loop `k` walks only the rows the selection's cheap conjuncts keep.
    pub fn is_staged(&self, k: usize) -> bool {
        self.staged.is_some() && k == STAGED_LOOP
    }

    pub fn loop_of(&self, id: ValueId) -> Option<usize> {
        match self.place[id.index()] {
            Place::Lane(k) | Place::Compare(k) => Some(k),
            _ => None,
        }
    }
}

/// Schedules a desugared, validated kernel.
pub fn schedule(kernel: &Kernel) -> Schedule {
    let n = kernel.nodes.len();
    let mut s = Schedule {
        place: vec![Place::Word; n],
        word_step: vec![-1; n],
        valid_step: vec![-1; n],
        taken_step: vec![-1; n],
        spilled: vec![false; n],
        loops: 0,
        lanes: Vec::new(),
        output_loop: 0,
        selection_step: None,
        staged: None,
    };
    let outside_selection = kernel.outside_selection();
    // The selection's own nodes first (they read only each other), so that the nodes
    // outside it can wait for the selection word.
    for pass in [false, true] {
        for (index, node) in kernel.nodes.iter().enumerate() {
            if outside_selection[index] == pass {
                place_node(kernel, &mut s, index, node, pass);
            }
        }
        if !pass {
            s.staged = stage(kernel, &mut s, &outside_selection);
            // The selection is known after its words are; a chunk keeping no row can skip
            // the rest only once every check of the selection's own nodes has run.
            let checks = kernel
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| !outside_selection[*i] && n.can_fail(kernel))
                .filter_map(|(i, _)| s.loop_of(ValueId(i as u32)))
                .map(|k| k as i32)
                .max()
                .unwrap_or(-1);
            s.selection_step = kernel.selection.map(|sel| {
                s.word_step[sel.index()]
                    .max(s.valid_step[sel.index()])
                    .max(checks)
            });
        }
    }
    finish(kernel, &mut s);
    s
}

/// Places one node, all of whose operands are placed.
fn place_node(
    kernel: &Kernel,
    s: &mut Schedule,
    index: usize,
    node: &crate::ir::Node,
    outside: bool,
) {
    {
        let is_bool = node.ty == ScalarType::Bool;
        let operands = node.op.operands();
        // Validity: known once the operands' validity (and the words some ops read) are.
        let mut valid = operands
            .iter()
            .map(|a| s.valid_step[a.index()])
            .max()
            .unwrap_or(-1);
        // The earliest loop a lane computation may run in.
        let mut earliest = 0usize;
        let after_word = |step: i32, earliest: &mut usize| {
            *earliest = (*earliest).max((step + 1) as usize);
        };
        if node.can_fail(kernel) {
            for a in &operands {
                after_word(s.valid_step[a.index()], &mut earliest);
            }
            if let Some(g) = node.guard {
                after_word(
                    s.word_step[g.index()].max(s.valid_step[g.index()]),
                    &mut earliest,
                );
            }
        }
        if outside {
            if let Some(step) = s.selection_step {
                after_word(step, &mut earliest);
            }
        }
        for a in &operands {
            if let Some(k) = s.loop_of(*a) {
                if matches!(s.place[a.index()], Place::Lane(_)) {
                    earliest = earliest.max(k);
                }
            }
        }
        let place = match &node.op {
            Op::Load(_) | Op::Const(_) if !is_bool => Place::Free,
            Op::Load(_) | Op::Const(_) => Place::Word,
            Op::Unary(UnaryOp::IsNull | UnaryOp::IsNotNull, a) => {
                s.word_step[index] = s.valid_step[a.index()];
                valid = -1;
                Place::Word
            }
            Op::Unary(UnaryOp::Not, a) => {
                s.word_step[index] = s.word_step[a.index()];
                Place::Word
            }
            Op::Binary(op, a, b) if op.is_comparison() && kernel.ty(*a) == ScalarType::Bool => {
                s.word_step[index] = s.word_step[a.index()].max(s.word_step[b.index()]);
                Place::Word
            }
            Op::Binary(op, _, _) if op.is_comparison() => {
                s.word_step[index] = earliest as i32;
                Place::Compare(earliest)
            }
            Op::Binary(BinaryOp::And | BinaryOp::Or, a, b) => {
                let words = s.word_step[a.index()].max(s.word_step[b.index()]);
                s.word_step[index] = words;
                valid = valid.max(words);
                Place::Word
            }
            Op::Case {
                branches,
                otherwise,
            } => {
                let taken = branches
                    .iter()
                    .map(|(c, _)| s.word_step[c.index()].max(s.valid_step[c.index()]))
                    .max()
                    .unwrap_or(-1);
                s.taken_step[index] = taken;
                valid = valid.max(taken);
                if is_bool {
                    let words = branches
                        .iter()
                        .map(|(_, v)| *v)
                        .chain(*otherwise)
                        .map(|v| s.word_step[v.index()])
                        .max()
                        .unwrap_or(-1);
                    s.word_step[index] = words.max(taken);
                    Place::Word
                } else {
                    after_word(taken, &mut earliest);
                    Place::Lane(earliest)
                }
            }
            Op::Cast(a) if kernel.ty(*a) == ScalarType::Bool => {
                after_word(s.word_step[a.index()], &mut earliest);
                Place::Lane(earliest)
            }
            _ => Place::Lane(earliest),
        };
        s.place[index] = place;
        s.valid_step[index] = valid;
        if let Place::Lane(k) | Place::Compare(k) = place {
            s.loops = s.loops.max(k + 1);
        }
    }
}

/// Marks spills, picks the output loop and the lane width of each loop.
fn finish(kernel: &Kernel, s: &mut Schedule) {
    let filtering = kernel.selection.is_some();
    s.output_loop = s.selection_step.map_or(0, |step| (step + 1) as usize);
    let free_outputs = kernel
        .outputs
        .iter()
        .any(|o| s.place[o.index()] == Place::Free);
    if free_outputs || (filtering && !kernel.outputs.is_empty()) {
        s.loops = s.loops.max(s.output_loop + 1);
    }
    if filtering {
        // Outputs are written by the last loop, which walks the kept rows only.
        s.output_loop = s.output_loop.max(s.loops.saturating_sub(1));
    }
    for (index, node) in kernel.nodes.iter().enumerate() {
        let Some(k) = s.loop_of(ValueId(index as u32)) else {
            continue;
        };
        for a in node.op.operands() {
            if matches!(s.place[a.index()], Place::Lane(j) if j < k) {
                s.spilled[a.index()] = true;
            }
        }
    }
    for &o in &kernel.outputs {
        if filtering && matches!(s.place[o.index()], Place::Lane(j) if j < s.output_loop) {
            s.spilled[o.index()] = true;
        }
    }
    // Aggregates fold after the loops, reading their arguments and keys from the scratch.
    let folded = kernel.aggregates.iter().filter_map(|a| a.arg);
    for arg in folded.chain(kernel.group_keys.iter().copied()) {
        if matches!(s.place[arg.index()], Place::Lane(_)) {
            s.spilled[arg.index()] = true;
        }
    }
    s.lanes = (0..s.loops)
        .map(|k| {
            if s.is_sparse(kernel, k) {
                1
            } else {
                lanes_of_loop(kernel, s, k)
            }
        })
        .collect();
}

/// Two rows per iteration where every value the loop touches is an f64 and nothing in it
/// can fail (the failure checks are scalar); four where the loop only compares 32-bit
/// integers (a date range); one otherwise.
fn lanes_of_loop(kernel: &Kernel, s: &Schedule, k: usize) -> usize {
    let in_loop = |index: usize| s.loop_of(ValueId(index as u32)) == Some(k);
    let f64_loop = kernel.nodes.iter().enumerate().all(|(index, node)| {
        if !in_loop(index) {
            return true;
        }
        let operands_f64 = node
            .op
            .operands()
            .iter()
            .all(|a| kernel.ty(*a) == ScalarType::F64 || is_case_condition(node, *a));
        let result_f64 = node.ty == ScalarType::F64 || matches!(s.place[index], Place::Compare(_));
        !node.can_fail(kernel) && !matches!(node.op, Op::Cast(_)) && operands_f64 && result_f64
    });
    let narrow_compares =
        kernel.nodes.iter().enumerate().all(|(index, node)| {
            !in_loop(index)
                || (matches!(s.place[index], Place::Compare(_))
                    && node.op.operands().iter().all(|a| {
                        s.place[a.index()] == Place::Free && is_32_bit_integer(kernel.ty(*a))
                    }))
        });
    let free_outputs_are = |wanted: &dyn Fn(ScalarType) -> bool| {
        k != s.output_loop
            || kernel
                .outputs
                .iter()
                .all(|o| s.place[o.index()] != Place::Free || wanted(kernel.ty(*o)))
    };
    if f64_loop && free_outputs_are(&|t| t == ScalarType::F64) {
        2
    } else if narrow_compares && free_outputs_are(&is_32_bit_integer) {
        4
    } else {
        1
    }
}

fn is_32_bit_integer(ty: ScalarType) -> bool {
    matches!(ty, ScalarType::I32 | ScalarType::U32 | ScalarType::Date32)
}

fn is_case_condition(node: &crate::ir::Node, a: ValueId) -> bool {
    match &node.op {
        Op::Case { branches, .. } => branches.iter().any(|(c, _)| *c == a),
        _ => false,
    }
}
