//! The skeleton of a row kernel (a fused SQL stage): blocks take *tiles* of [`BLOCK`] rows,
//! one row a thread, tile after tile; bitmaps (validity, booleans) are written a warp's
//! 32-bit word at a time from a ballot, so no two threads write one word.
//!
//! A kernel without a selection is one entry. A filtering kernel is two, run one after the
//! other over the same tiles, so that kept rows come out in row order:
//! - `<name>_count` computes what the selection needs and adds each tile's kept rows into
//!   `tile_counts[tile]` (zeroed by the caller);
//! - the caller turns the counts into exclusive prefix sums, `tile_offsets`;
//! - `<name>` computes everything, ranks each kept row in its tile (the ballot's bits below
//!   the lane, plus the kept rows of the warps before it, through shared memory) and writes
//!   it at `tile_offsets[tile] + rank`. Compacted bits are set with `red.or`, as rows of two
//!   warps may share a word.
//!
//! Failures (division by zero, overflow, a negative square root) are reported through
//! `failure`, a u64 the caller sets to `u64::MAX`: each failing row lowers it atomically to
//! `row << 24 | node << 4 | kind`, so the caller reads the first failing row.

use super::node::{class_of, Lower, Raise, Value};
use super::text::{Class, Code, Reg, BLOCK};
use super::tiles::{thread_index, TileLoop};
use super::{EntrySignature, Param, FAILURE_NODE_BITS};
use crate::abi::FailureKind;
use crate::ir::{Kernel, Op, ScalarType, ValueId};

/// Which of the entries of a row kernel is being rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The whole kernel, no selection.
    All,
    /// A filter's first pass: count kept rows per tile.
    Count,
    /// A filter's second pass: compute and write the kept rows.
    Write,
}

/// Renders one entry of `kernel`.
pub fn render_entry(
    kernel: &Kernel,
    name: &str,
    pass: Pass,
) -> Result<(String, EntrySignature), String> {
    let mut params = Vec::new();
    for i in 0..kernel.inputs.len() {
        params.push(Param::InputValues(i));
        params.push(Param::InputValidity(i));
    }
    if pass != Pass::Count {
        for o in 0..kernel.outputs.len() {
            params.push(Param::OutputValues(o));
            params.push(Param::OutputValidity(o));
        }
    }
    match pass {
        Pass::All => {}
        Pass::Count => params.push(Param::TileCounts),
        Pass::Write => {
            params.push(Param::Selection);
            params.push(Param::TileOffsets);
        }
    }
    params.push(Param::Rows);
    params.push(Param::Failure);

    let mut r = Render::start(kernel, &params, pass);
    r.body()?;
    let code = r.finish();
    let shared = if pass == Pass::Write { BLOCK / 32 } else { 0 };
    Ok(super::signed_entry(name, params, shared, &code))
}

struct Render<'k> {
    l: Lower<'k>,
    pass: Pass,
    /// Global pointers by parameter.
    pointers: Vec<(Param, Reg)>,
    tid: Reg,
    lane: Reg,
    /// The loop over tiles (its `tile` register is the tile being run).
    tiles: TileLoop,
    row: Reg,
    in_range: Reg,
}

impl<'k> Render<'k> {
    /// Loads the parameters and opens the tile loop.
    fn start(kernel: &'k Kernel, params: &[Param], pass: Pass) -> Self {
        let mut l = Lower::new(kernel, Code::default());
        let mut pointers = Vec::new();
        let mut rows = String::new();
        for p in params {
            let raw = l.code.reg(Class::B64);
            l.code
                .ins("ld.param.u64", &[&raw, &format!("[{}]", p.name())]);
            if *p == Param::Rows {
                rows = raw;
            } else {
                // A null pointer stays null (an input without NULLs has no bitmap).
                let global = l.code.reg(Class::B64);
                l.code.ins("cvta.to.global.u64", &[&global, &raw]);
                let is_null = l.setp("eq", "u64", &raw, "0");
                let pointer = l.select(Class::B64, &is_null, "0", &global);
                pointers.push((*p, pointer));
            }
        }
        let (tid, tid64) = thread_index(&mut l);
        let lane = l.code.reg(Class::B32);
        l.code.ins("and.b32", &[&lane, &tid, "31"]);
        let (tiles, start) = TileLoop::open(&mut l, BLOCK as u64, &rows);
        let row = l.code.reg(Class::B64);
        l.code.ins("add.u64", &[&row, &start, &tid64]);
        let in_range = l.setp("lt", "u64", &row, &rows);
        Render {
            l,
            pass,
            pointers,
            tid,
            lane,
            tiles,
            row,
            in_range,
        }
    }

    fn pointer(&self, p: Param) -> Reg {
        self.pointers
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, r)| r.clone())
            .expect("declared parameter")
    }

    /// The nodes, in the interpreter's order (what the selection needs first), then what
    /// this pass writes.
    fn body(&mut self) -> Result<(), String> {
        let kernel = self.l.kernel;
        let outside = kernel.outside_selection();
        let mut kept: Option<Reg> = None;
        for second in [false, true] {
            if second {
                if let Some(sel) = kernel.selection {
                    let v = self.l.get(sel).clone();
                    let k = self.l.and(&v.valid, &v.reg);
                    kept = Some(self.l.and(&k, &self.in_range.clone()));
                }
                if self.pass == Pass::Count {
                    break;
                }
            }
            for (index, &past_selection) in outside.iter().enumerate() {
                if past_selection == second {
                    self.node(ValueId(index as u32), kept.clone())?;
                }
            }
        }
        match self.pass {
            Pass::All => self.write_all(),
            Pass::Count => self.count(&kept.expect("a filter's selection")),
            Pass::Write => self.write_kept(&kept.expect("a filter's selection")),
        }
        Ok(())
    }

    /// Lowers one node and raises its failures where they count: on rows in range, with
    /// valid operands, where its guard is TRUE and (past the selection) on kept rows.
    fn node(&mut self, id: ValueId, kept: Option<Reg>) -> Result<(), String> {
        let node = self.l.kernel.node(id);
        if let Op::Load(i) = node.op {
            let value = self.load(i, node.ty)?;
            self.l.values[id.index()] = Some(value);
            return Ok(());
        }
        let raises = self.l.node(id)?;
        if raises.is_empty() {
            return Ok(());
        }
        let mut counts = self.in_range.clone();
        for a in node.op.operands() {
            let valid = self.l.get(a).valid.clone();
            counts = self.l.and(&counts, &valid);
        }
        if let Some(g) = node.guard {
            let v = self.l.get(g).clone();
            let t = self.l.and(&v.valid, &v.reg);
            counts = self.l.and(&counts, &t);
        }
        if let Some(k) = kept {
            counts = self.l.and(&counts, &k);
        }
        for Raise { when, kind } in raises {
            let p = self.l.and(&counts, &when);
            self.raise(&p, id, kind);
        }
        Ok(())
    }

    fn raise(&mut self, when: &str, node: ValueId, kind: FailureKind) {
        let code_bits = (node.0 as u64) << 4 | failure_code(kind);
        let shifted = self.l.code.reg(Class::B64);
        self.l.code.ins(
            "shl.b64",
            &[
                &shifted,
                &self.row.clone(),
                &(FAILURE_NODE_BITS + 4).to_string(),
            ],
        );
        let code = self.l.code.reg(Class::B64);
        self.l
            .code
            .ins("or.b64", &[&code, &shifted, &code_bits.to_string()]);
        let failure = self.pointer(Param::Failure);
        self.l.code.ins_if(
            when,
            "red.global.min.u64",
            &[&format!("[{failure}]"), &code],
        );
    }

    /// The address of the 32-bit bitmap word that holds bit `index`.
    fn word_address(&mut self, pointer: &str, index: &str) -> Reg {
        let word_index = self.l.code.reg(Class::B64);
        self.l.code.ins("shr.u64", &[&word_index, index, "5"]);
        let address = self.l.code.reg(Class::B64);
        self.l
            .code
            .ins("mad.lo.u64", &[&address, &word_index, "4", pointer]);
        address
    }

    /// Bit `row` of a bitmap at `pointer` (false past the rows or where `pointer` is null
    /// and `null_means` is false).
    fn bit(&mut self, pointer: &str, null_means: bool) -> Reg {
        let present = self.l.setp("ne", "u64", pointer, "0");
        let fetch = self.l.and(&present, &self.in_range.clone());
        let row = self.row.clone();
        let address = self.word_address(pointer, &row);
        let word = self
            .l
            .code
            .constant(Class::B32, if null_means { "-1" } else { "0" });
        self.l
            .code
            .ins_if(&fetch, "ld.global.u32", &[&word, &format!("[{address}]")]);
        let shift = self.l.code.reg(Class::B32);
        self.l
            .code
            .ins("and.b32", &[&shift, &self.lane.clone(), "31"]);
        let bit = self.l.code.reg(Class::B32);
        self.l.code.ins("shr.u32", &[&bit, &word, &shift]);
        let one = self.l.code.reg(Class::B32);
        self.l.code.ins("and.b32", &[&one, &bit, "1"]);
        let set = self.l.setp("ne", "u32", &one, "0");
        self.l.and(&set, &self.in_range.clone())
    }

    fn load(&mut self, input: usize, ty: ScalarType) -> Result<Value, String> {
        let class = class_of(ty)?;
        let validity = self.pointer(Param::InputValidity(input));
        let valid = self.bit(&validity, true);
        let values = self.pointer(Param::InputValues(input));
        if class == Class::Pred {
            let reg = self.bit(&values, false);
            return Ok(Value { reg, valid });
        }
        let width = ty.byte_width();
        let address = self.l.code.reg(Class::B64);
        self.l.code.ins(
            "mad.lo.u64",
            &[&address, &self.row.clone(), &width.to_string(), &values],
        );
        let reg = self.l.code.reg(class);
        let in_range = self.in_range.clone();
        if let Some((lo, hi)) = reg.split_once(':') {
            // A decimal: two 8-byte words, low first (a little-endian i128).
            self.l
                .code
                .ins_if(&in_range, "ld.global.u64", &[lo, &format!("[{address}]")]);
            self.l
                .code
                .ins_if(&in_range, "ld.global.u64", &[hi, &format!("[{address}+8]")]);
            return Ok(Value { reg, valid });
        }
        self.l.code.ins_if(
            &in_range,
            &format!("ld.global.{}", memory_type(ty)),
            &[&reg, &format!("[{address}]")],
        );
        Ok(Value { reg, valid })
    }

    /// Stores a value of `ty` at element `index` of `pointer` where `when` holds.
    fn store(&mut self, when: &str, pointer: &str, index: &str, ty: ScalarType, reg: &str) {
        let address = self.l.code.reg(Class::B64);
        self.l.code.ins(
            "mad.lo.u64",
            &[&address, index, &ty.byte_width().to_string(), pointer],
        );
        if let Some((lo, hi)) = reg.split_once(':') {
            self.l
                .code
                .ins_if(when, "st.global.u64", &[&format!("[{address}]"), lo]);
            self.l
                .code
                .ins_if(when, "st.global.u64", &[&format!("[{address}+8]"), hi]);
            return;
        }
        self.l.code.ins_if(
            when,
            &format!("st.global.{}", memory_type(ty)),
            &[&format!("[{address}]"), reg],
        );
    }

    /// The warp's ballot of `bit` written as the bitmap word of the warp's rows (lane 0).
    fn store_word(&mut self, pointer: &str, bit: &str) {
        let word = self.l.code.reg(Class::B32);
        self.l.code.ins("vote.sync.ballot.b32", &[&word, bit, "-1"]);
        let lane0 = self.l.setp("eq", "u32", &self.lane.clone(), "0");
        let first = self.l.and(&lane0, &self.in_range.clone());
        let row = self.row.clone();
        let address = self.word_address(pointer, &row);
        self.l
            .code
            .ins_if(&first, "st.global.u32", &[&format!("[{address}]"), &word]);
    }

    fn write_all(&mut self) {
        let kernel = self.l.kernel;
        for (o, id) in kernel.outputs.iter().enumerate() {
            let v = self.l.get(*id).clone();
            let ty = kernel.ty(*id);
            let valid = self.l.and(&v.valid, &self.in_range.clone());
            let validity = self.pointer(Param::OutputValidity(o));
            self.store_word(&validity, &valid);
            let values = self.pointer(Param::OutputValues(o));
            if ty == ScalarType::Bool {
                let bit = self.l.and(&v.reg, &valid);
                self.store_word(&values, &bit);
            } else {
                let (in_range, row) = (self.in_range.clone(), self.row.clone());
                self.store(&in_range, &values, &row, ty, &v.reg);
            }
        }
    }

    /// Adds the tile's kept rows into `tile_counts[tile]`, a warp at a time.
    fn count(&mut self, kept: &str) {
        let word = self.l.code.reg(Class::B32);
        self.l
            .code
            .ins("vote.sync.ballot.b32", &[&word, kept, "-1"]);
        let n = self.l.code.reg(Class::B32);
        self.l.code.ins("popc.b32", &[&n, &word]);
        let lane0 = self.l.setp("eq", "u32", &self.lane.clone(), "0");
        let counts = self.pointer(Param::TileCounts);
        let address = self.l.code.reg(Class::B64);
        self.l.code.ins(
            "mad.lo.u64",
            &[&address, &self.tiles.tile.clone(), "4", &counts],
        );
        self.l
            .code
            .ins_if(&lane0, "red.global.add.u32", &[&format!("[{address}]"), &n]);
    }

    /// Writes the kept rows compacted, in row order, and the selection bitmap.
    fn write_kept(&mut self, kept: &str) {
        let selection = self.pointer(Param::Selection);
        self.store_word(&selection, kept);
        // The rank of this row among the tile's kept rows.
        let ballot = self.l.code.reg(Class::B32);
        self.l
            .code
            .ins("vote.sync.ballot.b32", &[&ballot, kept, "-1"]);
        let below = self.l.code.reg(Class::B32);
        self.l.code.ins("mov.u32", &[&below, "%lanemask_lt"]);
        let before = self.l.code.reg(Class::B32);
        self.l.code.ins("and.b32", &[&before, &ballot, &below]);
        let rank = self.l.code.reg(Class::B32);
        self.l.code.ins("popc.b32", &[&rank, &before]);
        let total = self.l.code.reg(Class::B32);
        self.l.code.ins("popc.b32", &[&total, &ballot]);
        let warp = self.l.code.reg(Class::B32);
        self.l.code.ins("shr.u32", &[&warp, &self.tid.clone(), "5"]);
        let lane0 = self.l.setp("eq", "u32", &self.lane.clone(), "0");
        let shared = self.l.code.reg(Class::B32);
        self.l.code.ins("mov.u32", &[&shared, "shared"]);
        let slot = self.l.code.reg(Class::B32);
        self.l.code.ins("mad.lo.u32", &[&slot, &warp, "4", &shared]);
        self.l
            .code
            .ins_if(&lane0, "st.shared.u32", &[&format!("[{slot}]"), &total]);
        self.l.code.bare("bar.sync 0");
        let mut rank_in_tile = rank;
        for w in 0..BLOCK / 32 {
            let earlier = self.l.setp("gt", "u32", &warp, &w.to_string());
            let n = self.l.code.constant(Class::B32, "0");
            self.l.code.ins_if(
                &earlier,
                "ld.shared.u32",
                &[&n, &format!("[shared+{}]", w * 4)],
            );
            let sum = self.l.code.reg(Class::B32);
            self.l.code.ins("add.u32", &[&sum, &rank_in_tile, &n]);
            rank_in_tile = sum;
        }
        // The shared words are read by every warp before any writes the next tile's.
        self.l.code.bare("bar.sync 0");
        let offsets = self.pointer(Param::TileOffsets);
        let address = self.l.code.reg(Class::B64);
        self.l.code.ins(
            "mad.lo.u64",
            &[&address, &self.tiles.tile.clone(), "8", &offsets],
        );
        let base = self.l.code.reg(Class::B64);
        self.l
            .code
            .ins("ld.global.u64", &[&base, &format!("[{address}]")]);
        let rank64 = self.l.code.reg(Class::B64);
        self.l.code.ins("cvt.u64.u32", &[&rank64, &rank_in_tile]);
        let position = self.l.code.reg(Class::B64);
        self.l.code.ins("add.u64", &[&position, &base, &rank64]);
        let kernel = self.l.kernel;
        for (o, id) in kernel.outputs.iter().enumerate() {
            let v = self.l.get(*id).clone();
            let ty = kernel.ty(*id);
            let valid = self.l.and(&v.valid, kept);
            let validity = self.pointer(Param::OutputValidity(o));
            self.set_bit(&valid, &validity, &position);
            let values = self.pointer(Param::OutputValues(o));
            if ty == ScalarType::Bool {
                let bit = self.l.and(&v.reg, &valid);
                self.set_bit(&bit, &values, &position);
            } else {
                self.store(kept, &values, &position, ty, &v.reg);
            }
        }
    }

    /// Sets bit `index` of the bitmap at `pointer` where `when` holds (atomically: rows of
    /// two warps may share a word once compacted).
    fn set_bit(&mut self, when: &str, pointer: &str, index: &str) {
        let address = self.word_address(pointer, index);
        let low = self.l.code.reg(Class::B32);
        self.l.code.ins("cvt.u32.u64", &[&low, index]);
        let shift = self.l.code.reg(Class::B32);
        self.l.code.ins("and.b32", &[&shift, &low, "31"]);
        let mask = self.l.code.reg(Class::B32);
        self.l.code.ins("shl.b32", &[&mask, "1", &shift]);
        self.l
            .code
            .ins_if(when, "red.global.or.b32", &[&format!("[{address}]"), &mask]);
    }

    /// Closes the tile loop.
    fn finish(mut self) -> Code {
        self.tiles.close(&mut self.l);
        self.l.code
    }
}

/// The PTX memory type of one element of `ty`.
pub fn memory_type(ty: ScalarType) -> &'static str {
    match ty {
        ScalarType::I8 => "s8",
        ScalarType::U8 => "u8",
        ScalarType::I16 => "s16",
        ScalarType::U16 => "u16",
        ScalarType::I32 | ScalarType::Date32 => "s32",
        ScalarType::U32 => "u32",
        ScalarType::F32 => "f32",
        ScalarType::F64 => "f64",
        ScalarType::I64 | ScalarType::Timestamp | ScalarType::Duration => "s64",
        _ => "u64",
    }
}

/// The code of a failure kind in the failure word's low four bits.
pub fn failure_code(kind: FailureKind) -> u64 {
    match kind {
        FailureKind::DivideByZero => 1,
        FailureKind::Overflow => 2,
        FailureKind::NegativeSqrt => 3,
    }
}
