//! Builds the Cranelift function of a scheduled kernel: a loop over chunks of 64 rows,
//! each chunk running the word steps and lane loops of its [`Schedule`].

mod aggregate;
mod decimal;
mod groups;

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, Block, BlockArg, ConstantData, InstBuilder, MemFlagsData, StackSlot, StackSlotData,
    StackSlotKind, Type, Value,
};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::frame::*;
use super::schedule::{Place, Schedule};
use crate::abi::CHUNK;
use crate::ir::{BinaryOp, Kernel, Literal, Op, ScalarType, UnaryOp, ValueId};
use crate::semantics::{decimal_parts, int_range};

/// The machine type of one element of `ty` (booleans are words, never lanes).
pub fn clif_type(ty: ScalarType) -> Type {
    match ty {
        ScalarType::I8 | ScalarType::U8 => types::I8,
        ScalarType::I16 | ScalarType::U16 => types::I16,
        ScalarType::I32 | ScalarType::U32 | ScalarType::Date32 => types::I32,
        ScalarType::F32 => types::F32,
        ScalarType::F64 => types::F64,
        ScalarType::Decimal128 { .. } => types::I128,
        _ => types::I64,
    }
}

fn flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Emits the whole kernel function `fn(frame: *mut u64) -> i64` into `b`.
pub fn emit(b: &mut FunctionBuilder<'_>, kernel: &Kernel, schedule: &Schedule) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let frame = b.block_params(entry)[0];
    let slot = |b: &mut FunctionBuilder<'_>, i: usize| {
        b.ins().load(types::I64, flags(), frame, (i * 8) as i32)
    };
    let n_chunks = slot(b, N_CHUNKS);
    let live = slot(b, LIVE);
    let chunk_base = slot(b, CHUNK_BASE);
    let count0 = slot(b, COUNT);
    let selection_ptr = slot(b, SELECTION);
    let state = slot(b, STATE);
    // An ungrouped kernel's state is its aggregates' slots; a grouping one's, the
    // descriptor of its group table.
    let grouping = !kernel.group_keys.is_empty();
    let (accumulators, table) = if grouping {
        (Vec::new(), Some(groups::load(b, state)))
    } else {
        (aggregate::load(b, kernel, state), None)
    };
    let n_in = kernel.inputs.len();
    let io: Vec<Value> = (0..2 * (n_in + kernel.outputs.len()))
        .map(|i| slot(b, IO + i))
        .collect();
    let count = b.declare_var(types::I64);
    b.def_var(count, count0);
    let scratch = kernel
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            schedule.spilled[i].then(|| {
                let bytes = (CHUNK * node.ty.byte_width().max(1)) as u32;
                b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, bytes, 4))
            })
        })
        .collect();
    let fail = b.create_block();
    let kind = b.append_block_param(fail, types::I64);
    let node = b.append_block_param(fail, types::I64);
    let row = b.append_block_param(fail, types::I64);
    let exit = b.create_block();
    let header = b.create_block();
    let c = b.append_block_param(header, types::I64);
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().jump(header, &[BlockArg::Value(zero)]);

    b.switch_to_block(header);
    let body = b.create_block();
    let more = b.ins().icmp(IntCC::UnsignedLessThan, c, n_chunks);
    b.ins().brif(more, body, &[], exit, &[]);
    b.switch_to_block(body);
    b.seal_block(body);
    let next_c = b.ins().iadd_imm_s(c, 1);
    let next = b.create_block();
    let mut chunk = Chunk {
        b,
        kernel,
        s: schedule,
        io,
        n_in,
        live,
        chunk_base,
        selection_ptr,
        c,
        count,
        words: vec![None; kernel.nodes.len()],
        valid: vec![None; kernel.nodes.len()],
        taken: HashMap::new(),
        accs: HashMap::new(),
        scratch,
        fail,
        next,
        selection: None,
        pre_selection: None,
        outside: kernel.outside_selection(),
        accumulators: accumulators.clone(),
        table,
    };
    chunk.run();
    let b = chunk.b;
    b.ins().jump(next, &[]);
    b.switch_to_block(next);
    b.seal_block(next);
    b.ins().jump(header, &[BlockArg::Value(next_c)]);
    b.seal_block(header);

    b.switch_to_block(exit);
    b.seal_block(exit);
    let final_count = b.use_var(count);
    b.ins()
        .store(flags(), final_count, frame, (COUNT * 8) as i32);
    aggregate::store(b, &accumulators, state);
    if let Some(table) = &table {
        groups::store(b, table, state);
    }
    let ok = b.ins().iconst(types::I64, 0);
    b.ins().return_(&[ok]);

    b.switch_to_block(fail);
    b.seal_block(fail);
    b.set_cold_block(fail);
    b.ins().store(flags(), kind, frame, (ERR_KIND * 8) as i32);
    b.ins().store(flags(), node, frame, (ERR_NODE * 8) as i32);
    b.ins().store(flags(), row, frame, (ERR_ROW * 8) as i32);
    let failed = b.ins().iconst(types::I64, 1);
    b.ins().return_(&[failed]);
}

/// The code of one chunk.
struct Chunk<'a, 'b, 'c> {
    b: &'a mut FunctionBuilder<'b>,
    kernel: &'c Kernel,
    s: &'c Schedule,
    io: Vec<Value>,
    n_in: usize,
    live: Value,
    chunk_base: Value,
    selection_ptr: Value,
    /// Index of this chunk within the call.
    c: Value,
    count: Variable,
    words: Vec<Option<Value>>,
    valid: Vec<Option<Value>>,
    /// For each CASE: the word of rows taking each branch, then the rows taking none.
    taken: HashMap<usize, Vec<Value>>,
    /// Accumulators of comparisons packed in a lane loop.
    accs: HashMap<usize, Variable>,
    scratch: Vec<Option<StackSlot>>,
    fail: Block,
    /// Where a chunk whose selection is empty skips to.
    next: Block,
    selection: Option<Value>,
    /// A staged selection's rows kept by its cheap conjuncts (see [`super::staged`]).
    pre_selection: Option<Value>,
    /// Nodes the selection does not depend on (they fail only on kept rows).
    outside: Vec<bool>,
    /// The registers aggregates fold into.
    accumulators: Vec<aggregate::Accumulator>,
    /// The group table a grouping kernel folds into.
    table: Option<groups::Table>,
}

/// The state of a loop over the set bits of a word (see [`Chunk::open_bit_walk`]).
struct BitWalk {
    /// The bits not yet visited.
    w: Value,
    /// The output position of the bit being visited.
    pos: Value,
    /// The bit being visited (its row in the chunk).
    bit: Value,
}

/// One lane-loop iteration: its row offset and lane count, and the values computed so far.
struct Iter {
    r: Value,
    lanes: usize,
    values: HashMap<usize, Value>,
    /// In the loop that writes a filtering kernel's outputs: the output position of row `r`.
    pos: Option<Value>,
}

impl Chunk<'_, '_, '_> {
    fn run(&mut self) {
        self.word_step(-1);
        for k in 0..self.s.loops {
            self.lane_loop(k);
            self.word_step(k as i32);
        }
        self.finish_outputs();
        if self.table.is_some() {
            self.fold_groups();
        } else {
            self.fold_aggregates();
        }
    }

    fn in_values(&self, i: usize) -> Value {
        self.io[2 * i]
    }

    fn in_validity(&self, i: usize) -> Value {
        self.io[2 * i + 1]
    }

    fn out_values(&self, j: usize) -> Value {
        self.io[2 * (self.n_in + j)]
    }

    fn out_validity(&self, j: usize) -> Value {
        self.io[2 * (self.n_in + j) + 1]
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// The 64-bit word at `base + 8 * c` (this chunk's word of a bitmap).
    fn chunk_word(&mut self, base: Value) -> Value {
        let offset = self.b.ins().ishl_imm_s(self.c, 3);
        let addr = self.b.ins().iadd(base, offset);
        self.b.ins().load(types::I64, flags(), addr, 0)
    }

    // ---- word steps -------------------------------------------------------------------

    fn word_step(&mut self, step: i32) {
        if self.s.selection_step == Some(step) {
            // The selection's words first: a chunk that keeps no row skips the others.
            self.words_of_step(step, false);
            self.select(step);
            self.words_of_step(step, true);
        } else {
            self.words_of_step(step, false);
            self.words_of_step(step, true);
        }
        if self.s.is_staged((step + 1) as usize) {
            self.pre_select();
        }
    }

    /// The rows a staged selection's cheap conjuncts keep: live, and each conjunct TRUE.
    fn pre_select(&mut self) {
        let cheap = self.s.staged.as_ref().expect("a staged selection");
        let mut word = self.live;
        for &c in cheap {
            let t = self.true_word(c);
            word = self.b.ins().band(word, t);
        }
        self.pre_selection = Some(word);
    }

    /// The words known after `step` of the nodes outside the selection or (`outside`
    /// false) of the others.
    fn words_of_step(&mut self, step: i32, outside: bool) {
        for index in 0..self.kernel.nodes.len() {
            if self.outside[index] != outside {
                continue;
            }
            let place = self.s.place[index];
            if matches!(self.kernel.nodes[index].op, Op::Case { .. })
                && self.s.taken_step[index] == step
            {
                self.compute_taken(index);
            }
            if place == Place::Word && self.s.word_step[index] == step {
                let w = self.value_word(index);
                self.words[index] = Some(w);
            }
            if place == Place::Compare(step.max(0) as usize) && step >= 0 {
                let acc = self.accs[&index];
                let w = self.b.use_var(acc);
                self.words[index] = Some(w);
            }
            if self.s.valid_step[index] == step {
                let w = self.validity_word(index);
                self.valid[index] = Some(w);
            }
        }
    }

    fn word(&self, id: ValueId) -> Value {
        self.words[id.index()].expect("scheduled: value word computed before use")
    }

    fn ok(&self, id: ValueId) -> Value {
        self.valid[id.index()].expect("scheduled: validity computed before use")
    }

    /// Rows where a boolean node is TRUE (value and valid).
    fn true_word(&mut self, id: ValueId) -> Value {
        let (v, ok) = (self.word(id), self.ok(id));
        self.b.ins().band(v, ok)
    }

    fn value_word(&mut self, index: usize) -> Value {
        let node = &self.kernel.nodes[index];
        match &node.op {
            Op::Load(i) => {
                let base = self.in_values(*i);
                self.chunk_word(base)
            }
            Op::Const(Literal::Bool(true)) => self.iconst(-1),
            Op::Const(_) => self.iconst(0),
            Op::Unary(UnaryOp::Not, a) => {
                let a = self.word(*a);
                self.b.ins().bnot(a)
            }
            Op::Unary(UnaryOp::IsNull, a) => {
                let ok = self.ok(*a);
                self.b.ins().bnot(ok)
            }
            Op::Unary(UnaryOp::IsNotNull, a) => self.ok(*a),
            Op::Binary(BinaryOp::And, a, b) => {
                let (a, b) = (self.word(*a), self.word(*b));
                self.b.ins().band(a, b)
            }
            Op::Binary(BinaryOp::Or, a, b) => {
                let (a, b) = (self.word(*a), self.word(*b));
                self.b.ins().bor(a, b)
            }
            Op::Binary(op, a, b) => {
                let (a, b) = (self.word(*a), self.word(*b));
                self.bool_compare(*op, a, b)
            }
            Op::Case { .. } => self.case_word(index, Self::word),
            op => unreachable!("scheduled as a word: {op:?}"),
        }
    }

    /// A CASE on words: each branch's word (`word_of`: its value bits or its validity)
    /// where that branch is taken, the ELSE's where none is (nothing without an ELSE).
    fn case_word(&mut self, index: usize, word_of: fn(&Self, ValueId) -> Value) -> Value {
        let Op::Case {
            branches,
            otherwise,
        } = &self.kernel.nodes[index].op
        else {
            unreachable!("a CASE node")
        };
        let taken = self.taken[&index].clone();
        let chosen = branches
            .iter()
            .map(|(_, v)| *v)
            .zip(taken.iter().copied())
            .chain(
                otherwise
                    .iter()
                    .map(|e| (*e, *taken.last().expect("taken ends with `none`"))),
            )
            .collect::<Vec<_>>();
        let mut acc = self.iconst(0);
        for (v, t) in chosen {
            let w = word_of(self, v);
            let part = self.b.ins().band(w, t);
            acc = self.b.ins().bor(acc, part);
        }
        acc
    }

    /// Comparisons of booleans (FALSE < TRUE) on whole words.
    fn bool_compare(&mut self, op: BinaryOp, a: Value, b: Value) -> Value {
        let ins = self.b.ins();
        match op {
            BinaryOp::Eq | BinaryOp::TotalEq => {
                let x = ins.bxor(a, b);
                self.b.ins().bnot(x)
            }
            BinaryOp::NotEq => ins.bxor(a, b),
            BinaryOp::Lt => ins.band_not(b, a),
            BinaryOp::LtEq | BinaryOp::TotalLtEq => ins.bor_not(b, a),
            BinaryOp::Gt => ins.band_not(a, b),
            BinaryOp::GtEq | BinaryOp::TotalGtEq => ins.bor_not(a, b),
            other => unreachable!("not a comparison: {other:?}"),
        }
    }

    fn compute_taken(&mut self, index: usize) {
        let Op::Case { branches, .. } = &self.kernel.nodes[index].op else {
            unreachable!()
        };
        let mut before = self.iconst(0);
        let mut taken = Vec::with_capacity(branches.len() + 1);
        for (cond, _) in branches {
            let t = self.true_word(*cond);
            let t = self.b.ins().band_not(t, before);
            before = self.b.ins().bor(before, t);
            taken.push(t);
        }
        let none = self.b.ins().bnot(before);
        taken.push(none);
        self.taken.insert(index, taken);
    }

    fn validity_word(&mut self, index: usize) -> Value {
        let node = &self.kernel.nodes[index];
        match &node.op {
            Op::Load(i) => {
                let ptr = self.in_validity(*i);
                self.chunk_word(ptr)
            }
            Op::Const(Literal::Null) => self.iconst(0),
            Op::Const(_) | Op::Unary(UnaryOp::IsNull | UnaryOp::IsNotNull, _) => self.iconst(-1),
            Op::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b) => {
                let (av, bv, ao, bo) = (self.word(*a), self.word(*b), self.ok(*a), self.ok(*b));
                let both = self.b.ins().band(ao, bo);
                // A known FALSE decides AND, a known TRUE decides OR.
                let (ad, bd) = if *op == BinaryOp::And {
                    (self.b.ins().band_not(ao, av), self.b.ins().band_not(bo, bv))
                } else {
                    (self.b.ins().band(ao, av), self.b.ins().band(bo, bv))
                };
                let either = self.b.ins().bor(ad, bd);
                self.b.ins().bor(both, either)
            }
            Op::Case { .. } => self.case_word(index, Self::ok),
            op => {
                let mut acc = self.iconst(-1);
                for a in op.operands() {
                    let ok = self.ok(a);
                    acc = self.b.ins().band(acc, ok);
                }
                acc
            }
        }
    }

    /// Stores the selection word and skips the rest of the chunk when it is empty.
    fn select(&mut self, _step: i32) {
        let sel = self.kernel.selection.expect("filtering kernel");
        let t = self.true_word(sel);
        let word = self.b.ins().band(t, self.live);
        if self.kernel.aggregates.is_empty() && self.kernel.group_keys.is_empty() {
            // (An aggregating kernel folds the kept rows instead of writing them out.)
            let index = self.b.ins().iadd(self.chunk_base, self.c);
            let offset = self.b.ins().ishl_imm_s(index, 3);
            let addr = self.b.ins().iadd(self.selection_ptr, offset);
            self.b.ins().store(flags(), word, addr, 0);
        }
        let go = self.b.create_block();
        self.b.ins().brif(word, go, &[], self.next, &[]);
        self.b.switch_to_block(go);
        self.b.seal_block(go);
        self.selection = Some(word);
    }

    // ---- lane loops -------------------------------------------------------------------

    fn lane_loop(&mut self, k: usize) {
        let lanes = self.s.lanes[k];
        let sparse = self.s.is_sparse(self.kernel, k);
        for index in 0..self.kernel.nodes.len() {
            if self.s.place[index] == Place::Compare(k) {
                let acc = self.b.declare_var(types::I64);
                let zero = self.iconst(0);
                self.b.def_var(acc, zero);
                self.accs.insert(index, acc);
            }
        }
        let head = self.b.create_block();
        let body = self.b.create_block();
        let done = self.b.create_block();
        // A dense loop counts rows `r` up by `lanes`; a sparse one walks the kept rows: `w`
        // holds those not yet visited, `pos` is the output position of the next.
        let (r, walk) = if sparse {
            let kept = if self.s.is_staged(k) {
                self.pre_selection
                    .expect("the staged loop follows the cheap conjuncts")
            } else {
                self.selection.expect("sparse loops follow the selection")
            };
            let walk = self.open_bit_walk(head, body, kept, done);
            (walk.bit, Some(walk))
        } else {
            let r = self.b.append_block_param(head, types::I64);
            let zero = self.iconst(0);
            self.b.ins().jump(head, &[BlockArg::Value(zero)]);
            self.b.switch_to_block(head);
            let more = self
                .b
                .ins()
                .icmp_imm_s(IntCC::UnsignedLessThan, r, CHUNK as i64);
            self.b.ins().brif(more, body, &[], done, &[]);
            self.b.switch_to_block(body);
            self.b.seal_block(body);
            (r, None)
        };
        let pos = walk.as_ref().map(|w| w.pos);
        let writes_outputs = sparse && k == self.s.output_loop;
        let mut it = Iter {
            r,
            lanes,
            values: HashMap::new(),
            pos: if writes_outputs { pos } else { None },
        };
        for index in 0..self.kernel.nodes.len() {
            match self.s.place[index] {
                Place::Lane(j) if j == k => {
                    let v = self.lane_node(&mut it, index);
                    it.values.insert(index, v);
                    self.store_lane(&it, index, v);
                }
                Place::Compare(j) if j == k => {
                    let mask = self.lane_compare(&mut it, index);
                    self.pack(&it, index, mask);
                }
                _ => {}
            }
        }
        if k == self.s.output_loop {
            for &o in &self.kernel.outputs {
                let here = matches!(self.s.place[o.index()], Place::Lane(j) if j == k);
                let value_output = self.kernel.ty(o) != ScalarType::Bool;
                if !here
                    && value_output
                    && (writes_outputs || self.s.place[o.index()] == Place::Free)
                {
                    let v = self.operand(&mut it, o);
                    self.store_lane(&it, o.index(), v);
                }
            }
        }
        match walk {
            Some(walk) => self.close_bit_walk(head, walk),
            None => {
                let step = self.b.ins().iadd_imm_s(r, lanes as i64);
                self.b.ins().jump(head, &[BlockArg::Value(step)]);
                self.b.seal_block(head);
            }
        }
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// Opens a loop over the set bits of `word`, lowest first: `head` tests what is left,
    /// `body` (current on return) visits one bit, `exit` follows the last. The output
    /// position starts at the row count and goes up by one per bit.
    fn open_bit_walk(&mut self, head: Block, body: Block, word: Value, exit: Block) -> BitWalk {
        let w = self.b.append_block_param(head, types::I64);
        let pos = self.b.append_block_param(head, types::I64);
        let count = self.b.use_var(self.count);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(word), BlockArg::Value(count)]);
        self.b.switch_to_block(head);
        self.b.ins().brif(w, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let bit = self.b.ins().ctz(w);
        BitWalk { w, pos, bit }
    }

    /// Ends the body of a bit walk: on to the next bit.
    fn close_bit_walk(&mut self, head: Block, walk: BitWalk) {
        let w1 = self.b.ins().iadd_imm_s(walk.w, -1);
        let rest = self.b.ins().band(walk.w, w1);
        let pos1 = self.b.ins().iadd_imm_s(walk.pos, 1);
        self.b
            .ins()
            .jump(head, &[BlockArg::Value(rest), BlockArg::Value(pos1)]);
        self.b.seal_block(head);
    }

    fn lane_type(&self, ty: ScalarType, lanes: usize) -> Type {
        let t = clif_type(ty);
        if lanes == 1 {
            t
        } else {
            t.by(lanes as u32).expect("128-bit vector")
        }
    }

    fn width(&self, index: usize) -> i64 {
        self.kernel.nodes[index].ty.byte_width() as i64
    }

    /// Spills a lane value for later loops and writes it out where it is an output.
    fn store_lane(&mut self, it: &Iter, index: usize, v: Value) {
        let width = self.width(index);
        let offset = self.b.ins().imul_imm_s(it.r, width);
        if let Some(slot) = self.scratch[index] {
            let base = self.b.ins().stack_addr(types::I64, slot, 0);
            let addr = self.b.ins().iadd(base, offset);
            self.b.ins().store(flags(), v, addr, 0);
        }
        let row = match (self.kernel.selection, it.pos) {
            (Some(_), Some(pos)) => pos,
            (Some(_), None) => return,
            (None, _) => {
                let count = self.b.use_var(self.count);
                self.b.ins().iadd(count, it.r)
            }
        };
        for j in 0..self.kernel.outputs.len() {
            if self.kernel.outputs[j].index() == index {
                let at = self.b.ins().imul_imm_s(row, width);
                let out = self.out_values(j);
                let addr = self.b.ins().iadd(out, at);
                self.b.ins().store(flags(), v, addr, 0);
            }
        }
    }

    /// The value of an operand inside a lane loop.
    fn operand(&mut self, it: &mut Iter, id: ValueId) -> Value {
        if let Some(v) = it.values.get(&id.index()) {
            return *v;
        }
        let node = &self.kernel.nodes[id.index()];
        let ty = self.lane_type(node.ty, it.lanes);
        let v = match (&node.op, self.s.place[id.index()]) {
            (Op::Load(i), Place::Free) => {
                let width = node.ty.byte_width() as i64;
                let chunk_off = self.b.ins().imul_imm_s(self.c, CHUNK as i64 * width);
                let row_off = self.b.ins().imul_imm_s(it.r, width);
                let base = self.in_values(*i);
                let addr = self.b.ins().iadd(base, chunk_off);
                let addr = self.b.ins().iadd(addr, row_off);
                self.b.ins().load(ty, flags(), addr, 0)
            }
            (Op::Const(literal), Place::Free) => self.constant(*literal, node.ty, it.lanes),
            (_, Place::Lane(_)) => {
                let slot = self.scratch[id.index()].expect("scheduled: spilled across loops");
                let offset = self.b.ins().imul_imm_s(it.r, node.ty.byte_width() as i64);
                let base = self.b.ins().stack_addr(types::I64, slot, 0);
                let addr = self.b.ins().iadd(base, offset);
                self.b.ins().load(ty, flags(), addr, 0)
            }
            (op, place) => unreachable!("not a lane operand: {op:?} at {place:?}"),
        };
        it.values.insert(id.index(), v);
        v
    }

    fn constant(&mut self, literal: Literal, ty: ScalarType, lanes: usize) -> Value {
        let scalar = match (literal, ty) {
            (Literal::F64(bits), _) => self.b.ins().f64const(f64::from_bits(bits)),
            (Literal::F32(bits), _) => self.b.ins().f32const(f32::from_bits(bits)),
            (Literal::Int(v), _) if clif_type(ty) == types::I128 => self.const128(v),
            (Literal::Int(v), _) => {
                let t = clif_type(ty);
                // Narrow immediates are written zero-extended.
                let bits = if t.bits() < 64 {
                    (v as i64) & ((1i64 << t.bits()) - 1)
                } else {
                    v as i64
                };
                self.b.ins().iconst(t, bits)
            }
            (_, ScalarType::F64) => self.b.ins().f64const(0.0),
            (_, ScalarType::F32) => self.b.ins().f32const(0.0),
            _ if clif_type(ty) == types::I128 => self.const128(0),
            _ => self.b.ins().iconst(clif_type(ty), 0),
        };
        self.splat(scalar, ty, lanes)
    }

    fn splat(&mut self, scalar: Value, ty: ScalarType, lanes: usize) -> Value {
        if lanes == 1 {
            scalar
        } else {
            let vt = self.lane_type(ty, lanes);
            self.b.ins().splat(vt, scalar)
        }
    }

    /// The bits of `word` for this iteration's rows, as a select condition: an i64 0/1
    /// (one lane) or an all-ones/zero I64X2 mask (two lanes).
    fn word_bits(&mut self, it: &Iter, word: Value) -> Value {
        let shifted = self.b.ins().ushr(word, it.r);
        if it.lanes == 1 {
            return self.b.ins().band_imm_s(shifted, 1);
        }
        let v = self.b.ins().splat(types::I64X2, shifted);
        let mut bytes = Vec::with_capacity(16);
        bytes.extend_from_slice(&1u64.to_le_bytes());
        bytes.extend_from_slice(&2u64.to_le_bytes());
        let handle = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
        let lane_bits = self.b.ins().vconst(types::I64X2, handle);
        let picked = self.b.ins().band(v, lane_bits);
        let zero = self.b.ins().iconst(types::I64, 0);
        let zeros = self.b.ins().splat(types::I64X2, zero);
        self.b.ins().icmp(IntCC::NotEqual, picked, zeros)
    }

    /// Picks `a` where `cond` (from [`Self::word_bits`] or a comparison) is set, else `b`.
    fn pick(&mut self, it: &Iter, cond: Value, a: Value, b: Value) -> Value {
        if it.lanes == 1 {
            return self.b.ins().select(cond, a, b);
        }
        let ty = self.b.func.dfg.value_type(a);
        let mask = if self.b.func.dfg.value_type(cond) == ty {
            cond
        } else {
            self.b.ins().bitcast(ty, MemFlagsData::new(), cond)
        };
        self.b.ins().bitselect(mask, a, b)
    }

    /// Adds a comparison's result for this iteration's rows to its packed word.
    fn pack(&mut self, it: &Iter, index: usize, cond: Value) {
        let bits = if it.lanes == 1 {
            self.b.ins().uextend(types::I64, cond)
        } else {
            self.b.ins().vhigh_bits(types::I64, cond)
        };
        let shifted = self.b.ins().ishl(bits, it.r);
        let acc = self.accs[&index];
        let old = self.b.use_var(acc);
        let new = self.b.ins().bor(old, shifted);
        self.b.def_var(acc, new);
    }

    fn lane_compare(&mut self, it: &mut Iter, index: usize) -> Value {
        let Op::Binary(op, a, b) = self.kernel.nodes[index].op else {
            unreachable!("scheduled as a comparison")
        };
        let ty = self.kernel.ty(a);
        let (x, y) = (self.operand(it, a), self.operand(it, b));
        if ty.is_float() {
            let sql = !matches!(
                op,
                BinaryOp::TotalEq | BinaryOp::TotalLtEq | BinaryOp::TotalGtEq
            );
            let kx = self.compare_key(it, (a, x), b, ty, sql);
            let ky = self.compare_key(it, (b, y), a, ty, sql);
            self.b.ins().icmp(int_cc(op, true), kx, ky)
        } else {
            self.b.ins().icmp(int_cc(op, !ty.is_unsigned_int()), x, y)
        }
    }

    /// The order key of a float operand (node, value) compared with node `other`: computed
    /// here for a constant; for a value compared with a constant other than ±0, without
    /// folding -0.0 into 0.0 (both zeros lie on the same side of such a constant).
    fn compare_key(
        &mut self,
        it: &Iter,
        (id, x): (ValueId, Value),
        other: ValueId,
        ty: ScalarType,
        sql: bool,
    ) -> Value {
        let bits_ty = if ty == ScalarType::F32 {
            ScalarType::I32
        } else {
            ScalarType::I64
        };
        if let Some(bits) = self.float_bits(id) {
            let key = order_key_of_bits(bits, ty.bits(), sql);
            // Narrow immediates are written zero-extended.
            let key = key & (u64::MAX >> (64 - ty.bits())) as i64;
            let k = self.b.ins().iconst(clif_type(bits_ty), key);
            return self.splat(k, bits_ty, it.lanes);
        }
        let other_is_zero = self
            .float_bits(other)
            .is_none_or(|bits| bits << (65 - ty.bits()) == 0);
        self.order_key(it, x, ty, sql && other_is_zero)
    }

    /// The bits of a float constant node (0 for a NULL one, whose value is never used).
    fn float_bits(&self, id: ValueId) -> Option<u64> {
        match self.kernel.nodes[id.index()].op {
            Op::Const(Literal::F64(bits)) => Some(bits),
            Op::Const(Literal::F32(bits)) => Some(bits as u64),
            Op::Const(Literal::Null) => Some(0),
            _ => None,
        }
    }

    /// An integer whose signed order is IEEE total order of the float `x`; SQL comparisons
    /// first turn -0.0 into 0.0.
    fn order_key(&mut self, it: &Iter, x: Value, ty: ScalarType, sql: bool) -> Value {
        let x = if sql {
            let zero = self.constant(Literal::Null, ty, it.lanes);
            let is_zero = self.b.ins().fcmp(FloatCC::Equal, x, zero);
            self.pick(it, is_zero, zero, x)
        } else {
            x
        };
        let bits_ty = self.lane_type(
            if ty == ScalarType::F32 {
                ScalarType::I32
            } else {
                ScalarType::I64
            },
            it.lanes,
        );
        let bits = self.b.ins().bitcast(bits_ty, MemFlagsData::new(), x);
        let sign = self.b.ins().sshr_imm_s(bits, ty.bits() as i64 - 1);
        let magnitude_flip = self.b.ins().ushr_imm_s(sign, 1);
        self.b.ins().bxor(bits, magnitude_flip)
    }

    /// Computes a non-boolean node for this iteration's rows.
    fn lane_node(&mut self, it: &mut Iter, index: usize) -> Value {
        let node = self.kernel.nodes[index].clone();
        let ty = node.ty;
        match &node.op {
            Op::Unary(op, a) => {
                let x = self.operand(it, *a);
                self.unary(it, index, *op, ty, x)
            }
            Op::Binary(op, a, b) => {
                let (x, y) = (self.operand(it, *a), self.operand(it, *b));
                self.arith(it, index, *op, ty, x, y)
            }
            Op::Cast(a) => {
                let x = self.operand(it, *a);
                self.cast(it, index, self.kernel.ty(*a), ty, x)
            }
            Op::Case {
                branches,
                otherwise,
            } => {
                let taken = self.taken[&index].clone();
                let mut acc = match otherwise {
                    Some(e) => self.operand(it, *e),
                    None => self.constant(Literal::Null, ty, it.lanes),
                };
                for ((_, v), t) in branches.iter().zip(&taken).rev() {
                    let v = self.operand(it, *v);
                    let cond = self.word_bits(it, *t);
                    acc = self.pick(it, cond, v, acc);
                }
                acc
            }
            op => unreachable!("not a lane node: {op:?}"),
        }
    }

    fn unary(&mut self, it: &Iter, index: usize, op: UnaryOp, ty: ScalarType, x: Value) -> Value {
        let ins = self.b.ins();
        if ty.is_float() {
            return match op {
                UnaryOp::Neg => ins.fneg(x),
                UnaryOp::Abs => ins.fabs(x),
                UnaryOp::Floor => ins.floor(x),
                UnaryOp::Ceil => ins.ceil(x),
                UnaryOp::Round => self.round(it, x, ty),
                UnaryOp::Sqrt => {
                    let zero = self.constant(Literal::Null, ty, it.lanes);
                    let negative = self.b.ins().fcmp(FloatCC::LessThan, x, zero);
                    self.check(it, index, negative, KIND_NEGATIVE_SQRT);
                    self.b.ins().sqrt(x)
                }
                other => unreachable!("validated: {other:?} on a float"),
            };
        }
        match op {
            UnaryOp::Neg if decimal_parts(ty).is_some() => {
                let min = self.const128(i128::MIN);
                let is_min = self.b.ins().icmp(IntCC::Equal, x, min);
                self.check(it, index, is_min, KIND_OVERFLOW);
                self.b.ins().ineg(x)
            }
            UnaryOp::Neg if ty.is_integer() && ty.is_signed_int() => {
                let (min, _) = int_range(ty).expect("integer");
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, min as i64);
                self.check(it, index, is_min, KIND_OVERFLOW);
                self.b.ins().ineg(x)
            }
            UnaryOp::Neg => ins.ineg(x),
            UnaryOp::Abs if ty.is_signed_int() => {
                let (min, _) = int_range(ty).expect("integer");
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, min as i64);
                self.check(it, index, is_min, KIND_OVERFLOW);
                self.b.ins().iabs(x)
            }
            UnaryOp::Abs => x,
            other => unreachable!("validated: {other:?} on an integer"),
        }
    }

    /// Round half away from zero: truncate, then step away from zero when the dropped
    /// fraction is at least one half.
    fn round(&mut self, it: &Iter, x: Value, ty: ScalarType) -> Value {
        let t = self.b.ins().trunc(x);
        let frac = self.b.ins().fsub(x, t);
        let frac = self.b.ins().fabs(frac);
        let half = if ty == ScalarType::F32 {
            Literal::f32(0.5)
        } else {
            Literal::f64(0.5)
        };
        let one = if ty == ScalarType::F32 {
            Literal::f32(1.0)
        } else {
            Literal::f64(1.0)
        };
        let half = self.constant(half, ty, it.lanes);
        let one = self.constant(one, ty, it.lanes);
        let away = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, frac, half);
        let step = self.copy_sign(it, one, x, ty);
        let up = self.b.ins().fadd(t, step);
        self.pick(it, away, up, t)
    }

    /// `magnitude` with the sign of `x`, by bits (vector copysign is not lowered everywhere).
    fn copy_sign(&mut self, it: &Iter, magnitude: Value, x: Value, ty: ScalarType) -> Value {
        let int = if ty == ScalarType::F32 {
            ScalarType::I32
        } else {
            ScalarType::I64
        };
        let bits_ty = self.lane_type(int, it.lanes);
        let float_ty = self.lane_type(ty, it.lanes);
        let xb = self.b.ins().bitcast(bits_ty, MemFlagsData::new(), x);
        let mb = self
            .b
            .ins()
            .bitcast(bits_ty, MemFlagsData::new(), magnitude);
        let sign_bit = self.b.ins().iconst(clif_type(int), 1i64 << (ty.bits() - 1));
        let sign_bit = self.splat(sign_bit, int, it.lanes);
        let sign = self.b.ins().band(xb, sign_bit);
        let joined = self.b.ins().bor(mb, sign);
        self.b.ins().bitcast(float_ty, MemFlagsData::new(), joined)
    }

    fn arith(
        &mut self,
        it: &Iter,
        index: usize,
        op: BinaryOp,
        ty: ScalarType,
        x: Value,
        y: Value,
    ) -> Value {
        if let Some((_, s)) = decimal_parts(ty) {
            let Op::Binary(_, a, b) = self.kernel.nodes[index].op else {
                unreachable!("a binary node")
            };
            let scale = |t| decimal_parts(t).map_or(0, |(_, s)| s);
            let scales = (scale(self.kernel.ty(a)), scale(self.kernel.ty(b)), s);
            let known = |id: ValueId| match self.kernel.nodes[id.index()].op {
                Op::Const(Literal::Int(v)) => Some(v),
                _ => None,
            };
            let operands = [(x, known(a)), (y, known(b))];
            return self.decimal_arith(it, index, op, scales, operands);
        }
        let ins = self.b.ins();
        if ty.is_float() {
            return match op {
                BinaryOp::Add => ins.fadd(x, y),
                BinaryOp::Sub => ins.fsub(x, y),
                BinaryOp::Mul => ins.fmul(x, y),
                BinaryOp::Div => ins.fdiv(x, y),
                other => unreachable!("supported: {other:?} on floats"),
            };
        }
        match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => self.checked(it, index, op, ty, x, y),
            BinaryOp::Div | BinaryOp::Rem => self.divide(it, index, op, ty, x, y),
            other => unreachable!("validated: {other:?} is arithmetic"),
        }
    }

    /// Integer + − × that fail on overflow (corepy's checked arithmetic); the wrapped
    /// result where the failure is not raised. The hardware's overflow flag, no widening.
    fn checked(
        &mut self,
        it: &Iter,
        index: usize,
        op: BinaryOp,
        ty: ScalarType,
        x: Value,
        y: Value,
    ) -> Value {
        let ins = self.b.ins();
        let (result, overflow) = match (op, ty.is_signed_int()) {
            (BinaryOp::Add, true) => ins.sadd_overflow(x, y),
            (BinaryOp::Add, false) => ins.uadd_overflow(x, y),
            (BinaryOp::Sub, true) => ins.ssub_overflow(x, y),
            (BinaryOp::Sub, false) => ins.usub_overflow(x, y),
            (BinaryOp::Mul, true) => ins.smul_overflow(x, y),
            (_, false) => ins.umul_overflow(x, y),
            (other, _) => unreachable!("not checked: {other:?}"),
        };
        self.check(it, index, overflow, KIND_OVERFLOW);
        result
    }

    /// Integer ÷ and %: a zero divisor fails; `MIN / -1` overflows; `MIN % -1` is 0. The
    /// hardware divides by 1 instead of a bad divisor so that it never traps.
    fn divide(
        &mut self,
        it: &Iter,
        index: usize,
        op: BinaryOp,
        ty: ScalarType,
        x: Value,
        y: Value,
    ) -> Value {
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
        let signed = ty.is_signed_int();
        let minus_one = if signed {
            self.b.ins().icmp_imm_s(IntCC::Equal, y, -1)
        } else {
            self.b.ins().iconst(types::I8, 0)
        };
        let (min, _) = int_range(ty).expect("integer");
        let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, min as i64);
        let overflow = self.b.ins().band(is_min, minus_one);
        if op == BinaryOp::Div {
            let bad = self.b.ins().bor(zero, overflow);
            let kind_zero = self.b.ins().iconst(types::I64, KIND_DIVIDE_BY_ZERO);
            let kind_over = self.b.ins().iconst(types::I64, KIND_OVERFLOW);
            let kind = self.b.ins().select(zero, kind_zero, kind_over);
            self.check_kind(it, index, bad, kind);
        } else {
            self.check(it, index, zero, KIND_DIVIDE_BY_ZERO);
        }
        let replace = self.b.ins().bor(zero, minus_one);
        let one = self.b.ins().iconst(clif_type(ty), 1);
        let divisor = self.b.ins().select(replace, one, y);
        let q = match (op, signed) {
            (BinaryOp::Div, true) => self.b.ins().sdiv(x, divisor),
            (BinaryOp::Div, false) => self.b.ins().udiv(x, divisor),
            (_, true) => self.b.ins().srem(x, divisor),
            (_, false) => self.b.ins().urem(x, divisor),
        };
        if op == BinaryOp::Div && signed {
            // x / -1 was computed as x / 1: negate (wrapping; MIN has failed above).
            let negated = self.b.ins().ineg(q);
            self.b.ins().select(minus_one, negated, q)
        } else {
            q
        }
    }

    fn check(&mut self, it: &Iter, index: usize, cond: Value, kind: i64) {
        let kind = self.b.ins().iconst(types::I64, kind);
        self.check_kind(it, index, cond, kind);
    }

    /// Jumps to the failure exit when `cond` (i8) holds on a row where the node's operands
    /// are valid, its guard is TRUE and the row exists.
    fn check_kind(&mut self, it: &Iter, index: usize, cond: Value, kind: Value) {
        debug_assert_eq!(it.lanes, 1, "failing operations run one row at a time");
        let node = &self.kernel.nodes[index];
        let mut gate = self.live;
        for a in node.op.operands() {
            let ok = self.ok(a);
            gate = self.b.ins().band(gate, ok);
        }
        if let Some(g) = node.guard {
            let t = self.true_word(g);
            gate = self.b.ins().band(gate, t);
        }
        if self.outside[index] {
            let kept = self.selection.expect("scheduled after the selection");
            gate = self.b.ins().band(gate, kept);
        }
        let bit = self.word_bits(it, gate);
        let cond = self.b.ins().uextend(types::I64, cond);
        let fails = self.b.ins().band(cond, bit);
        self.fail_if(it, fails, kind, index);
    }

    /// Leaves for the failure exit when `fails` is non-zero, reporting `kind`, `node` (an
    /// index past the nodes: an aggregate) and this iteration's row of the batch.
    fn fail_if(&mut self, it: &Iter, fails: Value, kind: Value, node: usize) {
        let chunk = self.b.ins().iadd(self.chunk_base, self.c);
        let row = self.b.ins().imul_imm_s(chunk, CHUNK as i64);
        let row = self.b.ins().iadd(row, it.r);
        let node_id = self.b.ins().iconst(types::I64, node as i64);
        let go = self.b.create_block();
        self.b.ins().brif(
            fails,
            self.fail,
            &[
                BlockArg::Value(kind),
                BlockArg::Value(node_id),
                BlockArg::Value(row),
            ],
            go,
            &[],
        );
        self.b.switch_to_block(go);
        self.b.seal_block(go);
    }

    fn cast(
        &mut self,
        it: &Iter,
        index: usize,
        from: ScalarType,
        to: ScalarType,
        x: Value,
    ) -> Value {
        if decimal_parts(to).is_some() {
            return self.cast_to_decimal(it, index, from, to, x);
        }
        if decimal_parts(from).is_some() {
            return self.decimal_to_float(from, to, x);
        }
        let (ft, tt) = (clif_type(from), clif_type(to));
        match (from.is_float(), to.is_float()) {
            (true, true) if ft == tt => x,
            (true, true) if to == ScalarType::F64 => self.b.ins().fpromote(tt, x),
            (true, true) => self.b.ins().fdemote(tt, x),
            (false, true) => {
                let wide = self.extend64(x, from);
                if from.is_unsigned_int() {
                    self.b.ins().fcvt_from_uint(tt, wide)
                } else {
                    self.b.ins().fcvt_from_sint(tt, wide)
                }
            }
            (true, false) => self.float_to_int(it, index, from, to, x),
            (false, false) => self.int_to_int(it, index, from, to, x),
        }
    }

    fn extend64(&mut self, x: Value, from: ScalarType) -> Value {
        if clif_type(from) == types::I64 {
            x
        } else if from.is_unsigned_int() {
            self.b.ins().uextend(types::I64, x)
        } else {
            self.b.ins().sextend(types::I64, x)
        }
    }

    /// A float to an integer: truncates; NaN, ±inf and values out of range fail (and give
    /// 0 where the failure is not raised).
    fn float_to_int(
        &mut self,
        it: &Iter,
        index: usize,
        from: ScalarType,
        to: ScalarType,
        x: Value,
    ) -> Value {
        let (lo, hi) = int_range(to).expect("integer target");
        let float = |b: &mut FunctionBuilder<'_>, v: i128| {
            if from == ScalarType::F32 {
                b.ins().f32const(v as f32)
            } else {
                b.ins().f64const(v as f64)
            }
        };
        let exact = |v: i128| {
            if from == ScalarType::F32 {
                (v as f32) as i128 == v
            } else {
                (v as f64) as i128 == v
            }
        };
        let lo_ok = if exact(lo - 1) {
            let bound = float(self.b, lo - 1);
            self.b.ins().fcmp(FloatCC::GreaterThan, x, bound)
        } else {
            let bound = float(self.b, lo);
            self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, bound)
        };
        let bound = float(self.b, hi + 1);
        let hi_ok = self.b.ins().fcmp(FloatCC::LessThan, x, bound);
        let ok = self.b.ins().band(lo_ok, hi_ok);
        let bad = self.b.ins().bxor_imm_s(ok, 1);
        self.check(it, index, bad, KIND_OVERFLOW);
        let zero = float(self.b, 0);
        let safe = self.b.ins().select(ok, x, zero);
        let wide = if to == ScalarType::U64 {
            self.b.ins().fcvt_to_uint(types::I64, safe)
        } else {
            self.b.ins().fcvt_to_sint(types::I64, safe)
        };
        let tt = clif_type(to);
        if tt == types::I64 {
            wide
        } else {
            self.b.ins().ireduce(tt, wide)
        }
    }

    /// An integer to an integer: fails when the value is out of the target's range (and
    /// keeps the low bits where the failure is not raised).
    fn int_to_int(
        &mut self,
        it: &Iter,
        index: usize,
        from: ScalarType,
        to: ScalarType,
        x: Value,
    ) -> Value {
        let (flo, fhi) = int_range(from).expect("integer source");
        let (tlo, thi) = int_range(to).expect("integer target");
        let signed = !from.is_unsigned_int();
        let mut bad = self.b.ins().iconst(types::I8, 0);
        if tlo > flo {
            let cc = if signed {
                IntCC::SignedLessThan
            } else {
                IntCC::UnsignedLessThan
            };
            let below = self.b.ins().icmp_imm_s(cc, x, tlo as i64);
            bad = self.b.ins().bor(bad, below);
        }
        if thi < fhi {
            let cc = if signed {
                IntCC::SignedGreaterThan
            } else {
                IntCC::UnsignedGreaterThan
            };
            let above = self.b.ins().icmp_imm_s(cc, x, thi as i64);
            bad = self.b.ins().bor(bad, above);
        }
        if tlo > flo || thi < fhi {
            self.check(it, index, bad, KIND_OVERFLOW);
        }
        let (ft, tt) = (clif_type(from), clif_type(to));
        if ft.bits() > tt.bits() {
            self.b.ins().ireduce(tt, x)
        } else if ft.bits() < tt.bits() {
            if signed {
                self.b.ins().sextend(tt, x)
            } else {
                self.b.ins().uextend(tt, x)
            }
        } else {
            x
        }
    }

    // ---- outputs ----------------------------------------------------------------------

    fn finish_outputs(&mut self) {
        match self.selection {
            None => self.write_words(),
            Some(sel) if self.kernel.outputs.is_empty() => {
                let kept = self.b.ins().popcnt(sel);
                let count = self.b.use_var(self.count);
                let count = self.b.ins().iadd(count, kept);
                self.b.def_var(self.count, count);
            }
            Some(sel) => self.compact(sel),
        }
    }

    /// Without a filter: the chunk's validity (and boolean) words go out whole.
    fn write_words(&mut self) {
        let count = self.b.use_var(self.count);
        let byte = self.b.ins().ushr_imm_s(count, 3);
        for j in 0..self.kernel.outputs.len() {
            let o = self.kernel.outputs[j];
            let ok = self.ok(o);
            let addr = self.out_validity(j);
            let addr = self.b.ins().iadd(addr, byte);
            self.b.ins().store(flags(), ok, addr, 0);
            if self.kernel.ty(o) == ScalarType::Bool {
                let w = self.word(o);
                let addr = self.out_values(j);
                let addr = self.b.ins().iadd(addr, byte);
                self.b.ins().store(flags(), w, addr, 0);
            }
        }
        let next = self.b.ins().iadd_imm_s(count, CHUNK as i64);
        self.b.def_var(self.count, next);
    }

    /// With a filter: each kept row's validity (and boolean) bits go to its output position.
    fn compact(&mut self, sel: Value) {
        let done = self.b.create_block();
        let bit_by_bit = self.b.create_block();
        self.append_all_valid(sel, bit_by_bit, done);
        self.b.switch_to_block(bit_by_bit);
        self.b.seal_block(bit_by_bit);
        let head = self.b.create_block();
        let body = self.b.create_block();
        let walked = self.b.create_block();
        let walk = self.open_bit_walk(head, body, sel, walked);
        let (i, pos) = (walk.bit, walk.pos);
        // The values were written by the last loop; the bits are known only now.
        for j in 0..self.kernel.outputs.len() {
            let o = self.kernel.outputs[j];
            let ok = self.ok(o);
            let out_validity = self.out_validity(j);
            self.copy_bit(ok, i, out_validity, pos);
            if self.kernel.ty(o) == ScalarType::Bool {
                let word = self.word(o);
                let out = self.out_values(j);
                self.copy_bit(word, i, out, pos);
            }
        }
        self.close_bit_walk(head, walk);
        self.b.switch_to_block(walked);
        self.b.seal_block(walked);
        self.b.def_var(self.count, pos);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
    }

    /// Where every output is valid on every kept row (the common case), appends that many
    /// ones to each output's validity with a word or two and jumps to `done`; otherwise (or
    /// with a boolean output, whose value bits need compacting too) jumps to `otherwise`.
    fn append_all_valid(&mut self, sel: Value, otherwise: Block, done: Block) {
        let outputs = self.kernel.outputs.clone();
        if outputs
            .iter()
            .any(|o| self.kernel.ty(*o) == ScalarType::Bool)
        {
            self.b.ins().jump(otherwise, &[]);
            return;
        }
        let mut all = self.b.ins().iconst(types::I8, 1);
        for o in &outputs {
            let ok = self.ok(*o);
            let kept_ok = self.b.ins().band(ok, sel);
            let same = self.b.ins().icmp(IntCC::Equal, kept_ok, sel);
            all = self.b.ins().band(all, same);
        }
        let fast = self.b.create_block();
        self.b.ins().brif(all, fast, &[], otherwise, &[]);
        self.b.switch_to_block(fast);
        self.b.seal_block(fast);
        // `sel` is not zero here (empty chunks were skipped), so 1 <= n <= 64.
        let n = self.b.ins().popcnt(sel);
        let all_ones = self.iconst(-1);
        let sixty_four = self.iconst(64);
        let unused = self.b.ins().isub(sixty_four, n);
        let ones = self.b.ins().ushr(all_ones, unused);
        let pos = self.b.use_var(self.count);
        for j in 0..outputs.len() {
            let bitmap = self.out_validity(j);
            self.or_bits_at(bitmap, pos, ones, n);
        }
        let next = self.b.ins().iadd(pos, n);
        self.b.def_var(self.count, next);
        self.b.ins().jump(done, &[]);
    }

    /// ORs the `n` low bits of `bits` into a bitmap at bit `pos`: into the word holding
    /// `pos`, and the next one where they run past it.
    fn or_bits_at(&mut self, bitmap: Value, pos: Value, bits: Value, n: Value) {
        let word = self.b.ins().ushr_imm_s(pos, 6);
        let offset = self.b.ins().ishl_imm_s(word, 3);
        let addr = self.b.ins().iadd(bitmap, offset);
        let shift = self.b.ins().band_imm_s(pos, 63);
        let low = self.b.ins().ishl(bits, shift);
        let old = self.b.ins().load(types::I64, flags(), addr, 0);
        let new = self.b.ins().bor(old, low);
        self.b.ins().store(flags(), new, addr, 0);
        let end = self.b.ins().iadd(shift, n);
        let spills = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThan, end, 64);
        let spill = self.b.create_block();
        let after = self.b.create_block();
        self.b.ins().brif(spills, spill, &[], after, &[]);
        self.b.switch_to_block(spill);
        self.b.seal_block(spill);
        // 1 <= shift here: the bits past the first word.
        let sixty_four = self.iconst(64);
        let back = self.b.ins().isub(sixty_four, shift);
        let high = self.b.ins().ushr(bits, back);
        let old = self.b.ins().load(types::I64, flags(), addr, 8);
        let new = self.b.ins().bor(old, high);
        self.b.ins().store(flags(), new, addr, 8);
        self.b.ins().jump(after, &[]);
        self.b.switch_to_block(after);
        self.b.seal_block(after);
    }

    /// ORs bit `i` of `word` into bit `pos` of a zeroed bitmap.
    fn copy_bit(&mut self, word: Value, i: Value, bitmap: Value, pos: Value) {
        let bit = self.b.ins().ushr(word, i);
        let bit = self.b.ins().band_imm_s(bit, 1);
        let shift = self.b.ins().band_imm_s(pos, 7);
        let bit = self.b.ins().ishl(bit, shift);
        let byte = self.b.ins().ushr_imm_s(pos, 3);
        let addr = self.b.ins().iadd(bitmap, byte);
        let old = self.b.ins().uload8(types::I64, flags(), addr, 0);
        let new = self.b.ins().bor(old, bit);
        self.b.ins().istore8(flags(), new, addr, 0);
    }
}

/// [`Chunk::order_key`] of a constant of `width` bits, as the immediate of an integer of
/// that width (sign-extended to i64).
fn order_key_of_bits(bits: u64, width: u32, sql: bool) -> i64 {
    let shift = 64 - width;
    // The value in the high bits of an i64, so that shifts see its sign.
    let mut v = (bits << shift) as i64;
    if sql && v << 1 == 0 {
        v = 0;
    }
    let key = v ^ (((v >> 63) as u64) >> 1) as i64;
    key >> shift
}

fn int_cc(op: BinaryOp, signed: bool) -> IntCC {
    match (op, signed) {
        (BinaryOp::Eq | BinaryOp::TotalEq, _) => IntCC::Equal,
        (BinaryOp::NotEq, _) => IntCC::NotEqual,
        (BinaryOp::Lt, true) => IntCC::SignedLessThan,
        (BinaryOp::Lt, false) => IntCC::UnsignedLessThan,
        (BinaryOp::LtEq | BinaryOp::TotalLtEq, true) => IntCC::SignedLessThanOrEqual,
        (BinaryOp::LtEq | BinaryOp::TotalLtEq, false) => IntCC::UnsignedLessThanOrEqual,
        (BinaryOp::Gt, true) => IntCC::SignedGreaterThan,
        (BinaryOp::Gt, false) => IntCC::UnsignedGreaterThan,
        (BinaryOp::GtEq | BinaryOp::TotalGtEq, true) => IntCC::SignedGreaterThanOrEqual,
        (BinaryOp::GtEq | BinaryOp::TotalGtEq, false) => IntCC::UnsignedGreaterThanOrEqual,
        (other, _) => unreachable!("not a comparison: {other:?}"),
    }
}
