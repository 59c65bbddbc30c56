//! Aggregates folded inline: after a chunk's loops, each aggregate adds the rows it counts
//! (one popcount of the kept rows where its argument is valid) and walks those rows' set
//! bits, folding each value into an accumulator that lives in a register across chunks.
//! The accumulators are loaded from the caller's [`crate::aggregate::AggregateState`] when
//! the call starts and stored back when it returns, so a partition's batches fold into one
//! state. The fold goes row by row in row order, as the interpreter's does, so float sums
//! agree bit for bit.

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, BlockArg, InstBuilder, Type, Value};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::{clif_type, flags, Chunk, Iter};
use crate::aggregate::{ROWS, SLOTS, VALUE};
use crate::ir::{AggFunc, Kernel, ScalarType, ValueId};
use crate::jit::frame::KIND_OVERFLOW;

/// A loop over the set bits of a word (see [`Chunk::open_row_walk`]).
pub(super) struct RowWalk {
    head: cranelift_codegen::ir::Block,
    /// The bits not yet visited.
    w: Value,
    done: cranelift_codegen::ir::Block,
}

/// An aggregate whose values a row walk folds: its index, argument, accumulator and the
/// rows it counts.
struct Walked {
    i: usize,
    arg: ValueId,
    var: Variable,
    mask: Value,
}

/// The registers of one aggregate: rows counted, the value (for all but a count), and
/// for moments the sum of squared deviations beside the mean.
#[derive(Clone, Copy)]
pub(super) struct Accumulator {
    rows: Variable,
    value: Option<(Variable, Type)>,
    m2: Option<Variable>,
}

fn offset(i: usize, slot: usize) -> i32 {
    (8 * (SLOTS * i + slot)) as i32
}

/// Declares every aggregate's accumulators and loads them from the state at `state`.
pub(super) fn load(b: &mut FunctionBuilder<'_>, kernel: &Kernel, state: Value) -> Vec<Accumulator> {
    kernel
        .aggregates
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let rows = b.declare_var(types::I64);
            let counted = b.ins().load(types::I64, flags(), state, offset(i, ROWS));
            b.def_var(rows, counted);
            let value = a.value_type(kernel).map(|ty| {
                let t = clif_type(ty);
                let var = b.declare_var(t);
                let v = b.ins().load(t, flags(), state, offset(i, VALUE));
                b.def_var(var, v);
                (var, t)
            });
            let m2 = (a.func == AggFunc::Moments).then(|| {
                let var = b.declare_var(types::F64);
                let v = b
                    .ins()
                    .load(types::F64, flags(), state, offset(i, VALUE + 1));
                b.def_var(var, v);
                var
            });
            Accumulator { rows, value, m2 }
        })
        .collect()
}

/// Stores the accumulators back into the state (on the way out of a call that succeeded).
pub(super) fn store(b: &mut FunctionBuilder<'_>, accumulators: &[Accumulator], state: Value) {
    for (i, acc) in accumulators.iter().enumerate() {
        let rows = b.use_var(acc.rows);
        b.ins().store(flags(), rows, state, offset(i, ROWS));
        if let Some((var, _)) = acc.value {
            let v = b.use_var(var);
            b.ins().store(flags(), v, state, offset(i, VALUE));
        }
        if let Some(var) = acc.m2 {
            let v = b.use_var(var);
            b.ins().store(flags(), v, state, offset(i, VALUE + 1));
        }
    }
}

impl Chunk<'_, '_, '_> {
    /// Folds the chunk's kept rows into every aggregate (after the chunk's last step, when
    /// every validity word and spilled value is known). Each aggregate counts its rows by
    /// one popcount. Most chunks have no NULL among their kept rows' arguments: there,
    /// every aggregate with a value folds in one walk over the kept rows, where a NULL
    /// makes each walk its own.
    pub(super) fn fold_aggregates(&mut self) {
        let kept = self.selection.unwrap_or(self.live);
        let mut walked = Vec::new();
        let mut valid = kept;
        for i in 0..self.kernel.aggregates.len() {
            let a = self.kernel.aggregates[i];
            let mask = match a.arg {
                Some(arg) => {
                    let ok = self.ok(arg);
                    self.b.ins().band(kept, ok)
                }
                None => kept,
            };
            let acc = self.accumulators[i];
            if let (Some(arg), Some((mean, _)), Some(m2)) = (a.arg, acc.value, acc.m2) {
                // Each row's step depends on the rows counted before it.
                self.fold_moments(arg, acc.rows, mean, m2, mask);
                continue;
            }
            let n = self.b.ins().popcnt(mask);
            let rows = self.b.use_var(acc.rows);
            let rows = self.b.ins().iadd(rows, n);
            self.b.def_var(acc.rows, rows);
            if let (Some(arg), Some((var, _))) = (a.arg, acc.value) {
                walked.push(Walked { i, arg, var, mask });
                valid = self.b.ins().band(valid, mask);
            }
        }
        match walked.len() {
            0 => {}
            1 => self.fold_values(&walked, walked[0].mask),
            _ => self.branch_on_all_valid(valid, kept, |this, all_valid| {
                if all_valid {
                    this.fold_values(&walked, kept);
                } else {
                    for one in &walked {
                        this.fold_values(std::slice::from_ref(one), one.mask);
                    }
                }
            }),
        }
    }

    /// Emits `fold(self, true)` for a chunk where `valid` is all of `kept` (no NULL on a
    /// kept row), else `fold(self, false)`, and joins the two.
    pub(super) fn branch_on_all_valid(
        &mut self,
        valid: Value,
        kept: Value,
        mut fold: impl FnMut(&mut Self, bool),
    ) {
        let whole = self.b.ins().icmp(IntCC::Equal, valid, kept);
        let (fast, slow, joined) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(whole, fast, &[], slow, &[]);
        for (block, all_valid) in [(fast, true), (slow, false)] {
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            fold(self, all_valid);
            self.b.ins().jump(joined, &[]);
        }
        self.b.switch_to_block(joined);
        self.b.seal_block(joined);
    }

    /// Walks the set bits of `mask`, folding each of `walked`'s arguments on each row into
    /// its accumulator. A decimal sum wraps, so it adds in any order to the same sum: it
    /// adds the walk's rows in a register of the walk's own (which the register allocator
    /// keeps out of memory), then that into its accumulator. Every other fold goes row by
    /// row, as the interpreter's does (float sums round, integer sums fail on the row that
    /// overflows).
    fn fold_values(&mut self, walked: &[Walked], mask: Value) {
        let partial: Vec<Option<Variable>> = walked
            .iter()
            .map(|w| {
                self.adds_in_any_order(w.i).then(|| {
                    let var = self.b.declare_var(types::I128);
                    let zero = self.b.ins().iconst(types::I64, 0);
                    let zero = self.b.ins().uextend(types::I128, zero);
                    self.b.def_var(var, zero);
                    var
                })
            })
            .collect();
        let (walk, mut it) = self.open_row_walk(mask);
        for (w, partial) in walked.iter().zip(&partial) {
            let v = self.operand(&mut it, w.arg);
            let target = partial.unwrap_or(w.var);
            let acc = self.b.use_var(target);
            let next = match partial {
                Some(_) => self.b.ins().iadd(acc, v),
                None => self.fold_one(w.i, &it, acc, v),
            };
            self.b.def_var(target, next);
        }
        self.close_row_walk(walk);
        for (w, partial) in walked.iter().zip(&partial) {
            if let Some(partial) = partial {
                let (acc, part) = (self.b.use_var(w.var), self.b.use_var(*partial));
                let sum = self.b.ins().iadd(acc, part);
                self.b.def_var(w.var, sum);
            }
        }
    }

    /// Whether aggregate `i` is a decimal sum (wrapping, so its order does not matter).
    fn adds_in_any_order(&self, i: usize) -> bool {
        let a = self.kernel.aggregates[i];
        a.func == AggFunc::Sum
            && matches!(
                a.value_type(self.kernel),
                Some(ScalarType::Decimal128 { .. })
            )
    }

    /// Walks the set bits of `mask`, counting each row and taking its value into the
    /// running mean and sum of squared deviations.
    fn fold_moments(
        &mut self,
        arg: ValueId,
        rows: Variable,
        mean: Variable,
        m2: Variable,
        mask: Value,
    ) {
        let (walk, mut it) = self.open_row_walk(mask);
        let x = self.operand(&mut it, arg);
        let counted = self.b.use_var(rows);
        let counted = self.b.ins().iadd_imm_s(counted, 1);
        self.b.def_var(rows, counted);
        let (m, s) = (self.b.use_var(mean), self.b.use_var(m2));
        let (m, s) = self.welford(counted, m, s, x);
        self.b.def_var(mean, m);
        self.b.def_var(m2, s);
        self.close_row_walk(walk);
    }

    /// [`crate::aggregate::welford`]: the mean and sum of squared deviations after the
    /// `rows`-th value `x`.
    pub(super) fn welford(
        &mut self,
        rows: Value,
        mean: Value,
        m2: Value,
        x: Value,
    ) -> (Value, Value) {
        let delta = self.b.ins().fsub(x, mean);
        let n = self.b.ins().fcvt_from_uint(types::F64, rows);
        let step = self.b.ins().fdiv(delta, n);
        let mean = self.b.ins().fadd(step, mean);
        let deviation = self.b.ins().fsub(x, mean);
        let square = self.b.ins().fmul(delta, deviation);
        (mean, self.b.ins().fadd(m2, square))
    }

    /// Opens a loop over the set bits of `mask`, lowest first; the body (current on
    /// return) sees one row, as a one-lane iteration at that row.
    pub(super) fn open_row_walk(&mut self, mask: Value) -> (RowWalk, Iter) {
        let head = self.b.create_block();
        let w = self.b.append_block_param(head, types::I64);
        let body = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().jump(head, &[BlockArg::Value(mask)]);
        self.b.switch_to_block(head);
        self.b.ins().brif(w, body, &[], done, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let bit = self.b.ins().ctz(w);
        let it = Iter {
            r: bit,
            lanes: 1,
            values: HashMap::new(),
            pos: None,
        };
        (RowWalk { head, w, done }, it)
    }

    /// Ends the body of a row walk: on to the next bit, then past the loop.
    pub(super) fn close_row_walk(&mut self, walk: RowWalk) {
        let w1 = self.b.ins().iadd_imm_s(walk.w, -1);
        let rest = self.b.ins().band(walk.w, w1);
        self.b.ins().jump(walk.head, &[BlockArg::Value(rest)]);
        self.b.seal_block(walk.head);
        self.b.switch_to_block(walk.done);
        self.b.seal_block(walk.done);
    }

    /// `acc` combined with one row's `v` by aggregate `i`.
    pub(super) fn fold_one(&mut self, i: usize, it: &Iter, acc: Value, v: Value) -> Value {
        let a = self.kernel.aggregates[i];
        let ty = a.value_type(self.kernel).expect("a value to fold");
        match a.func {
            AggFunc::Sum => self.add(i, it, ty, acc, v),
            AggFunc::Min => self.keep(it, ty, acc, v, true),
            AggFunc::Max => self.keep(it, ty, acc, v, false),
            AggFunc::Count => unreachable!("a count folds no value"),
            AggFunc::Moments => unreachable!("moments fold through `welford`"),
        }
    }

    /// A sum's step: IEEE for f64, wrapping for decimals, checked for i64 and u64.
    fn add(&mut self, i: usize, it: &Iter, ty: ScalarType, acc: Value, v: Value) -> Value {
        let (sum, overflow) = match ty {
            ScalarType::F64 => return self.b.ins().fadd(acc, v),
            ScalarType::Decimal128 { .. } => return self.b.ins().iadd(acc, v),
            ScalarType::U64 => self.b.ins().uadd_overflow(acc, v),
            _ => self.b.ins().sadd_overflow(acc, v),
        };
        let kind = self.b.ins().iconst(types::I64, KIND_OVERFLOW);
        self.fail_if(it, overflow, kind, self.kernel.nodes.len() + i);
        sum
    }

    /// `v` where it comes before (`min`) or after (max) `acc` in total order, else `acc`.
    fn keep(&mut self, it: &Iter, ty: ScalarType, acc: Value, v: Value, min: bool) -> Value {
        let (x, y, signed) = if ty.is_float() {
            let x = self.order_key(it, v, ty, false);
            let y = self.order_key(it, acc, ty, false);
            (x, y, true)
        } else {
            (v, acc, !ty.is_unsigned_int())
        };
        let cc = match (min, signed) {
            (true, true) => IntCC::SignedLessThan,
            (true, false) => IntCC::UnsignedLessThan,
            (false, true) => IntCC::SignedGreaterThan,
            (false, false) => IntCC::UnsignedGreaterThan,
        };
        let better = self.b.ins().icmp(cc, x, y);
        if self.b.func.dfg.value_type(v) == types::I128 {
            // By halves: Cranelift would fold a 128-bit select of a comparison into an
            // `smax`/`smin`, which it cannot lower on x86.
            let (v_lo, v_hi) = self.b.ins().isplit(v);
            let (a_lo, a_hi) = self.b.ins().isplit(acc);
            let lo = self.b.ins().select(better, v_lo, a_lo);
            let hi = self.b.ins().select(better, v_hi, a_hi);
            return self.b.ins().iconcat(lo, hi);
        }
        self.b.ins().select(better, v, acc)
    }
}
