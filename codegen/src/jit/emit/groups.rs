//! Grouped aggregates folded inline: after a chunk's loops, each kept row's keys are
//! hashed and its group found in the caller's [`crate::groups::GroupTable`] by linear
//! probing (an empty slot starts the group), then each aggregate folds the row's argument
//! into the group's slots in memory. A chunk with no NULL among its kept rows' keys and
//! arguments counts each row once, in the rows every aggregate counted
//! ([`crate::aggregate`]), not in each aggregate's own count. The table has room for every row of the call (the
//! caller reserves it), so the loop never grows it and never calls out.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, BlockArg, InstBuilder, Value};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::{clif_type, flags, Chunk, Iter};
use crate::aggregate::{initial_slots, slots_len, ROWS, SLOTS, VALUE};
use crate::ir::{AggFunc, ScalarType, ValueId};

/// The table a call folds into: its slots and slot mask (from the descriptor), the
/// number of groups (written back when the call ends), and whether it is dense with the
/// least key word it is dense from ([`crate::groups::probe_start`]).
#[derive(Clone, Copy)]
pub(super) struct Table {
    slots: Value,
    mask: Value,
    groups: Variable,
    dense: Value,
    base: Value,
}

/// Reads the table's descriptor at `descriptor`.
pub(super) fn load(b: &mut FunctionBuilder<'_>, descriptor: Value) -> Table {
    let slots = b.ins().load(types::I64, flags(), descriptor, 0);
    let mask = b.ins().load(types::I64, flags(), descriptor, 8);
    let groups = b.declare_var(types::I64);
    let count = b.ins().load(types::I64, flags(), descriptor, 16);
    b.def_var(groups, count);
    let dense = b.ins().load(types::I64, flags(), descriptor, 24);
    let base = b.ins().load(types::I64, flags(), descriptor, 32);
    Table {
        slots,
        mask,
        groups,
        dense,
        base,
    }
}

/// Writes the number of groups back to the descriptor.
pub(super) fn store(b: &mut FunctionBuilder<'_>, table: &Table, descriptor: Value) {
    let groups = b.use_var(table.groups);
    b.ins().store(flags(), groups, descriptor, 16);
}

/// The byte offset of slot `slot` of aggregate `i` within a group's aggregate slots.
fn slot_offset(i: usize, slot: usize) -> i32 {
    (8 * (SLOTS * i + slot)) as i32
}

/// The multiply-and-fold of [`crate::groups::mix`].
fn mix(b: &mut FunctionBuilder<'_>, x: Value) -> Value {
    let m = b.ins().imul_imm_s(x, 0x9E37_79B9_7F4A_7C15_u64 as i64);
    let high = b.ins().ushr_imm_s(m, 29);
    b.ins().bxor(m, high)
}

impl Chunk<'_, '_, '_> {
    /// Folds the chunk's kept rows into their groups. Most chunks have no NULL among
    /// their kept rows' keys and arguments: those take a walk that tests no validity bit.
    pub(super) fn fold_groups(&mut self) {
        let kept = self.selection.unwrap_or(self.live);
        let read = self.kernel.aggregates.iter().filter_map(|a| a.arg);
        let read: Vec<ValueId> = read.chain(self.kernel.group_keys.iter().copied()).collect();
        let mut valid = kept;
        for id in read {
            let ok = self.ok(id);
            valid = self.b.ins().band(valid, ok);
        }
        self.branch_on_all_valid(valid, kept, |this, all_valid| {
            this.fold_group_rows(kept, all_valid)
        });
    }

    /// Folds the rows of `kept` into their groups; `all_valid`: no key or argument is
    /// NULL on them.
    fn fold_group_rows(&mut self, kept: Value, all_valid: bool) {
        let table = self.table.expect("a grouping kernel has a table");
        let (walk, mut it) = self.open_row_walk(kept);
        let bit = it.r;
        // Everything the row needs, before any branch (so that every use is dominated).
        let (header, keys) = self.group_words(&mut it, all_valid);
        let args: Vec<Option<(Option<Value>, Value)>> = self
            .kernel
            .aggregates
            .iter()
            .map(|a| a.arg)
            .map(|arg| {
                arg.map(|arg| {
                    let valid = (!all_valid).then(|| self.row_valid(arg, bit));
                    (valid, self.arg_value(&mut it, arg))
                })
            })
            .collect();
        let group = self.find_group(&table, header, &keys);
        let shared = all_valid.then(|| self.count_shared(group));
        for (i, arg) in args.into_iter().enumerate() {
            match shared {
                Some(shared) => self.fold_counted(&it, i, group, arg, shared),
                None => self.fold_into(&it, i, group, arg),
            }
        }
        self.close_row_walk(walk);
    }

    /// 1 where `id` is valid on row `bit`, else 0.
    fn row_valid(&mut self, id: ValueId, bit: Value) -> Value {
        let ok = self.ok(id);
        let shifted = self.b.ins().ushr(ok, bit);
        self.b.ins().band_imm_u(shifted, 1)
    }

    /// A value on this row (a boolean from its word, as 0 or 1).
    fn arg_value(&mut self, it: &mut Iter, id: ValueId) -> Value {
        if self.kernel.ty(id) == ScalarType::Bool {
            let word = self.word(id);
            let shifted = self.b.ins().ushr(word, it.r);
            return self.b.ins().band_imm_u(shifted, 1);
        }
        self.operand(it, id)
    }

    /// The row's group header and key words, as [`crate::groups`] lays them out
    /// (`all_valid`: no key is NULL on the row).
    fn group_words(&mut self, it: &mut Iter, all_valid: bool) -> (Value, Vec<Value>) {
        let mut header = self.b.ins().iconst(types::I64, 1);
        let mut words = Vec::new();
        for k in 0..self.kernel.group_keys.len() {
            let key = self.kernel.group_keys[k];
            let v = self.arg_value(it, key);
            let ty = self.kernel.ty(key);
            let wide = if self.b.func.dfg.value_type(v) == types::I64 {
                v
            } else if ty.is_unsigned_int() || ty == ScalarType::Bool {
                self.b.ins().uextend(types::I64, v)
            } else {
                self.b.ins().sextend(types::I64, v)
            };
            if all_valid {
                words.push(wide);
                continue;
            }
            let valid = self.row_valid(key, it.r);
            let null = self.b.ins().bxor_imm_u(valid, 1);
            let flag = self.b.ins().ishl_imm_s(null, k as i64 + 1);
            header = self.b.ins().bor(header, flag);
            let zero = self.b.ins().iconst(types::I64, 0);
            let word = self.b.ins().select(valid, wide, zero);
            words.push(word);
        }
        (header, words)
    }

    /// The address of the row's group slot, started if the group is new.
    fn find_group(&mut self, table: &Table, header: Value, keys: &[Value]) -> Value {
        let stride = (1 + keys.len() + slots_len(self.kernel.aggregates.len())) as i64;
        let mut h = mix(self.b, header);
        for &k in keys {
            let x = self.b.ins().bxor(h, k);
            h = mix(self.b, x);
        }
        if let [key] = keys {
            // A dense table's groups start at their key less its least (`probe_start`).
            let offset = self.b.ins().isub(*key, table.base);
            h = self.b.ins().select(table.dense, offset, h);
        }
        let start = self.b.ins().band(h, table.mask);
        let probe = self.b.create_block();
        let at = self.b.append_block_param(probe, types::I64);
        let compare = self.b.create_block();
        let claim = self.b.create_block();
        let next = self.b.create_block();
        let found = self.b.create_block();
        let slot = self.b.append_block_param(found, types::I64);
        self.b.ins().jump(probe, &[BlockArg::Value(start)]);

        self.b.switch_to_block(probe);
        let offset = self.b.ins().imul_imm_s(at, stride * 8);
        let addr = self.b.ins().iadd(table.slots, offset);
        let existing = self.b.ins().load(types::I64, flags(), addr, 0);
        self.b.ins().brif(existing, compare, &[], claim, &[]);

        self.b.switch_to_block(compare);
        self.b.seal_block(compare);
        let mut same = self.b.ins().icmp(IntCC::Equal, existing, header);
        for (k, &key) in keys.iter().enumerate() {
            let held = self
                .b
                .ins()
                .load(types::I64, flags(), addr, 8 * (1 + k as i32));
            let eq = self.b.ins().icmp(IntCC::Equal, held, key);
            same = self.b.ins().band(same, eq);
        }
        self.b
            .ins()
            .brif(same, found, &[BlockArg::Value(addr)], next, &[]);

        self.b.switch_to_block(next);
        self.b.seal_block(next);
        let step = self.b.ins().iadd_imm_s(at, 1);
        let wrapped = self.b.ins().band(step, table.mask);
        self.b.ins().jump(probe, &[BlockArg::Value(wrapped)]);
        self.b.seal_block(probe);

        self.b.switch_to_block(claim);
        self.b.seal_block(claim);
        self.b.ins().store(flags(), header, addr, 0);
        for (k, &key) in keys.iter().enumerate() {
            self.b.ins().store(flags(), key, addr, 8 * (1 + k as i32));
        }
        for (j, word) in initial_slots(self.kernel).into_iter().enumerate() {
            let v = self.b.ins().iconst(types::I64, word as i64);
            let at = 8 * (1 + keys.len() + j) as i32;
            self.b.ins().store(flags(), v, addr, at);
        }
        let groups = self.b.use_var(table.groups);
        let groups = self.b.ins().iadd_imm_s(groups, 1);
        self.b.def_var(table.groups, groups);
        self.b.ins().jump(found, &[BlockArg::Value(addr)]);

        self.b.switch_to_block(found);
        self.b.seal_block(found);
        let aggregates = (8 * (1 + keys.len())) as i64;
        self.b.ins().iadd_imm_s(slot, aggregates)
    }

    /// The byte offset, within a group's aggregate slots, of the rows all its aggregates
    /// counted (the slot after theirs).
    fn shared_rows_at(&self) -> i32 {
        (8 * SLOTS * self.kernel.aggregates.len()) as i32
    }

    /// Counts the row in the rows every aggregate of the group at `group` counted; the count
    /// after it.
    fn count_shared(&mut self, group: Value) -> Value {
        let at = self.shared_rows_at();
        let rows = self.b.ins().load(types::I64, flags(), group, at);
        let rows = self.b.ins().iadd_imm_s(rows, 1);
        self.b.ins().store(flags(), rows, group, at);
        rows
    }

    /// Folds a row already counted in the shared rows (`shared`, with it) into aggregate
    /// `i`: a count has nothing left to do, a value folds without counting, and moments
    /// take their rows as the aggregate's own count plus the shared ones.
    fn fold_counted(
        &mut self,
        it: &Iter,
        i: usize,
        group: Value,
        arg: Option<(Option<Value>, Value)>,
        shared: Value,
    ) {
        let Some((_, v)) = arg else { return };
        let Some(ty) = self.kernel.aggregates[i].value_type(self.kernel) else {
            return;
        };
        self.fold_held_value(it, i, group, ty, v, |this| {
            let own = this
                .b
                .ins()
                .load(types::I64, flags(), group, slot_offset(i, ROWS));
            this.b.ins().iadd(own, shared)
        });
    }

    /// Folds `v` into the value of aggregate `i` in the group at `group`; a moments
    /// aggregate's Welford step takes the rows `rows` gives (counting this one).
    fn fold_held_value(
        &mut self,
        it: &Iter,
        i: usize,
        group: Value,
        ty: ScalarType,
        v: Value,
        rows: impl FnOnce(&mut Self) -> Value,
    ) {
        if self.kernel.aggregates[i].func == AggFunc::Moments {
            let rows = rows(self);
            self.fold_moments_at(group, i, rows, v);
            return;
        }
        let value_at = slot_offset(i, VALUE);
        let acc = self.b.ins().load(clif_type(ty), flags(), group, value_at);
        let next = self.fold_one(i, it, acc, v);
        self.b.ins().store(flags(), next, group, value_at);
    }

    /// Welford's step of moments aggregate `i` of the group at `group`, `rows` counting
    /// the row.
    fn fold_moments_at(&mut self, group: Value, i: usize, rows: Value, v: Value) {
        let (value_at, m2_at) = (slot_offset(i, VALUE), slot_offset(i, VALUE + 1));
        let mean = self.b.ins().load(types::F64, flags(), group, value_at);
        let m2 = self.b.ins().load(types::F64, flags(), group, m2_at);
        let (mean, m2) = self.welford(rows, mean, m2, v);
        self.b.ins().store(flags(), mean, group, value_at);
        self.b.ins().store(flags(), m2, group, m2_at);
    }

    /// Folds the row into aggregate `i` of the group whose aggregate slots are at `group`;
    /// `arg` is the argument's validity (0 or 1; `None`: known valid) and value (`None`:
    /// `count(*)`).
    fn fold_into(
        &mut self,
        it: &Iter,
        i: usize,
        group: Value,
        arg: Option<(Option<Value>, Value)>,
    ) {
        let rows_at = slot_offset(i, ROWS);
        let rows = self.b.ins().load(types::I64, flags(), group, rows_at);
        let Some((valid, v)) = arg else {
            let rows = self.b.ins().iadd_imm_s(rows, 1);
            self.b.ins().store(flags(), rows, group, rows_at);
            return;
        };
        let ty = self.kernel.aggregates[i].value_type(self.kernel);
        let Some(ty) = ty else {
            let rows = match valid {
                Some(valid) => self.b.ins().iadd(rows, valid),
                None => self.b.ins().iadd_imm_s(rows, 1),
            };
            self.b.ins().store(flags(), rows, group, rows_at);
            return;
        };
        let Some(valid) = valid else {
            self.fold_value(it, i, group, rows, ty, v);
            return;
        };
        let fold = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(valid, fold, &[], done, &[]);
        self.b.switch_to_block(fold);
        self.b.seal_block(fold);
        self.fold_value(it, i, group, rows, ty, v);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// Counts a row whose argument is valid into aggregate `i` (which had counted `rows`)
    /// and folds its value `v`.
    fn fold_value(
        &mut self,
        it: &Iter,
        i: usize,
        group: Value,
        rows: Value,
        ty: ScalarType,
        v: Value,
    ) {
        let own = self.b.ins().iadd_imm_s(rows, 1);
        self.b
            .ins()
            .store(flags(), own, group, slot_offset(i, ROWS));
        // Welford's step counts every row before this one, the shared ones too.
        let at = self.shared_rows_at();
        self.fold_held_value(it, i, group, ty, v, |this| {
            let shared = this.b.ins().load(types::I64, flags(), group, at);
            this.b.ins().iadd(own, shared)
        });
    }
}
