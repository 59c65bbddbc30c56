//! Random kernels and columns for the differential tests of the renderers (the Cranelift
//! and PTX tests here, and the GPU self-test that `tests/gpu/run.sh` runs on a GPU).

use crate::abi::{bitmap_bytes, padded_rows, values_bytes, ColumnIn, ColumnOut, RunError};
use crate::aggregate::AggregateState;
use crate::groups::GroupTable;
use crate::interp::V;
use crate::interp::{self, write_tensor_value};
use crate::ir::{
    AggFunc, Aggregate, BinaryOp, Dim, Domain, Input, Kernel, Layout, Literal, Op, ReduceOp,
    ScalarType, UnaryOp, ValueId,
};
use crate::tensor_abi::element_bytes;

/// A small, seedable generator (xorshift64*), so that failures are reproducible by seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// An owned Arrow-like column.
#[derive(Debug, Clone)]
pub struct Column {
    pub ty: ScalarType,
    pub values: Vec<u8>,
    pub validity: Option<Vec<u8>>,
}

impl Column {
    pub fn as_in(&self) -> ColumnIn<'_> {
        ColumnIn {
            values: &self.values,
            validity: self.validity.as_deref(),
        }
    }
}

const NUMERIC: [ScalarType; 8] = [
    ScalarType::I8,
    ScalarType::I32,
    ScalarType::I64,
    ScalarType::U8,
    ScalarType::U64,
    ScalarType::F32,
    ScalarType::F64,
    ScalarType::I16,
];

/// Decimal types of the generated kernels: small and large precisions, scales 0 to 6.
const DECIMALS: [ScalarType; 5] = [
    ScalarType::Decimal128 {
        precision: 5,
        scale: 2,
    },
    ScalarType::Decimal128 {
        precision: 10,
        scale: 0,
    },
    ScalarType::Decimal128 {
        precision: 12,
        scale: 4,
    },
    ScalarType::Decimal128 {
        precision: 18,
        scale: 2,
    },
    ScalarType::Decimal128 {
        precision: 38,
        scale: 6,
    },
];

fn dec(precision: u8, scale: i8) -> ScalarType {
    ScalarType::Decimal128 { precision, scale }
}

/// Operand types whose `op` gives exactly the decimal `ty`, if the generator knows some.
fn decimal_operands(op: BinaryOp, ty: ScalarType) -> Option<(ScalarType, ScalarType)> {
    let (p, s) = crate::semantics::decimal_parts(ty)?;
    let candidates = match op {
        BinaryOp::Mul => {
            let (s1, p1) = (s / 2, (p as i8 - 1) / 2);
            vec![(dec(p1 as u8, s1), dec((p as i8 - 1 - p1) as u8, s - s1))]
        }
        _ => vec![
            (dec(p - 1, s), dec(p - 1, s)),
            (dec(p - 1, s), dec(p - 2, s - 1)),
        ],
    };
    candidates.into_iter().find(|(a, b)| {
        let valid = |t: ScalarType| {
            let (p, s) = crate::semantics::decimal_parts(t).expect("decimal");
            p >= 1 && s >= 0 && s as u8 <= p
        };
        valid(*a) && valid(*b) && crate::semantics::decimal_result(op, *a, *b) == Some(ty)
    })
}

/// The NaN that x86 arithmetic produces (sign bit set). Test data uses it so that every
/// NaN in a run has the same bits: IEEE leaves unspecified which NaN an operation on two
/// different NaNs returns, and compilers may swap the operands of `+` and `*`, so mixing
/// NaNs of both signs would make total-order comparisons of the results ambiguous.
pub const DEFAULT_NAN_64: f64 = f64::from_bits(0xFFF8_0000_0000_0000);
pub const DEFAULT_NAN_32: f32 = f32::from_bits(0xFFC0_0000);

/// A value of `ty` drawn to hit the edges: zero, ±1, MIN, MAX, NaN, ±inf, -0.0.
pub fn random_value(rng: &mut Rng, ty: ScalarType) -> V {
    match ty {
        ScalarType::Bool => V::B(rng.chance(50)),
        ScalarType::F64 => {
            let (r1, r2) = (
                (rng.next_u64() % 2000) as f64 / 7.0 - 100.0,
                (rng.next_u64() % 200) as f64 - 100.0,
            );
            V::F64(rng.pick(&[
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -2.5,
                DEFAULT_NAN_64,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e300,
                -3.0e18,
                9.3e18,
                r1,
                r2,
            ]))
        }
        ScalarType::F32 => {
            let r = (rng.next_u64() % 2000) as f32 / 3.0 - 300.0;
            V::F32(rng.pick(&[
                0.0f32,
                -0.0,
                1.0,
                -1.5,
                DEFAULT_NAN_32,
                f32::INFINITY,
                f32::NEG_INFINITY,
                3.0e9,
                r,
            ]))
        }
        ty => {
            let (lo, hi) = crate::semantics::int_range(ty).expect("integer");
            let v = match rng.below(6) {
                0 => lo,
                1 => hi,
                2 => 0,
                3 => rng.pick(&[-1i128, 1, 2, -2]).clamp(lo, hi),
                _ => ((rng.next_u64() % 201) as i128 - 100).clamp(lo, hi),
            };
            V::I(v)
        }
    }
}

pub fn random_column(rng: &mut Rng, ty: ScalarType, rows: usize, null_percent: u64) -> Column {
    let mut values = vec![0u8; values_bytes(ty, rows)];
    let mut validity = vec![0u8; bitmap_bytes(rows)];
    let decimal = crate::semantics::decimal_parts(ty).is_some();
    for row in 0..rows {
        let mut v = random_value(rng, ty);
        if decimal && rng.chance(3) {
            // Arrow does not hold decimals to their precision: nor does this data. The
            // edges of 64 bits are where the JIT leaves its narrow path.
            v = V::I(rng.pick(&[
                i128::MIN,
                i128::MAX,
                -(1i128 << 100),
                1i128 << 64,
                i64::MIN as i128,
                i64::MAX as i128,
                1i128 << 63,
                -(1i128 << 63) - 1,
            ]));
        }
        crate::interp::write_value(&mut values, ty, row, v);
        if !rng.chance(null_percent) {
            crate::abi::set_bit(&mut validity, row);
        }
    }
    Column {
        ty,
        values,
        validity: (null_percent > 0).then_some(validity),
    }
}

/// Builds random typed expressions into a kernel.
pub struct Generator<'a> {
    pub rng: &'a mut Rng,
    pub kernel: Kernel,
    /// Restrict values to f64 (the vectorized path).
    pub f64_only: bool,
}

impl Generator<'_> {
    fn numeric(&mut self) -> ScalarType {
        if self.f64_only {
            ScalarType::F64
        } else if self.rng.chance(20) {
            self.rng.pick(&DECIMALS)
        } else {
            self.rng.pick(&NUMERIC)
        }
    }

    /// A type `CAST(_ AS to)` is computed from.
    fn cast_source(&mut self, to: ScalarType) -> ScalarType {
        match crate::semantics::decimal_parts(to) {
            Some((p, s)) => match self.rng.below(3) {
                0 => self.rng.pick(&NUMERIC[..3]),
                1 if s > 0 => dec(p.saturating_sub(2).max(s as u8 - 1).max(1), s - 1),
                _ => dec(p.min(37) + 1, s),
            },
            None if !to.is_float() => self.rng.pick(&NUMERIC),
            None => self.numeric(),
        }
    }

    fn leaf(&mut self, ty: ScalarType) -> ValueId {
        let existing: Vec<usize> = (0..self.kernel.inputs.len())
            .filter(|i| self.kernel.inputs[*i].ty == ty)
            .collect();
        if self.rng.chance(25) {
            let literal = if self.rng.chance(10) {
                Literal::Null
            } else {
                match random_value(self.rng, ty) {
                    V::B(b) => Literal::Bool(b),
                    V::I(i) => Literal::Int(i),
                    V::F32(x) => Literal::f32(x),
                    V::F64(x) => Literal::f64(x),
                }
            };
            return self.kernel.push(Op::Const(literal), ty);
        }
        if !existing.is_empty() && self.rng.chance(60) {
            let i = self.rng.pick(&existing);
            return self.kernel.push(Op::Load(i), ty);
        }
        self.kernel.input(ty)
    }

    /// A random expression of type `ty`.
    pub fn expr(&mut self, ty: ScalarType, depth: usize) -> ValueId {
        if depth == 0 || self.rng.chance(20) {
            return self.leaf(ty);
        }
        if ty == ScalarType::Bool {
            return self.boolean(depth);
        }
        let d = depth - 1;
        // A guard for the node, if it turns out to be one that can fail (built first: a
        // guard is an earlier node).
        let guard = self.rng.chance(40).then(|| self.expr(ScalarType::Bool, 1));
        let id = match self.rng.below(9) {
            0..=2 if crate::semantics::decimal_parts(ty).is_some() => {
                let op = self
                    .rng
                    .pick(&[BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul]);
                match decimal_operands(op, ty) {
                    Some((ta, tb)) => {
                        let (a, b) = (self.expr(ta, d), self.expr(tb, d));
                        self.kernel.push(Op::Binary(op, a, b), ty)
                    }
                    None => self.leaf(ty),
                }
            }
            0..=2 => {
                let ops: &[BinaryOp] = if ty.is_float() {
                    &[BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div]
                } else {
                    &[
                        BinaryOp::Add,
                        BinaryOp::Sub,
                        BinaryOp::Mul,
                        BinaryOp::Div,
                        BinaryOp::Rem,
                    ]
                };
                let op = self.rng.pick(ops);
                let (a, b) = (self.expr(ty, d), self.expr(ty, d));
                self.kernel.push(Op::Binary(op, a, b), ty)
            }
            3 if crate::semantics::decimal_parts(ty).is_some() => {
                let a = self.expr(ty, d);
                self.kernel.push(Op::Unary(UnaryOp::Neg, a), ty)
            }
            3 => {
                let mut ops = vec![UnaryOp::Abs];
                if ty.is_float() {
                    ops.extend([
                        UnaryOp::Neg,
                        UnaryOp::Sqrt,
                        UnaryOp::Floor,
                        UnaryOp::Ceil,
                        UnaryOp::Round,
                    ]);
                } else if ty.is_signed_int() {
                    ops.push(UnaryOp::Neg);
                }
                let op = self.rng.pick(&ops);
                let a = self.expr(ty, d);
                self.kernel.push(Op::Unary(op, a), ty)
            }
            4 if !self.f64_only => {
                let from = self.cast_source(ty);
                let a = self.expr(from, d);
                self.kernel.push(Op::Cast(a), ty)
            }
            5 => {
                let n = 1 + self.rng.below(2);
                let branches = (0..n)
                    .map(|_| (self.expr(ScalarType::Bool, d), self.expr(ty, d)))
                    .collect();
                let otherwise = self.rng.chance(70).then(|| self.expr(ty, d));
                self.kernel.push(
                    Op::Case {
                        branches,
                        otherwise,
                    },
                    ty,
                )
            }
            6 => {
                let args = (0..1 + self.rng.below(3))
                    .map(|_| self.expr(ty, d))
                    .collect();
                let op = match self.rng.below(3) {
                    0 => Op::Coalesce(args),
                    1 => Op::Least(args),
                    _ => Op::Greatest(args),
                };
                self.kernel.push(op, ty)
            }
            7 => {
                let (a, b) = (self.expr(ty, d), self.expr(ty, d));
                self.kernel.push(Op::NullIf(a, b), ty)
            }
            _ => self.leaf(ty),
        };
        if self.kernel.node(id).can_fail(&self.kernel) && guard.is_some_and(|g| g < id) {
            self.kernel.nodes[id.index()].guard = guard;
        }
        id
    }

    fn boolean(&mut self, depth: usize) -> ValueId {
        let d = depth - 1;
        let b = ScalarType::Bool;
        match self.rng.below(6) {
            0 | 1 => {
                let ty = if self.rng.chance(15) {
                    b
                } else {
                    self.numeric()
                };
                let op = self.rng.pick(&[
                    BinaryOp::Eq,
                    BinaryOp::NotEq,
                    BinaryOp::Lt,
                    BinaryOp::LtEq,
                    BinaryOp::Gt,
                    BinaryOp::GtEq,
                ]);
                let (x, y) = (self.expr(ty, d), self.expr(ty, d));
                self.kernel.push(Op::Binary(op, x, y), b)
            }
            2 => {
                let op = self.rng.pick(&[BinaryOp::And, BinaryOp::Or]);
                let (x, y) = (self.expr(b, d), self.expr(b, d));
                self.kernel.push(Op::Binary(op, x, y), b)
            }
            3 => {
                let op = self
                    .rng
                    .pick(&[UnaryOp::Not, UnaryOp::IsNull, UnaryOp::IsNotNull]);
                let ty = if op == UnaryOp::Not {
                    b
                } else {
                    self.numeric()
                };
                let x = self.expr(ty, d);
                self.kernel.push(Op::Unary(op, x), b)
            }
            4 => {
                let branches = vec![(self.expr(b, d), self.expr(b, d))];
                let otherwise = self.rng.chance(50).then(|| self.expr(b, d));
                self.kernel.push(
                    Op::Case {
                        branches,
                        otherwise,
                    },
                    b,
                )
            }
            _ => {
                let (x, y) = (self.expr(b, d), self.expr(b, d));
                self.kernel.push(Op::Coalesce(vec![x, y]), b)
            }
        }
    }
}

/// A random kernel: 1–3 outputs, sometimes a selection.
pub fn random_kernel(rng: &mut Rng, depth: usize) -> Kernel {
    let f64_only = rng.chance(30);
    let mut g = Generator {
        rng,
        kernel: Kernel::rows(),
        f64_only,
    };
    let outputs = 1 + g.rng.below(3);
    for _ in 0..outputs {
        let ty = if g.rng.chance(20) {
            ScalarType::Bool
        } else {
            g.numeric()
        };
        let id = g.expr(ty, depth);
        g.kernel.outputs.push(id);
    }
    if g.rng.chance(35) {
        let sel = g.expr(ScalarType::Bool, depth);
        g.kernel.selection = Some(sel);
    }
    g.kernel
}

/// A random aggregating kernel: a random kernel whose outputs become aggregates (sum where
/// the type is summed, else min or max, moments of floats, sometimes a count), sometimes
/// with `count(*)`.
pub fn random_aggregating_kernel(rng: &mut Rng, depth: usize) -> Kernel {
    let mut kernel = random_kernel(rng, depth);
    let outputs = std::mem::take(&mut kernel.outputs);
    for arg in outputs {
        let ty = kernel.ty(arg);
        let mut choices = vec![AggFunc::Count];
        if crate::ir::aggregate_summable(ty) {
            choices.extend([AggFunc::Sum, AggFunc::Sum]);
        }
        if ty != ScalarType::Bool {
            choices.extend([AggFunc::Min, AggFunc::Max]);
        }
        if ty == ScalarType::F64 {
            choices.push(AggFunc::Moments);
        }
        let func = rng.pick(&choices);
        kernel.aggregates.push(Aggregate {
            func,
            arg: Some(arg),
        });
    }
    if rng.chance(30) {
        kernel.aggregates.push(Aggregate {
            func: AggFunc::Count,
            arg: None,
        });
    }
    kernel
}

/// A random grouping kernel: a random aggregating kernel grouped by one or two keys read
/// from new inputs (small domains, so that groups repeat, and NULLs).
pub fn random_grouping_kernel(rng: &mut Rng, depth: usize) -> Kernel {
    let mut kernel = random_aggregating_kernel(rng, depth);
    for _ in 0..1 + rng.below(2) {
        let ty = rng.pick(&[
            ScalarType::I8,
            ScalarType::U8,
            ScalarType::Bool,
            ScalarType::I32,
            ScalarType::I64,
            ScalarType::U64,
            ScalarType::Date32,
        ]);
        let key = kernel.input(ty);
        kernel.group_keys.push(key);
    }
    if rng.chance(10) {
        // Keys alone (DataFusion's plan of `count(DISTINCT …)` and of `SELECT DISTINCT`).
        kernel.aggregates.clear();
    }
    kernel
}

/// A group table in comparable form: per group (in key order), its header, keys and the
/// [`state_image`] of its aggregates.
pub fn table_image(kernel: &Kernel, table: &GroupTable) -> Vec<GroupImage> {
    let mut groups: Vec<GroupImage> = table
        .iter()
        .map(|(header, keys, slots)| {
            let state = (0..kernel.aggregates.len())
                .map(|i| {
                    (
                        crate::aggregate::rows_of(slots, i),
                        value_element(slots, kernel, i),
                    )
                })
                .collect();
            (header, keys.to_vec(), state)
        })
        .collect();
    groups.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    groups
}

/// One group of a [`table_image`].
pub type GroupImage = (u64, Vec<u64>, Vec<(u64, Option<Element>)>);

/// An aggregate state in comparable form: per aggregate, the rows counted and the value
/// (NaN of either sign and payload as NaN).
pub fn state_image(kernel: &Kernel, state: &AggregateState) -> Vec<(u64, Option<Element>)> {
    (0..kernel.aggregates.len())
        .map(|i| (state.rows(i), value_element(state.slots(), kernel, i)))
        .collect()
}

/// Aggregate `i`'s value in comparable form; for moments, the mean and the sum of squared
/// deviations together (NaN if either is).
fn value_element(slots: &[u64], kernel: &Kernel, i: usize) -> Option<Element> {
    if kernel.aggregates[i].func != AggFunc::Moments {
        return crate::aggregate::value_of(slots, kernel, i).map(element);
    }
    let (mean, m2) = crate::aggregate::moments_of(slots, i);
    Some(if mean.is_nan() || m2.is_nan() {
        Element::NaN
    } else {
        Element::Bits(mean.to_bits() as u128 | (m2.to_bits() as u128) << 64)
    })
}

/// A value in comparable form.
pub fn element(v: V) -> Element {
    match v {
        V::F64(x) if x.is_nan() => Element::NaN,
        V::F32(x) if x.is_nan() => Element::NaN,
        V::F64(x) => Element::Bits(x.to_bits() as u128),
        V::F32(x) => Element::Bits(x.to_bits() as u128),
        V::I(i) => Element::Bits(i as u128),
        V::B(b) => Element::Bits(b as u128),
    }
}

/// The outputs of one run, trimmed to the rows written.
#[derive(Debug, PartialEq)]
pub struct RunResult {
    pub rows: usize,
    pub selection: Option<Vec<bool>>,
    /// Per output: per row, `None` for NULL or the element's comparable form.
    pub columns: Vec<Vec<Option<Element>>>,
}

/// An element compared across renderers: floats by bits, NaN of either sign by NaN-ness.
#[derive(Debug, PartialEq)]
pub enum Element {
    Bits(u128),
    NaN,
}

/// The signature of a renderer's run over prepared buffers.
pub type Runner<'r> = dyn FnOnce(&[ColumnIn<'_>], &mut [ColumnOut<'_>], Option<&mut [u8]>) -> Result<usize, RunError>
    + 'r;

/// Every output buffer's validity bits for the rows a run wrote, and the values of its
/// non-NULL rows (bit by bit for booleans, byte by byte otherwise). Two runs over value
/// buffers filled with different bytes give the same image only if the kernel wrote every
/// value that is read: the engine does not initialize value buffers (it zeroes bitmaps,
/// boolean values included).
pub fn written_image(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
    fill: u8,
    run: Box<Runner<'_>>,
) -> Result<Vec<Vec<u8>>, RunError> {
    let (buffers, _, written) = run_into(kernel, columns, rows, fill, run)?;
    Ok(kernel
        .outputs
        .iter()
        .zip(&buffers)
        .map(|(o, (values, validity))| {
            let ty = kernel.ty(*o);
            let mut image: Vec<u8> = (0..written)
                .map(|r| crate::abi::get_bit(validity, r) as u8)
                .collect();
            let width = ty.byte_width();
            for r in 0..written {
                if !crate::abi::get_bit(validity, r) {
                    // A NULL's value is never read (Arrow's rule); its validity bit is.
                    continue;
                }
                if ty == ScalarType::Bool {
                    image.push(crate::abi::get_bit(values, r) as u8);
                } else {
                    image.extend_from_slice(&values[r * width..(r + 1) * width]);
                }
            }
            image
        })
        .collect())
}

type Buffers = Vec<(Vec<u8>, Vec<u8>)>;

/// Runs `kernel` over output buffers filled with `fill`; the buffers, the selection and
/// the rows written.
fn run_into(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
    fill: u8,
    run: Box<Runner<'_>>,
) -> Result<(Buffers, Option<Vec<u8>>, usize), RunError> {
    let padded = padded_rows(rows);
    let mut buffers: Buffers = kernel
        .outputs
        .iter()
        .map(|o| {
            (
                // The engine zeroes bitmaps (validity, selection, boolean values) and
                // leaves other values uninitialized.
                vec![
                    if kernel.ty(*o) == ScalarType::Bool {
                        0
                    } else {
                        fill
                    };
                    values_bytes(kernel.ty(*o), padded)
                ],
                vec![0u8; bitmap_bytes(padded)],
            )
        })
        .collect();
    let mut selection = kernel.selection.map(|_| vec![0u8; bitmap_bytes(padded)]);
    let inputs: Vec<ColumnIn<'_>> = columns.iter().map(Column::as_in).collect();
    let written = {
        let mut outs: Vec<ColumnOut<'_>> = buffers
            .iter_mut()
            .map(|(v, b)| ColumnOut::new(v, b))
            .collect();
        run(&inputs, &mut outs, selection.as_deref_mut())?
    };
    Ok((buffers, selection, written))
}

/// Runs `kernel` with `run` over `columns`, packaging what it wrote.
pub fn run_with(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
    run: impl FnOnce(
        &[ColumnIn<'_>],
        &mut [ColumnOut<'_>],
        Option<&mut [u8]>,
    ) -> Result<usize, RunError>,
) -> Result<RunResult, RunError> {
    let (buffers, selection, written) = run_into(kernel, columns, rows, 0, Box::new(run))?;
    let columns = kernel
        .outputs
        .iter()
        .zip(&buffers)
        .map(|(o, (values, validity))| {
            let ty = kernel.ty(*o);
            (0..written)
                .map(|row| {
                    crate::abi::get_bit(validity, row)
                        .then(|| element(crate::interp::read_value(values, ty, row)))
                })
                .collect()
        })
        .collect();
    Ok(RunResult {
        rows: written,
        selection: selection.map(|bits| (0..rows).map(|r| crate::abi::get_bit(&bits, r)).collect()),
        columns,
    })
}

/// Random columns for a kernel's inputs (a quarter to half of them with NULLs).
pub fn columns_for(kernel: &Kernel, rng: &mut Rng, rows: usize) -> Vec<Column> {
    kernel
        .inputs
        .iter()
        .map(|i| {
            let nulls = rng.pick(&[0, 0, 10, 50]);
            random_column(rng, i.ty, rows, nulls)
        })
        .collect()
}

/// Same outputs, or a failure that the interpreter finds too: the same kind on the same
/// row (`failures` lists every one the data raises).
pub fn agree(
    kernel: &Kernel,
    columns: &[Column],
    rows: usize,
    got: &Result<RunResult, RunError>,
    reference: &Result<RunResult, RunError>,
) -> bool {
    match (got, reference) {
        (Ok(x), Ok(y)) => x == y,
        (Err(RunError::Failed(failure)), Err(RunError::Failed(_))) => {
            let mut all = Vec::new();
            let _ = run_with(kernel, columns, rows, |i, o, s| {
                all = interp::failures(kernel, i, rows, o, s)?;
                Ok(0)
            });
            all.iter()
                .any(|f| f.kind == failure.kind && f.row == failure.row)
        }
        _ => false,
    }
}

pub const TENSOR_TYPES: [ScalarType; 7] = [
    ScalarType::I8,
    ScalarType::I32,
    ScalarType::I64,
    ScalarType::U8,
    ScalarType::U64,
    ScalarType::F32,
    ScalarType::F64,
];

/// Types of one width (4 or 8 bytes): kernels the vector loop takes.
pub const VECTOR_TYPES: [ScalarType; 5] = [
    ScalarType::I32,
    ScalarType::F32,
    ScalarType::I64,
    ScalarType::U64,
    ScalarType::F64,
];

/// An input's buffer, its offset and strides over `dims` (`dense_inner`: the innermost
/// stride is 1 or 0, as the vector loop needs).
pub fn strided_input(
    rng: &mut Rng,
    ty: ScalarType,
    dims: &[usize],
    dense_inner: bool,
) -> (Vec<u8>, usize, Vec<i64>) {
    let mut strides = vec![0i64; dims.len()];
    let mut step = 1i64;
    for a in (0..dims.len()).rev() {
        let inner = a + 1 == dims.len();
        let spread = if inner && dense_inner {
            1
        } else {
            rng.pick(&[1i64, 1, 2, 3])
        };
        strides[a] = match rng.below(5) {
            0 => 0,
            1 if !(inner && dense_inner) => -step * spread,
            _ => step * spread,
        };
        step *= (dims[a] as i64).max(1) * spread;
    }
    let (mut low, mut high) = (0i64, 0i64);
    for (&s, &n) in strides.iter().zip(dims) {
        let reach = s * (n.max(1) as i64 - 1);
        if reach < 0 {
            low += reach
        } else {
            high += reach
        }
    }
    let len = (high - low + 1) as usize;
    let mut bytes = vec![0u8; len * element_bytes(ty)];
    for i in 0..len {
        write_tensor_value(&mut bytes, ty, i, random_value(rng, ty));
    }
    (bytes, (-low) as usize, strides)
}

/// A random kernel and its inputs; `vector`: one value width, longer dense inner
/// dimensions and no reductions, so that most compile to the vector loop.
pub fn random_tensor_kernel(rng: &mut Rng, vector: bool) -> (Kernel, Vec<(Vec<u8>, usize)>) {
    let rank = if vector {
        1 + rng.below(3)
    } else {
        rng.below(4)
    };
    let sizes: &[usize] = if vector {
        &[1, 3, 4, 7, 16, 33]
    } else {
        &[0, 1, 2, 3, 5, 9]
    };
    let dims: Vec<usize> = (0..rank).map(|_| rng.pick(sizes)).collect();
    let ty = rng.pick(if vector {
        &VECTOR_TYPES[..]
    } else {
        &TENSOR_TYPES[..]
    });
    let mut k = Kernel {
        domain: Domain {
            dims: dims.iter().map(|&n| Dim::Fixed(n as u64)).collect(),
        },
        inputs: Vec::new(),
        nodes: Vec::new(),
        outputs: Vec::new(),
        selection: None,
        aggregates: Vec::new(),
        group_keys: Vec::new(),
    };
    let mut buffers = Vec::new();
    let mut values: Vec<ValueId> = Vec::new();
    for i in 0..1 + rng.below(3) {
        let (bytes, offset, strides) = strided_input(rng, ty, &dims, vector);
        k.inputs.push(Input {
            ty,
            layout: Layout::Strided(strides),
        });
        buffers.push((bytes, offset));
        values.push(k.push(Op::Load(i), ty));
    }
    let float = ty.is_float();
    for _ in 0..1 + rng.below(6) {
        let a = rng.pick(&values);
        let b = rng.pick(&values);
        let mut arithmetic = vec![
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Max,
            BinaryOp::Min,
            BinaryOp::FloorDiv,
            BinaryOp::FloorMod,
        ];
        if !float {
            arithmetic.extend([BinaryOp::BitAnd, BinaryOp::BitOr, BinaryOp::BitXor]);
        }
        let v = match rng.below(7) {
            0 => k.push(Op::Binary(rng.pick(&arithmetic), a, b), ty),
            1 if float => k.push(
                Op::Binary(rng.pick(&[BinaryOp::Div, BinaryOp::Pow]), a, b),
                ty,
            ),
            2 if float => k.push(
                Op::Unary(
                    rng.pick(&[
                        UnaryOp::Exp,
                        UnaryOp::Ln,
                        UnaryOp::Sqrt,
                        UnaryOp::Tanh,
                        UnaryOp::Sin,
                        UnaryOp::Floor,
                        UnaryOp::Abs,
                        UnaryOp::Neg,
                    ]),
                    a,
                ),
                ty,
            ),
            2 => k.push(
                Op::Unary(
                    if ty.is_signed_int() {
                        rng.pick(&[UnaryOp::Abs, UnaryOp::Neg, UnaryOp::BitNot])
                    } else {
                        rng.pick(&[UnaryOp::Abs, UnaryOp::BitNot])
                    },
                    a,
                ),
                ty,
            ),
            3 => {
                let c = k.push(
                    Op::Binary(
                        rng.pick(&[
                            BinaryOp::IeeeLt,
                            BinaryOp::IeeeEq,
                            BinaryOp::IeeeGtEq,
                            BinaryOp::IeeeNotEq,
                        ]),
                        a,
                        b,
                    ),
                    ScalarType::Bool,
                );
                k.push(
                    Op::Case {
                        branches: vec![(c, a)],
                        otherwise: Some(b),
                    },
                    ty,
                )
            }
            4 => {
                let to = if vector {
                    // A cast through another type of the same width keeps one width.
                    let same: Vec<ScalarType> = VECTOR_TYPES
                        .iter()
                        .copied()
                        .filter(|t| element_bytes(*t) == element_bytes(ty))
                        .collect();
                    rng.pick(&same)
                } else {
                    rng.pick(&TENSOR_TYPES)
                };
                let c = k.push(Op::Cast(a), to);
                k.push(Op::Cast(c), ty)
            }
            5 => {
                let lit = if float {
                    if ty == ScalarType::F32 {
                        Literal::F32(2.5f32.to_bits())
                    } else {
                        Literal::F64((-1.25f64).to_bits())
                    }
                } else {
                    Literal::Int(3)
                };
                let c = k.push(Op::Const(lit), ty);
                k.push(Op::Binary(BinaryOp::Mul, a, c), ty)
            }
            _ => {
                let nan = k.push(Op::Unary(UnaryOp::IsNan, a), ScalarType::Bool);
                let not = k.push(Op::Unary(UnaryOp::Not, nan), ScalarType::Bool);
                k.push(
                    Op::Case {
                        branches: vec![(not, a)],
                        otherwise: Some(b),
                    },
                    ty,
                )
            }
        };
        values.push(v);
    }
    let last = *values.last().expect("one value at least");
    if rank > 0 && rng.chance(50) {
        let reduced = rng.below(rank + 1);
        let axes: Vec<usize> = (rank - reduced..rank).collect();
        let op = rng.pick(&[
            ReduceOp::Sum,
            ReduceOp::Prod,
            ReduceOp::Max,
            ReduceOp::Min,
            ReduceOp::ArgMax,
            ReduceOp::ArgMin,
        ]);
        let empty = axes.iter().any(|&a| dims[a] == 0);
        let op = if empty { ReduceOp::Sum } else { op };
        let out_ty = if matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin) {
            ScalarType::I64
        } else {
            ty
        };
        let r = k.push(
            Op::Reduce {
                op,
                arg: last,
                axes,
            },
            out_ty,
        );
        k.outputs.push(r);
    } else {
        k.outputs.push(last);
        if !vector && rng.chance(30) {
            let c = k.push(
                Op::Binary(BinaryOp::IeeeGt, last, values[0]),
                ScalarType::Bool,
            );
            k.outputs.push(c);
        }
    }
    (k, buffers)
}

/// Equal bytes, but any NaN equals any NaN (payloads differ between libm and hardware).
pub fn same(a: &[u8], b: &[u8], ty: ScalarType) -> bool {
    let w = element_bytes(ty);
    a.chunks(w).zip(b.chunks(w)).all(|(x, y)| match ty {
        ScalarType::F64 => {
            let (x, y) = (
                f64::from_le_bytes(x.try_into().unwrap()),
                f64::from_le_bytes(y.try_into().unwrap()),
            );
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        ScalarType::F32 => {
            let (x, y) = (
                f32::from_le_bytes(x.try_into().unwrap()),
                f32::from_le_bytes(y.try_into().unwrap()),
            );
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => x == y,
    })
}

/// Whether a float sum or product of the GPU's order is close to the interpreter's:
/// within `n · ε` of the sum of magnitudes (sums) or relatively (products); both
/// non-finite alike, or a product that over- or underflowed in one order.
pub fn close_in_another_order(
    expected: f64,
    got: f64,
    magnitude: f64,
    n: usize,
    epsilon: f64,
    product: bool,
) -> bool {
    if expected.to_bits() == got.to_bits() || (expected.is_nan() && got.is_nan()) {
        return true;
    }
    let tolerance = 4.0 * (n as f64 + 1.0) * epsilon;
    if product {
        let extreme = |x: f64| !x.is_finite() || x == 0.0 || x.abs() < 1e-280 || x.abs() > 1e280;
        return extreme(expected)
            || extreme(got)
            || (expected - got).abs() <= tolerance * expected.abs().max(got.abs());
    }
    if !magnitude.is_finite() {
        return true;
    }
    (expected - got).abs() <= tolerance * magnitude
}

/// The interpreter's sum of magnitudes of a sum's terms (the kernel summing |arg|).
pub fn magnitudes(kernel: &Kernel, buffers: &[(Vec<u8>, usize)]) -> Vec<f64> {
    use crate::ir::{ReduceOp, UnaryOp};
    use crate::tensor_abi::{output_shape, TensorIn, TensorOut};
    let mut k = kernel.clone();
    let Op::Reduce { arg, axes, .. } = k.node(k.outputs[0]).op.clone() else {
        return Vec::new();
    };
    let ty = k.ty(arg);
    let abs = k.push(Op::Unary(UnaryOp::Abs, arg), ty);
    let sum = k.push(
        Op::Reduce {
            op: ReduceOp::Sum,
            arg: abs,
            axes,
        },
        ty,
    );
    k.outputs = vec![sum];
    let n: usize = output_shape(&k).iter().product();
    let w = crate::tensor_abi::element_bytes(ty);
    let mut out = vec![0u8; n * w];
    let inputs: Vec<TensorIn<'_>> = buffers
        .iter()
        .map(|(b, o)| TensorIn {
            bytes: b,
            offset: *o,
        })
        .collect();
    interp::run_tensor(&k, &inputs, &mut [TensorOut { bytes: &mut out }]).expect("runs");
    out.chunks(w)
        .map(|c| {
            if w == 4 {
                f32::from_le_bytes(c.try_into().unwrap()) as f64
            } else {
                f64::from_le_bytes(c.try_into().unwrap())
            }
        })
        .collect()
}

/// The interpreter's outputs of a tensor kernel over `buffers` (each input's bytes and the
/// element index of its domain index zero).
pub fn interp_tensor(
    kernel: &Kernel,
    buffers: &[(Vec<u8>, usize)],
) -> Result<Vec<Vec<u8>>, RunError> {
    use crate::tensor_abi::{output_shape, TensorIn, TensorOut};
    let n: usize = output_shape(kernel).iter().product();
    let inputs: Vec<TensorIn<'_>> = buffers
        .iter()
        .map(|(b, o)| TensorIn {
            bytes: b,
            offset: *o,
        })
        .collect();
    let mut outputs: Vec<Vec<u8>> = kernel
        .outputs
        .iter()
        .map(|o| vec![0u8; n * element_bytes(kernel.ty(*o))])
        .collect();
    {
        let mut outs: Vec<TensorOut<'_>> =
            outputs.iter_mut().map(|b| TensorOut { bytes: b }).collect();
        interp::run_tensor(kernel, &inputs, &mut outs)?;
    }
    Ok(outputs)
}

/// Whether another renderer's tensor outputs `got` are the interpreter's `expected`: the
/// same bytes (any NaN equal to any NaN), except float sums and products, which a GPU folds
/// in its own order ([`close_in_another_order`]). The first output that differs, if any.
pub fn tensor_outputs_match(
    kernel: &Kernel,
    buffers: &[(Vec<u8>, usize)],
    expected: &[Vec<u8>],
    got: &[Vec<u8>],
) -> Result<(), usize> {
    let n: usize = crate::tensor_abi::output_shape(kernel).iter().product();
    let terms = crate::tensor_abi::extents(kernel).iter().product::<usize>() / n.max(1);
    for (j, (e, g)) in expected.iter().zip(got).enumerate() {
        let ty = kernel.ty(kernel.outputs[j]);
        let op = match kernel.node(kernel.outputs[j]).op {
            Op::Reduce { op, .. } => Some(op),
            _ => None,
        };
        let reordered = ty.is_float() && matches!(op, Some(ReduceOp::Sum | ReduceOp::Prod));
        let ok = if reordered {
            let w = element_bytes(ty);
            let value = |c: &[u8]| match w {
                4 => f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64,
                _ => f64::from_le_bytes(c.try_into().expect("8 bytes")),
            };
            let eps = if w == 4 {
                f32::EPSILON as f64
            } else {
                f64::EPSILON
            };
            let mags = magnitudes(kernel, buffers);
            e.chunks(w).zip(g.chunks(w)).enumerate().all(|(i, (x, y))| {
                let magnitude = mags.get(i).copied().unwrap_or(f64::INFINITY);
                close_in_another_order(
                    value(x),
                    value(y),
                    magnitude,
                    terms,
                    eps,
                    op == Some(ReduceOp::Prod),
                )
            })
        } else {
            same(e, g, ty)
        };
        if !ok {
            return Err(j);
        }
    }
    Ok(())
}
