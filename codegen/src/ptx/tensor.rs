//! The skeleton of a tensor kernel: a domain of fixed dimensions, inputs read through their
//! strides (negative and zero too), no NULLs and no failures (see `tensor_abi`).
//!
//! - Elementwise: blocks take tiles of [`BLOCK`] elements of the domain in row-major order,
//!   one element a thread; each thread turns its flat index into coordinates (by the
//!   extents, constants here) and each input's offset, unless the input is dense, where the
//!   flat index is the offset.
//! - Reductions (block → grid): the `K` output elements are each split into `S` slices of
//!   the `R` reduced elements. Entry `<name>` gives each (element, slice) to a block: its
//!   threads fold every 256th element of the slice, then combine in a tree through shared
//!   memory, and thread 0 writes the slice's partial. Entry `<name>_finish` folds each
//!   element's `S` partials in slice order. The order is fixed, so a result is the same on
//!   every run; a float sum or product is not the CPU's bits (the CPU folds in its own
//!   order, `tensor_lanes`), and arg-reductions keep the first position of the extreme.

use super::node::{class_of, Lower, Value};
use super::rows::memory_type;
use super::text::{f32_imm, f64_imm, Class, Code, Reg, BLOCK};
use super::tiles::{thread_index, TileLoop};
use super::{EntrySignature, Param, PtxModule};
use crate::ir::{BinaryOp, Kernel, Op, ReduceOp, ScalarType, ValueId};
use crate::semantics::int_range;
use crate::tensor_abi::{
    check_tensor_kernel, element_bytes, extents, input_strides, reduced_axes, row_major_strides,
};

/// Slices an output element's reduced elements are split into: enough blocks to fill a
/// large GPU when the outputs are few, each slice at least 4096 elements.
pub fn slices(kept: usize, reduced: usize) -> usize {
    if reduced == 0 {
        return 1;
    }
    let by_size = reduced.div_ceil(4096);
    let by_grid = 1024usize.div_ceil(kept.max(1));
    by_size.min(by_grid).clamp(1, reduced)
}

/// Renders a tensor kernel: one entry, or two for a reduction.
pub fn render_tensor(kernel: &Kernel, name: &str) -> Result<PtxModule, String> {
    check_tensor_kernel(kernel)?;
    let reduces: Vec<bool> = kernel
        .outputs
        .iter()
        .map(|o| matches!(kernel.node(*o).op, Op::Reduce { .. }))
        .collect();
    let mut text = super::text::header();
    let mut entries = Vec::new();
    let mut add = |(entry, signature): (String, EntrySignature)| {
        text.push_str(&entry);
        text.push('\n');
        entries.push(signature);
    };
    if reduces.iter().all(|r| !r) {
        add(elementwise(kernel, name)?);
    } else if reduces.iter().all(|r| *r) {
        add(reduce_slices(kernel, name)?);
        add(finish(kernel, &format!("{name}_finish"))?);
    } else {
        return Err("a kernel with reduced and elementwise outputs".into());
    }
    Ok(PtxModule { text, entries })
}

/// The geometry of a reduction.
struct Shape {
    dims: Vec<usize>,
    reduced: Vec<usize>,
    kept_count: usize,
    reduced_count: usize,
    slices: usize,
}

fn shape(kernel: &Kernel) -> Shape {
    let dims = extents(kernel);
    let reduced = reduced_axes(kernel);
    let kept_count = (0..dims.len())
        .filter(|a| !reduced.contains(a))
        .map(|a| dims[a])
        .product();
    let reduced_count = reduced.iter().map(|&a| dims[a]).product();
    Shape {
        slices: slices(kept_count, reduced_count),
        dims,
        reduced,
        kept_count,
        reduced_count,
    }
}

/// Loads the `.u64` parameters; returns their registers in order.
fn load_params(l: &mut Lower<'_>, params: &[Param]) -> Vec<Reg> {
    params
        .iter()
        .map(|p| {
            let raw = l.code.reg(Class::B64);
            l.code
                .ins("ld.param.u64", &[&raw, &format!("[{}]", p.name())]);
            let global = l.code.reg(Class::B64);
            l.code.ins("cvta.to.global.u64", &[&global, &raw]);
            global
        })
        .collect()
}

/// The coordinates of flat row-major index `flat` over `extents` (last fastest).
fn coordinates(l: &mut Lower<'_>, flat: &str, extents: &[usize]) -> Vec<Reg> {
    let mut coords = vec![String::new(); extents.len()];
    let mut rest = flat.to_string();
    for a in (0..extents.len()).rev() {
        let n = extents[a].max(1).to_string();
        let c = l.code.reg(Class::B64);
        l.code.ins("rem.u64", &[&c, &rest, &n]);
        let q = l.code.reg(Class::B64);
        l.code.ins("div.u64", &[&q, &rest, &n]);
        coords[a] = c;
        rest = q;
    }
    coords
}

/// Loads input `i` at the domain coordinates `coords` (or at `flat` when it is dense).
fn load(
    l: &mut Lower<'_>,
    i: usize,
    base: &str,
    coords: &[Reg],
    flat: Option<&str>,
    when: &str,
) -> Result<Value, String> {
    let kernel = l.kernel;
    let ty = kernel.inputs[i].ty;
    let strides = input_strides(kernel, i);
    let offset = match flat {
        Some(flat) if strides == row_major_strides(&extents(kernel)) => flat.to_string(),
        _ => {
            let mut sum = l.code.constant(Class::B64, "0");
            for (c, s) in coords.iter().zip(&strides) {
                if *s != 0 {
                    let next = l.code.reg(Class::B64);
                    l.code.ins("mad.lo.s64", &[&next, c, &s.to_string(), &sum]);
                    sum = next;
                }
            }
            sum
        }
    };
    let address = l.code.reg(Class::B64);
    l.code.ins(
        "mad.lo.s64",
        &[&address, &offset, &element_bytes(ty).to_string(), base],
    );
    let class = class_of(ty)?;
    let reg = if class == Class::Pred {
        let byte = l.code.constant(Class::B32, "0");
        l.code
            .ins_if(when, "ld.global.u8", &[&byte, &format!("[{address}]")]);
        l.setp("ne", "u32", &byte, "0")
    } else {
        let r = l.code.reg(class);
        l.code.ins_if(
            when,
            &format!("ld.global.{}", memory_type(ty)),
            &[&r, &format!("[{address}]")],
        );
        r
    };
    Ok(Value {
        reg,
        valid: l.always.clone(),
    })
}

/// Computes every node but the reductions, loading inputs at `coords`.
fn compute(
    l: &mut Lower<'_>,
    bases: &[Reg],
    coords: &[Reg],
    flat: Option<&str>,
    when: &str,
) -> Result<(), String> {
    let kernel = l.kernel;
    for (index, node) in kernel.nodes.iter().enumerate() {
        let id = ValueId(index as u32);
        match node.op {
            Op::Load(i) => {
                let v = load(l, i, &bases[i], coords, flat, when)?;
                l.values[index] = Some(v);
            }
            Op::Reduce { .. } => {}
            _ => {
                // Tensor kernels never fail: the values where a failure is not raised.
                l.node(id)?;
            }
        }
    }
    Ok(())
}

/// Stores `reg` (of `ty`) as element `index` of a dense buffer where `when` holds.
fn store(l: &mut Lower<'_>, when: &str, base: &str, index: &str, ty: ScalarType, reg: &str) {
    let address = l.code.reg(Class::B64);
    l.code.ins(
        "mad.lo.u64",
        &[&address, index, &element_bytes(ty).to_string(), base],
    );
    if ty == ScalarType::Bool {
        let byte = l.code.reg(Class::B32);
        l.code.ins("selp.u32", &[&byte, "1", "0", reg]);
        l.code
            .ins_if(when, "st.global.u8", &[&format!("[{address}]"), &byte]);
    } else {
        l.code.ins_if(
            when,
            &format!("st.global.{}", memory_type(ty)),
            &[&format!("[{address}]"), reg],
        );
    }
}

fn elementwise(kernel: &Kernel, name: &str) -> Result<(String, EntrySignature), String> {
    let mut params: Vec<Param> = (0..kernel.inputs.len()).map(Param::TensorInput).collect();
    params.extend((0..kernel.outputs.len()).map(Param::TensorOutput));
    let mut l = Lower::new(kernel, Code::default());
    let pointers = load_params(&mut l, &params);
    let (bases, outs) = pointers.split_at(kernel.inputs.len());
    let dims = extents(kernel);
    let total: usize = dims.iter().product();
    let (_, tid64) = thread_index(&mut l);
    let (tiles, start) = TileLoop::open(&mut l, BLOCK as u64, &total.to_string());
    let flat = l.code.reg(Class::B64);
    l.code.ins("add.u64", &[&flat, &start, &tid64]);
    let in_range = l.setp("lt", "u64", &flat, &total.to_string());
    let needs_coords =
        (0..kernel.inputs.len()).any(|i| input_strides(kernel, i) != row_major_strides(&dims));
    let coords = if needs_coords {
        coordinates(&mut l, &flat, &dims)
    } else {
        Vec::new()
    };
    compute(&mut l, bases, &coords, Some(&flat), &in_range)?;
    for (j, o) in kernel.outputs.iter().enumerate() {
        let reg = l.get(*o).reg.clone();
        store(&mut l, &in_range, &outs[j], &flat, kernel.ty(*o), &reg);
    }
    tiles.close(&mut l);
    Ok(super::signed_entry(name, params, 0, &l.code))
}

/// A reduction's running state: its value and, for the arg-reductions, its position
/// (`u64::MAX`: nothing seen yet).
#[derive(Clone)]
struct Acc {
    value: Reg,
    at: Option<Reg>,
}

fn is_arg(op: ReduceOp) -> bool {
    matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin)
}

/// The reductions of the kernel: (op, argument type, output index).
fn reductions(kernel: &Kernel) -> Vec<(ReduceOp, ValueId, ScalarType)> {
    kernel
        .outputs
        .iter()
        .map(|o| match &kernel.node(*o).op {
            Op::Reduce { op, arg, .. } => (*op, *arg, kernel.ty(*arg)),
            _ => unreachable!("checked: every output reduces"),
        })
        .collect()
}

impl Lower<'_> {
    /// The starting state of a reduction over `ty`: its identity (−0.0 for a float sum, so
    /// that a sum of −0.0s stays −0.0), no position.
    fn identity(&mut self, op: ReduceOp, ty: ScalarType) -> Acc {
        let class = class_of(ty).expect("a tensor type");
        let float = |x: f64| {
            if ty == ScalarType::F32 {
                f32_imm(x as f32)
            } else {
                f64_imm(x)
            }
        };
        // Fresh registers: the accumulator is updated in place.
        let fresh_pred = |l: &mut Self, from: &str| {
            let p = l.code.reg(Class::Pred);
            l.code.ins("mov.pred", &[&p, from]);
            p
        };
        let value = match (op, class) {
            (ReduceOp::All, _) => fresh_pred(self, &self.always.clone()),
            (ReduceOp::Any, _) | (_, Class::Pred) => fresh_pred(self, &self.never.clone()),
            (ReduceOp::Sum, Class::F32 | Class::F64) => self.code.constant(class, &float(-0.0)),
            (ReduceOp::Prod, Class::F32 | Class::F64) => self.code.constant(class, &float(1.0)),
            (ReduceOp::Max, Class::F32 | Class::F64) => {
                self.code.constant(class, &float(f64::NEG_INFINITY))
            }
            (ReduceOp::Min, Class::F32 | Class::F64) => {
                self.code.constant(class, &float(f64::INFINITY))
            }
            (ReduceOp::Sum, _) => self.code.constant(class, "0"),
            (ReduceOp::Prod, _) => self.code.constant(class, "1"),
            (ReduceOp::Max, _) => self
                .code
                .constant(class, &int_range(ty).expect("an integer").0.to_string()),
            (ReduceOp::Min, _) => {
                let hi = int_range(ty).expect("an integer").1;
                let text = if class == Class::B32 {
                    (hi as u32 as i32).to_string()
                } else {
                    (hi as u64 as i64).to_string()
                };
                self.code.constant(class, &text)
            }
            (_, Class::F32 | Class::F64) => self.code.constant(class, &float(0.0)),
            _ => self.code.constant(class, "0"),
        };
        let at = is_arg(op).then(|| self.code.constant(Class::B64, "-1"));
        Acc { value, at }
    }

    /// `a ∘ b`, where `a` covers earlier positions than `b` or positions break ties.
    fn combine(&mut self, op: ReduceOp, ty: ScalarType, a: &Acc, b: &Acc) -> Result<Acc, String> {
        let class = class_of(ty)?;
        let value = match op {
            ReduceOp::Any => self.or(&a.value, &b.value),
            ReduceOp::All => self.and(&a.value, &b.value),
            ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Max | ReduceOp::Min => {
                let bop = match op {
                    ReduceOp::Sum => BinaryOp::Add,
                    ReduceOp::Prod => BinaryOp::Mul,
                    ReduceOp::Max => BinaryOp::Max,
                    _ => BinaryOp::Min,
                };
                self.wrapping(bop, ty, class, &a.value, &b.value)?
            }
            ReduceOp::ArgMax | ReduceOp::ArgMin => return self.combine_arg(op, ty, class, a, b),
        };
        Ok(Acc { value, at: None })
    }

    /// + × max min that wrap (integers) or round (floats), as the interpreter's fold.
    fn wrapping(
        &mut self,
        op: BinaryOp,
        ty: ScalarType,
        class: Class,
        a: &str,
        b: &str,
    ) -> Result<Reg, String> {
        if ty.is_float() {
            return self.float_arith(op, ty, class, a, b);
        }
        if matches!(op, BinaryOp::Max | BinaryOp::Min) {
            return self.int_arith(op, ty, class, a, b, &mut Vec::new());
        }
        let t = if class == Class::B32 { "u32" } else { "u64" };
        let d = self.code.reg(class);
        let name = if op == BinaryOp::Add {
            format!("add.{t}")
        } else {
            format!("mul.lo.{t}")
        };
        self.code.ins(&name, &[&d, a, b]);
        Ok(self.wrapped(d, ty, class))
    }

    /// Whether `b` replaces `a` as the arg-extreme: `a` is empty; or `b` is a NaN and `a`
    /// is not (the first NaN wins); or neither is and `b` is strictly better; ties (two
    /// NaNs, equal values) go to the earlier position.
    fn combine_arg(
        &mut self,
        op: ReduceOp,
        ty: ScalarType,
        class: Class,
        a: &Acc,
        b: &Acc,
    ) -> Result<Acc, String> {
        let (a_at, b_at) = (
            a.at.clone().expect("a position"),
            b.at.clone().expect("a position"),
        );
        let a_empty = self.setp("eq", "u64", &a_at, "-1");
        let b_empty = self.setp("eq", "u64", &b_at, "-1");
        let (a_nan, b_nan) = if ty.is_float() {
            let t = super::node::float_type(ty);
            (
                self.setp("nan", t, &a.value, &a.value),
                self.setp("nan", t, &b.value, &b.value),
            )
        } else {
            (self.never.clone(), self.never.clone())
        };
        let beats = if op == ReduceOp::ArgMax {
            BinaryOp::IeeeGt
        } else {
            BinaryOp::IeeeLt
        };
        let better = self.compare(beats, ty, &b.value, &a.value)?;
        let equal = self.compare(BinaryOp::IeeeEq, ty, &b.value, &a.value)?;
        let earlier = self.setp("lt", "u64", &b_at, &a_at);
        let tie = self.and(&equal, &earlier);
        let wins_on_value = self.or(&better, &tie);
        let neither_nan = {
            let any = self.or(&a_nan, &b_nan);
            self.not(&any)
        };
        let by_value = self.and(&neither_nan, &wins_on_value);
        let a_number = self.not(&a_nan);
        let first_nan = self.and(&b_nan, &a_number);
        let both_nan = self.and(&a_nan, &b_nan);
        let earlier_nan = self.and(&both_nan, &earlier);
        let mut take = self.or(&by_value, &first_nan);
        take = self.or(&take, &earlier_nan);
        take = self.or(&take, &a_empty);
        let b_present = self.not(&b_empty);
        let take = self.and(&take, &b_present);
        let value = self.select(class, &take, &b.value, &a.value);
        let at = self.select(Class::B64, &take, &b_at, &a_at);
        Ok(Acc {
            value,
            at: Some(at),
        })
    }
}

/// Where reduction `j`'s accumulator slots start in shared memory (8 bytes a thread for
/// the value, 8 more for the position of an arg-reduction), and the words in all.
fn shared_layout(reds: &[(ReduceOp, ValueId, ScalarType)]) -> (Vec<(u32, Option<u32>)>, u32) {
    let mut at = 0u32;
    let mut layout = Vec::new();
    for (op, ..) in reds {
        let value = at;
        at += BLOCK * 8;
        let position = is_arg(*op).then(|| {
            at += BLOCK * 8;
            at - BLOCK * 8
        });
        layout.push((value, position));
    }
    (layout, at / 4)
}

/// Stores or loads an accumulator slot in shared memory (`address` in bytes).
fn shared_access(
    l: &mut Lower<'_>,
    store: bool,
    class: Class,
    reg: &str,
    address: &str,
    when: Option<&str>,
) -> Reg {
    let (t, raw_class) = match class {
        Class::Pred | Class::B32 => ("u32", Class::B32),
        Class::B64 => ("u64", Class::B64),
        Class::F32 => ("f32", Class::F32),
        Class::F64 => ("f64", Class::F64),
        Class::Wide => unreachable!("checked: tensors hold no decimals"),
    };
    if store {
        let source = if class == Class::Pred {
            let r = l.code.reg(Class::B32);
            l.code.ins("selp.u32", &[&r, "1", "0", reg]);
            r
        } else {
            reg.to_string()
        };
        match when {
            Some(p) => l.code.ins_if(
                p,
                &format!("st.shared.{t}"),
                &[&format!("[{address}]"), &source],
            ),
            None => l.code.ins(
                &format!("st.shared.{t}"),
                &[&format!("[{address}]"), &source],
            ),
        }
        return reg.to_string();
    }
    let r = l.code.reg(raw_class);
    match when {
        Some(p) => l
            .code
            .ins_if(p, &format!("ld.shared.{t}"), &[&r, &format!("[{address}]")]),
        None => l
            .code
            .ins(&format!("ld.shared.{t}"), &[&r, &format!("[{address}]")]),
    }
    if class == Class::Pred {
        l.setp("ne", "u32", &r, "0")
    } else {
        r
    }
}

fn reduce_slices(kernel: &Kernel, name: &str) -> Result<(String, EntrySignature), String> {
    let s = shape(kernel);
    let reds = reductions(kernel);
    let mut params: Vec<Param> = (0..kernel.inputs.len()).map(Param::TensorInput).collect();
    for (j, (op, ..)) in reds.iter().enumerate() {
        params.push(Param::Partials(j));
        if is_arg(*op) {
            params.push(Param::PartialPositions(j));
        }
    }
    let mut l = Lower::new(kernel, Code::default());
    let pointers = load_params(&mut l, &params);
    let bases = &pointers[..kernel.inputs.len()];
    let (tid, tid64) = thread_index(&mut l);
    let work = (s.kept_count * s.slices).to_string();
    let (tiles, w) = TileLoop::open(&mut l, 1, &work);
    // This block's output element and slice, and the slice's reduced elements [begin, end).
    let k = l.code.reg(Class::B64);
    l.code.ins("div.u64", &[&k, &w, &s.slices.to_string()]);
    let slice = l.code.reg(Class::B64);
    l.code.ins("rem.u64", &[&slice, &w, &s.slices.to_string()]);
    let bound = |l: &mut Lower<'_>, n: &str| {
        let product = l.code.reg(Class::B64);
        l.code
            .ins("mul.lo.u64", &[&product, n, &s.reduced_count.to_string()]);
        let b = l.code.reg(Class::B64);
        l.code
            .ins("div.u64", &[&b, &product, &s.slices.to_string()]);
        b
    };
    let begin = bound(&mut l, &slice);
    let next_slice = l.code.reg(Class::B64);
    l.code.ins("add.u64", &[&next_slice, &slice, "1"]);
    let end = bound(&mut l, &next_slice);
    let kept_dims: Vec<usize> = (0..s.dims.len())
        .filter(|a| !s.reduced.contains(a))
        .map(|a| s.dims[a])
        .collect();
    let reduced_dims: Vec<usize> = s.reduced.iter().map(|&a| s.dims[a]).collect();
    let kept_coords = coordinates(&mut l, &k, &kept_dims);
    let accs: Vec<Acc> = reds
        .iter()
        .map(|(op, _, ty)| l.identity(*op, *ty))
        .collect();
    // The slice, BLOCK elements at a time (a block-uniform loop).
    let r0 = l.code.reg(Class::B64);
    l.code.ins("mov.u64", &[&r0, &begin]);
    let top = l.code.new_label("slice");
    let out = l.code.new_label("sliced");
    l.code.label(&top);
    let past = l.setp("ge", "u64", &r0, &end);
    l.code.ins_if(&past, "bra.uni", &[&out]);
    let r = l.code.reg(Class::B64);
    l.code.ins("add.u64", &[&r, &r0, &tid64]);
    let inside = l.setp("lt", "u64", &r, &end);
    let reduced_coords = coordinates(&mut l, &r, &reduced_dims);
    let mut coords = Vec::new();
    let (mut ki, mut ri) = (0, 0);
    for a in 0..s.dims.len() {
        if s.reduced.contains(&a) {
            coords.push(reduced_coords[ri].clone());
            ri += 1;
        } else {
            coords.push(kept_coords[ki].clone());
            ki += 1;
        }
    }
    compute(&mut l, bases, &coords, None, &inside)?;
    for (j, (op, arg, ty)) in reds.iter().enumerate() {
        let v = Acc {
            value: l.get(*arg).reg.clone(),
            at: is_arg(*op).then(|| r.clone()),
        };
        let folded = l.combine(*op, *ty, &accs[j], &v)?;
        // Loop-carried: the accumulator registers are updated in place.
        assign(&mut l, *ty, &accs[j], &folded, &inside);
    }
    let next = l.code.reg(Class::B64);
    l.code.ins("add.u64", &[&next, &r0, &BLOCK.to_string()]);
    l.code.ins("mov.u64", &[&r0, &next]);
    l.code.ins("bra.uni", &[&top]);
    l.code.label(&out);
    // The block's tree: slots [tid] and [tid + h] combined for h = 128, 64, …, 1.
    let (layout, words) = shared_layout(&reds);
    let shared = l.code.reg(Class::B32);
    l.code.ins("mov.u32", &[&shared, "shared"]);
    let mine = l.code.reg(Class::B32);
    l.code.ins("mad.lo.u32", &[&mine, &tid, "8", &shared]);
    for (j, (_, _, ty)) in reds.iter().enumerate() {
        let class = class_of(*ty)?;
        let (vslot, pslot) = layout[j];
        let a = offset32(&mut l, &mine, vslot);
        shared_access(&mut l, true, class, &accs[j].value.clone(), &a, None);
        if let (Some(p), Some(at)) = (pslot, accs[j].at.clone()) {
            let a = offset32(&mut l, &mine, p);
            shared_access(&mut l, true, Class::B64, &at, &a, None);
        }
    }
    l.code.bare("bar.sync 0");
    let mut h = BLOCK / 2;
    while h >= 1 {
        let active = l.setp("lt", "u32", &tid, &h.to_string());
        for (j, (op, _, ty)) in reds.iter().enumerate() {
            let class = class_of(*ty)?;
            let (vslot, pslot) = layout[j];
            let here_v = offset32(&mut l, &mine, vslot);
            let there_v = offset32(&mut l, &mine, vslot + h * 8);
            let a = Acc {
                value: shared_access(&mut l, false, class, "", &here_v, None),
                at: match pslot {
                    Some(p) => {
                        let addr = offset32(&mut l, &mine, p);
                        Some(shared_access(&mut l, false, Class::B64, "", &addr, None))
                    }
                    None => None,
                },
            };
            let b = Acc {
                value: shared_access(&mut l, false, class, "", &there_v, Some(&active)),
                at: match pslot {
                    Some(p) => {
                        let addr = offset32(&mut l, &mine, p + h * 8);
                        Some(shared_access(
                            &mut l,
                            false,
                            Class::B64,
                            "",
                            &addr,
                            Some(&active),
                        ))
                    }
                    None => None,
                },
            };
            let c = l.combine(*op, *ty, &a, &b)?;
            l.code.bare("bar.sync 0");
            shared_access(&mut l, true, class, &c.value, &here_v, Some(&active));
            if let (Some(p), Some(at)) = (pslot, c.at) {
                let addr = offset32(&mut l, &mine, p);
                shared_access(&mut l, true, Class::B64, &at, &addr, Some(&active));
            }
        }
        l.code.bare("bar.sync 0");
        h /= 2;
    }
    // Thread 0 writes the slice's partial.
    let first = l.setp("eq", "u32", &tid, "0");
    let mut param = kernel.inputs.len();
    for (j, (_, _, ty)) in reds.iter().enumerate() {
        let class = class_of(*ty)?;
        let (vslot, pslot) = layout[j];
        let a = offset32(&mut l, &shared, vslot);
        let v = shared_access(&mut l, false, class, "", &a, None);
        let raw = partial_bits(&mut l, class, &v);
        let address = l.code.reg(Class::B64);
        l.code
            .ins("mad.lo.u64", &[&address, &w, "8", &pointers[param]]);
        l.code
            .ins_if(&first, "st.global.u64", &[&format!("[{address}]"), &raw]);
        param += 1;
        if let Some(p) = pslot {
            let a = offset32(&mut l, &shared, p);
            let at = shared_access(&mut l, false, Class::B64, "", &a, None);
            let address = l.code.reg(Class::B64);
            l.code
                .ins("mad.lo.u64", &[&address, &w, "8", &pointers[param]]);
            l.code
                .ins_if(&first, "st.global.u64", &[&format!("[{address}]"), &at]);
            param += 1;
        }
    }
    // The next work item reuses the slots.
    l.code.bare("bar.sync 0");
    tiles.close(&mut l);
    Ok(super::signed_entry(name, params, words, &l.code))
}

/// `base + bytes` as a register (a shared address).
fn offset32(l: &mut Lower<'_>, base: &str, bytes: u32) -> Reg {
    let r = l.code.reg(Class::B32);
    l.code.ins("add.u32", &[&r, base, &bytes.to_string()]);
    r
}

/// Overwrites an accumulator's registers with `new` where `when` holds.
fn assign(l: &mut Lower<'_>, ty: ScalarType, acc: &Acc, new: &Acc, when: &str) {
    let class = class_of(ty).expect("a tensor type");
    let value = l.select(class, when, &new.value, &acc.value);
    let mov = match class {
        Class::Pred => "mov.pred",
        Class::B32 => "mov.b32",
        Class::B64 => "mov.b64",
        Class::F32 => "mov.f32",
        Class::F64 => "mov.f64",
        Class::Wide => unreachable!("checked: tensors hold no decimals"),
    };
    l.code.ins(mov, &[&acc.value, &value]);
    if let (Some(at), Some(new_at)) = (&acc.at, &new.at) {
        let p = l.select(Class::B64, when, new_at, at);
        l.code.ins("mov.b64", &[at, &p]);
    }
}

/// A value's bits in a u64 (a partial's slot).
fn partial_bits(l: &mut Lower<'_>, class: Class, v: &str) -> Reg {
    let r = l.code.reg(Class::B64);
    match class {
        Class::Pred => l.code.ins("selp.u64", &[&r, "1", "0", v]),
        Class::B32 => l.code.ins("cvt.u64.u32", &[&r, v]),
        Class::B64 => l.code.ins("mov.b64", &[&r, v]),
        Class::F32 => {
            let b = l.code.reg(Class::B32);
            l.code.ins("mov.b32", &[&b, v]);
            l.code.ins("cvt.u64.u32", &[&r, &b]);
        }
        Class::F64 => l.code.ins("mov.b64", &[&r, v]),
        Class::Wide => unreachable!("checked: tensors hold no decimals"),
    }
    r
}

/// A value of `class` from a partial's u64 bits (32-bit values kept their extension).
fn from_partial(l: &mut Lower<'_>, class: Class, bits: &str) -> Reg {
    match class {
        Class::Pred => l.setp("ne", "u64", bits, "0"),
        Class::B64 => bits.to_string(),
        Class::F64 => {
            let r = l.code.reg(Class::F64);
            l.code.ins("mov.b64", &[&r, bits]);
            r
        }
        Class::B32 | Class::F32 => {
            let low = l.code.reg(Class::B32);
            l.code.ins("cvt.u32.u64", &[&low, bits]);
            if class == Class::B32 {
                return low;
            }
            let r = l.code.reg(Class::F32);
            l.code.ins("mov.b32", &[&r, &low]);
            r
        }
        Class::Wide => unreachable!("checked: tensors hold no decimals"),
    }
}

/// `<name>_finish`: each output element folds its slices' partials in order.
fn finish(kernel: &Kernel, name: &str) -> Result<(String, EntrySignature), String> {
    let s = shape(kernel);
    let reds = reductions(kernel);
    let mut params = Vec::new();
    for (j, (op, ..)) in reds.iter().enumerate() {
        params.push(Param::Partials(j));
        if is_arg(*op) {
            params.push(Param::PartialPositions(j));
        }
        params.push(Param::TensorOutput(j));
    }
    let mut l = Lower::new(kernel, Code::default());
    let pointers = load_params(&mut l, &params);
    let (_, tid64) = thread_index(&mut l);
    let (tiles, start) = TileLoop::open(&mut l, BLOCK as u64, &s.kept_count.to_string());
    let k = l.code.reg(Class::B64);
    l.code.ins("add.u64", &[&k, &start, &tid64]);
    let in_range = l.setp("lt", "u64", &k, &s.kept_count.to_string());
    let mut param = 0;
    for (j, (op, _, ty)) in reds.iter().enumerate() {
        let class = class_of(*ty)?;
        let partials = pointers[param].clone();
        let positions = is_arg(*op).then(|| pointers[param + 1].clone());
        param += 1 + usize::from(is_arg(*op));
        let out = pointers[param].clone();
        param += 1;
        let mut acc = l.identity(*op, *ty);
        if s.reduced_count > 0 {
            for slice in 0..s.slices {
                let index = l.code.reg(Class::B64);
                l.code.ins(
                    "mad.lo.u64",
                    &[&index, &k, &s.slices.to_string(), &slice.to_string()],
                );
                let address = l.code.reg(Class::B64);
                l.code
                    .ins("mad.lo.u64", &[&address, &index, "8", &partials]);
                let bits = l.code.constant(Class::B64, "0");
                l.code.ins_if(
                    &in_range,
                    "ld.global.u64",
                    &[&bits, &format!("[{address}]")],
                );
                let at = positions.as_ref().map(|p| {
                    let a = l.code.reg(Class::B64);
                    l.code.ins("mad.lo.u64", &[&a, &index, "8", p]);
                    let r = l.code.constant(Class::B64, "-1");
                    l.code
                        .ins_if(&in_range, "ld.global.u64", &[&r, &format!("[{a}]")]);
                    r
                });
                let value = from_partial(&mut l, class, &bits);
                acc = l.combine(*op, *ty, &acc, &Acc { value, at })?;
            }
        } else {
            // No element: the identity, +0.0 for a float sum.
            acc = empty_result(&mut l, *op, *ty);
        }
        let out_ty = kernel.ty(kernel.outputs[j]);
        let result = match acc.at {
            Some(at) => at,
            None => acc.value,
        };
        store(&mut l, &in_range, &out, &k, out_ty, &result);
    }
    tiles.close(&mut l);
    Ok(super::signed_entry(name, params, 0, &l.code))
}

/// A reduction over no element: the interpreter's identity (+0.0 for a float sum).
fn empty_result(l: &mut Lower<'_>, op: ReduceOp, ty: ScalarType) -> Acc {
    if op == ReduceOp::Sum && ty.is_float() {
        let class = class_of(ty).expect("a float");
        let zero = if ty == ScalarType::F32 {
            f32_imm(0.0)
        } else {
            f64_imm(0.0)
        };
        return Acc {
            value: l.code.constant(class, &zero),
            at: None,
        };
    }
    if is_arg(op) {
        return Acc {
            value: l.never.clone(),
            at: Some(l.code.constant(Class::B64, "0")),
        };
    }
    l.identity(op, ty)
}
