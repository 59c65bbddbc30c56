//! The interpreter: the executable specification of the IR. It evaluates every node for
//! every row, one element at a time, with no cleverness, so that it is easy to check by
//! reading; the Cranelift and PTX renderers are tested against it.

mod scalar;
mod tensor;

pub use scalar::{read as read_value, wrap as wrap_int, write_slice as write_value, V};
pub use tensor::{read as read_tensor_value, run_tensor, write as write_tensor_value};

use crate::abi::{check_buffers, ColumnIn, ColumnOut, Failure, RunError};
use crate::aggregate::{fold_slots, AggregateState};
use crate::groups::{key_word, GroupTable};
use crate::ir::{BinaryOp, Kernel, Literal, Node, Op, UnaryOp, ValueId};

/// Runs `kernel` over `rows` rows; returns the number of rows written to the outputs (all of
/// them, or those the selection kept, whose bits are also set in `selection`).
pub fn run(
    kernel: &Kernel,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    outputs: &mut [ColumnOut<'_>],
    selection: Option<&mut [u8]>,
) -> Result<usize, RunError> {
    if !kernel.aggregates.is_empty() || !kernel.group_keys.is_empty() {
        return Err(RunError::BadBuffers(
            "a kernel with aggregates runs through `run_aggregating` or `run_grouping`".into(),
        ));
    }
    run_noting(
        kernel,
        inputs,
        rows,
        outputs,
        selection,
        None,
        Sink::Outputs,
    )
}

/// Where a run's kept rows go, besides the outputs.
enum Sink<'s> {
    Outputs,
    Aggregates(&'s mut AggregateState),
    Groups(&'s mut GroupTable),
}

/// Runs an aggregating kernel over `rows` rows, folding every kept row into `state` (in
/// row order). A failing aggregate is reported as node `nodes.len() + i` (aggregate `i`).
pub fn run_aggregating(
    kernel: &Kernel,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    state: &mut AggregateState,
) -> Result<(), RunError> {
    check_state(kernel, state)?;
    let sink = Sink::Aggregates(state);
    run_noting(kernel, inputs, rows, &mut [], None, None, sink).map(|_| ())
}

/// Runs a grouping kernel over `rows` rows, folding every kept row into its group's
/// aggregates in `table` (which has room reserved for `rows` new groups).
pub fn run_grouping(
    kernel: &Kernel,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    table: &mut GroupTable,
) -> Result<(), RunError> {
    check_table(kernel, table, rows)?;
    let sink = Sink::Groups(table);
    run_noting(kernel, inputs, rows, &mut [], None, None, sink).map(|_| ())
}

/// Checks that `table` belongs to a grouping kernel like `kernel` and has room for `rows`
/// new groups.
pub fn check_table(kernel: &Kernel, table: &mut GroupTable, rows: usize) -> Result<(), RunError> {
    let stride = 1 + kernel.group_keys.len() + crate::aggregate::slots_len(kernel.aggregates.len());
    if kernel.group_keys.is_empty() || table.stride() != stride {
        return Err(RunError::BadBuffers(format!(
            "a group table of {stride} words a slot is needed for {} keys and {} aggregates",
            kernel.group_keys.len(),
            kernel.aggregates.len()
        )));
    }
    if !table.has_room(rows) {
        return Err(RunError::BadBuffers(format!(
            "the group table has no room reserved for {rows} rows"
        )));
    }
    Ok(())
}

/// Checks that `state` belongs to an ungrouped kernel with `kernel`'s aggregates.
pub fn check_state(kernel: &Kernel, state: &mut AggregateState) -> Result<(), RunError> {
    let expected = crate::aggregate::slots_len(kernel.aggregates.len());
    if kernel.aggregates.is_empty()
        || !kernel.group_keys.is_empty()
        || state.slots_mut().len() != expected
    {
        return Err(RunError::BadBuffers(format!(
            "an aggregate state of {expected} slots is needed for {} aggregates",
            kernel.aggregates.len()
        )));
    }
    Ok(())
}

/// Every failure a run raises (kind, node, row), where [`run`] stops at the first: the
/// failures a renderer may report. (Renderers evaluate a chunk of rows node by node, as
/// DataFusion evaluates a batch expression by expression, so the first one they meet is
/// not always the interpreter's first, which goes row by row.)
pub fn failures(
    kernel: &Kernel,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    outputs: &mut [ColumnOut<'_>],
    selection: Option<&mut [u8]>,
) -> Result<Vec<Failure>, RunError> {
    let mut failures = Vec::new();
    run_noting(
        kernel,
        inputs,
        rows,
        outputs,
        selection,
        Some(&mut failures),
        Sink::Outputs,
    )?;
    Ok(failures)
}

/// [`run`]; with `noted`, a failure is noted there and the run goes on with the value
/// renderers give where a failure is not raised.
fn run_noting(
    kernel: &Kernel,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    outputs: &mut [ColumnOut<'_>],
    mut selection: Option<&mut [u8]>,
    mut noted: Option<&mut Vec<Failure>>,
    mut sink: Sink<'_>,
) -> Result<usize, RunError> {
    check_buffers(kernel, inputs, rows, outputs, selection.as_deref())?;
    let mut values: Vec<Option<V>> = vec![None; kernel.nodes.len()];
    let outside = kernel.outside_selection();
    let mut written = 0;
    for row in 0..rows {
        // First what the selection needs, then (failing only on kept rows) the rest.
        for pass in [false, true] {
            let kept = kernel
                .selection
                .is_none_or(|sel| values[sel.index()].is_some_and(V::bool));
            for (index, node) in kernel.nodes.iter().enumerate() {
                if outside[index] == pass {
                    let id = ValueId(index as u32);
                    values[index] = match eval(kernel, id, node, &values, inputs, row) {
                        Err(RunError::Failed(_)) if pass && !kept => {
                            eval_quiet(kernel, node, &values)
                        }
                        Err(RunError::Failed(failure)) if noted.is_some() => {
                            noted.as_deref_mut().expect("noting").push(failure);
                            eval_quiet(kernel, node, &values)
                        }
                        other => other?,
                    };
                }
            }
        }
        if let Some(sel) = kernel.selection {
            if !values[sel.index()].is_some_and(V::bool) {
                continue;
            }
            if let Some(bits) = selection.as_deref_mut() {
                crate::abi::set_bit(bits, row);
            }
        }
        match &mut sink {
            Sink::Outputs => {}
            Sink::Aggregates(state) => fold_row(kernel, state.slots_mut(), &values, row)?,
            Sink::Groups(table) => {
                let (header, keys) = group_of(kernel, &values);
                fold_row(kernel, table.group_mut(header, &keys), &values, row)?;
            }
        }
        for (column, id) in outputs.iter_mut().zip(&kernel.outputs) {
            let v = values[id.index()];
            scalar::write(column, kernel.ty(*id), written, v);
            if v.is_some() {
                crate::abi::set_bit(column.validity, written);
            }
        }
        written += 1;
    }
    Ok(written)
}

/// A row's group: its header (1, and bit `k + 1` for a NULL key `k`) and key words.
fn group_of(kernel: &Kernel, values: &[Option<V>]) -> (u64, Vec<u64>) {
    let mut header = 1;
    let keys = kernel
        .group_keys
        .iter()
        .enumerate()
        .map(|(k, key)| {
            let v = values[key.index()];
            if v.is_none() {
                header |= 1 << (k + 1);
            }
            key_word(kernel.ty(*key), v)
        })
        .collect();
    (header, keys)
}

/// Folds one kept row into every aggregate of `slots`.
fn fold_row(
    kernel: &Kernel,
    slots: &mut [u64],
    values: &[Option<V>],
    row: usize,
) -> Result<(), RunError> {
    for (i, a) in kernel.aggregates.iter().enumerate() {
        // count(*) counts the row: any non-NULL stands for it.
        let v = a.arg.map_or(Some(V::B(true)), |arg| values[arg.index()]);
        fold_slots(slots, kernel, i, v).map_err(|kind| {
            RunError::Failed(Failure {
                kind,
                node: ValueId((kernel.nodes.len() + i) as u32),
                row,
            })
        })?;
    }
    Ok(())
}

/// One node on one row; `values` holds the earlier nodes of the same row.
fn eval(
    kernel: &Kernel,
    id: ValueId,
    node: &Node,
    values: &[Option<V>],
    inputs: &[ColumnIn<'_>],
    row: usize,
) -> Result<Option<V>, RunError> {
    let get = |v: &ValueId| values[v.index()];
    let ty = node.ty;
    Ok(match &node.op {
        Op::Load(i) => {
            let column = &inputs[*i];
            let valid = column.validity.is_none_or(|v| crate::abi::get_bit(v, row));
            valid.then(|| scalar::read(column.values, ty, row))
        }
        Op::Const(literal) => constant(*literal),
        Op::Unary(UnaryOp::IsNull, a) => Some(V::B(get(a).is_none())),
        Op::Unary(UnaryOp::IsNotNull, a) => Some(V::B(get(a).is_some())),
        Op::Unary(op, a) => match get(a) {
            Some(x) => {
                let (v, failure) = scalar::unary(*op, ty, x);
                raise_if_guarded(failure, id, node, values, row)?;
                Some(v)
            }
            None => None,
        },
        Op::Binary(BinaryOp::And, a, b) => and(get(a), get(b)),
        Op::Binary(BinaryOp::Or, a, b) => or(get(a), get(b)),
        Op::Binary(op, a, b) if op.is_comparison() => match (get(a), get(b)) {
            (Some(x), Some(y)) => Some(V::B(scalar::compare(*op, x, y))),
            _ => None,
        },
        Op::Binary(op, a, b) => match (get(a), get(b)) {
            (Some(x), Some(y)) => {
                let operands = (kernel.ty(*a), kernel.ty(*b));
                let (v, failure) = scalar::arith(*op, operands, ty, x, y);
                raise_if_guarded(failure, id, node, values, row)?;
                Some(v)
            }
            _ => None,
        },
        Op::Cast(a) => match get(a) {
            Some(x) => {
                let (v, failure) = scalar::cast(kernel.ty(*a), ty, x);
                raise_if_guarded(failure, id, node, values, row)?;
                Some(v)
            }
            None => None,
        },
        Op::Case {
            branches,
            otherwise,
        } => match branches.iter().find(|(c, _)| get(c).is_some_and(V::bool)) {
            Some((_, v)) => get(v),
            None => otherwise.as_ref().and_then(get),
        },
        Op::Coalesce(args) => args.iter().find_map(get),
        Op::NullIf(a, b) => match (get(a), get(b)) {
            (Some(x), Some(y)) if scalar::compare(BinaryOp::TotalEq, x, y) => None,
            (x, _) => x,
        },
        Op::Least(args) => extremum(args.iter().filter_map(get), BinaryOp::TotalLtEq),
        Op::Greatest(args) => extremum(args.iter().filter_map(get), BinaryOp::TotalGtEq),
        Op::Reduce { .. } => unreachable!("checked: row kernels have no reductions"),
    })
}

/// A failing node's value on a row where its failure is not raised.
fn eval_quiet(kernel: &Kernel, node: &Node, values: &[Option<V>]) -> Option<V> {
    let get = |v: &ValueId| values[v.index()];
    match &node.op {
        Op::Unary(op, a) => get(a).map(|x| scalar::unary(*op, node.ty, x).0),
        Op::Binary(op, a, b) => match (get(a), get(b)) {
            (Some(x), Some(y)) => {
                let operands = (kernel.ty(*a), kernel.ty(*b));
                Some(scalar::arith(*op, operands, node.ty, x, y).0)
            }
            _ => None,
        },
        Op::Cast(a) => get(a).map(|x| scalar::cast(kernel.ty(*a), node.ty, x).0),
        _ => None,
    }
}

fn constant(literal: Literal) -> Option<V> {
    match literal {
        Literal::Null => None,
        Literal::Bool(b) => Some(V::B(b)),
        Literal::Int(i) => Some(V::I(i)),
        Literal::F32(bits) => Some(V::F32(f32::from_bits(bits))),
        Literal::F64(bits) => Some(V::F64(f64::from_bits(bits))),
    }
}

/// Raises `failure` when the node's guard is TRUE on this row (or it has none).
fn raise_if_guarded(
    failure: Option<crate::abi::FailureKind>,
    id: ValueId,
    node: &Node,
    values: &[Option<V>],
    row: usize,
) -> Result<(), RunError> {
    let Some(kind) = failure else { return Ok(()) };
    let guarded = node
        .guard
        .is_none_or(|g| values[g.index()].is_some_and(V::bool));
    if !guarded {
        return Ok(());
    }
    Err(RunError::Failed(Failure {
        kind,
        node: id,
        row,
    }))
}

/// SQL AND: FALSE wins over NULL.
fn and(a: Option<V>, b: Option<V>) -> Option<V> {
    match (a.map(V::bool), b.map(V::bool)) {
        (Some(false), _) | (_, Some(false)) => Some(V::B(false)),
        (Some(true), Some(true)) => Some(V::B(true)),
        _ => None,
    }
}

/// SQL OR: TRUE wins over NULL.
fn or(a: Option<V>, b: Option<V>) -> Option<V> {
    match (a.map(V::bool), b.map(V::bool)) {
        (Some(true), _) | (_, Some(true)) => Some(V::B(true)),
        (Some(false), Some(false)) => Some(V::B(false)),
        _ => None,
    }
}

/// Folds `keep(best, v)` (total-order `<=` for LEAST, `>=` for GREATEST) over the values.
fn extremum(values: impl Iterator<Item = V>, keep: BinaryOp) -> Option<V> {
    values.reduce(|best, v| {
        if scalar::compare(keep, best, v) {
            best
        } else {
            v
        }
    })
}

#[cfg(test)]
mod tests;
