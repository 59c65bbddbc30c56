//! Type checking of a kernel: a renderer may assume every kernel it gets passed this.

use super::{BinaryOp, Kernel, Op, ReduceOp, ScalarType, UnaryOp, ValueId};
use crate::semantics::{decimal_parts, decimal_result, is_castable};

fn is_decimal(ty: ScalarType) -> bool {
    decimal_parts(ty).is_some()
}

pub(super) fn validate(kernel: &Kernel) -> Result<(), String> {
    if !kernel.domain.is_rows() && kernel.selection.is_some() {
        return Err("a selection needs a one-dimensional domain".into());
    }
    for (index, node) in kernel.nodes.iter().enumerate() {
        let here = ValueId(index as u32);
        let earlier = |id: ValueId| {
            if id.index() < index {
                Ok(())
            } else {
                Err(format!(
                    "{here} refers to {id}, which is not an earlier node"
                ))
            }
        };
        for operand in node.op.operands() {
            earlier(operand)?;
        }
        if let Some(guard) = node.guard {
            earlier(guard)?;
            expect(kernel, guard, ScalarType::Bool, here)?;
        }
        check_node(kernel, here).map_err(|e| format!("{here}: {e}"))?;
    }
    for &output in &kernel.outputs {
        if output.index() >= kernel.nodes.len() {
            return Err(format!("output {output} does not exist"));
        }
    }
    check_reductions(kernel)?;
    super::aggregate::validate(kernel)?;
    if let Some(selection) = kernel.selection {
        if selection.index() >= kernel.nodes.len() {
            return Err(format!("selection {selection} does not exist"));
        }
        expect(kernel, selection, ScalarType::Bool, selection)?;
    }
    Ok(())
}

fn expect(kernel: &Kernel, id: ValueId, ty: ScalarType, at: ValueId) -> Result<(), String> {
    if kernel.ty(id) == ty {
        Ok(())
    } else {
        Err(format!(
            "{at}: {id} has type {}, expected {ty}",
            kernel.ty(id)
        ))
    }
}

fn same(kernel: &Kernel, args: &[ValueId], ty: ScalarType) -> Result<(), String> {
    if args.is_empty() {
        return Err("needs at least one argument".into());
    }
    match args.iter().find(|a| kernel.ty(**a) != ty) {
        Some(a) => Err(format!("{a} has type {}, expected {ty}", kernel.ty(*a))),
        None => Ok(()),
    }
}

fn check_node(kernel: &Kernel, id: ValueId) -> Result<(), String> {
    let node = kernel.node(id);
    let ty = node.ty;
    match &node.op {
        Op::Load(input) => match kernel.inputs.get(*input) {
            Some(decl) if decl.ty == ty => Ok(()),
            Some(decl) => Err(format!("loads input {input} of type {} as {ty}", decl.ty)),
            None => Err(format!("input {input} does not exist")),
        },
        Op::Const(literal) if literal.fits(ty) => Ok(()),
        Op::Const(literal) => Err(format!("{literal} is not a value of {ty}")),
        Op::Unary(op, a) => check_unary(*op, kernel.ty(*a), ty),
        Op::Binary(op, a, b) => check_binary(*op, kernel.ty(*a), kernel.ty(*b), ty),
        Op::Cast(a) if is_castable(kernel.ty(*a), ty) => Ok(()),
        Op::Cast(a) => Err(format!("no cast from {} to {ty}", kernel.ty(*a))),
        Op::Case {
            branches,
            otherwise,
        } => {
            let conditions: Vec<_> = branches.iter().map(|(c, _)| *c).collect();
            same(kernel, &conditions, ScalarType::Bool)?;
            let values: Vec<_> = branches.iter().map(|(_, v)| *v).chain(*otherwise).collect();
            same(kernel, &values, ty)
        }
        Op::Coalesce(args) | Op::Least(args) | Op::Greatest(args) => same(kernel, args, ty),
        Op::NullIf(a, b) => same(kernel, &[*a, *b], ty),
        Op::Reduce { op, arg, axes } => check_reduce(kernel, *op, kernel.ty(*arg), ty, axes),
    }
}

fn check_reduce(
    kernel: &Kernel,
    op: ReduceOp,
    arg: ScalarType,
    ty: ScalarType,
    axes: &[usize],
) -> Result<(), String> {
    if kernel.domain.is_rows() || kernel.domain.dims.contains(&super::Dim::Rows) {
        return Err("a reduction needs a tensor domain of fixed dimensions".into());
    }
    let rank = kernel.domain.dims.len();
    if axes.windows(2).any(|w| w[0] >= w[1]) || axes.iter().any(|&a| a >= rank) {
        return Err(format!(
            "reduction axes {axes:?} must ascend within the {rank} dimensions"
        ));
    }
    let ok = match op {
        ReduceOp::Sum | ReduceOp::Prod => arg == ty && arg.is_numeric(),
        ReduceOp::Min | ReduceOp::Max => arg == ty && (arg.is_numeric() || arg == ScalarType::Bool),
        ReduceOp::ArgMin | ReduceOp::ArgMax => {
            ty == ScalarType::I64 && (arg.is_numeric() || arg == ScalarType::Bool)
        }
        ReduceOp::Any | ReduceOp::All => arg == ScalarType::Bool && ty == ScalarType::Bool,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{op:?} is not defined from {arg} to {ty}"))
    }
}

/// Reductions are outputs that nothing reads, and a kernel's outputs are all reductions
/// over the same axes or none is (they share one output shape).
fn check_reductions(kernel: &Kernel) -> Result<(), String> {
    let axes_of = |id: ValueId| match &kernel.node(id).op {
        Op::Reduce { axes, .. } => Some(axes.clone()),
        _ => None,
    };
    for node in &kernel.nodes {
        let operands = node.op.operands().into_iter().chain(node.guard);
        if let Some(read) = operands.into_iter().find(|a| axes_of(*a).is_some()) {
            return Err(format!(
                "{read} is a reduction, which only an output may be"
            ));
        }
    }
    if let Some(selection) = kernel.selection.filter(|s| axes_of(*s).is_some()) {
        return Err(format!("{selection} is a reduction and cannot select"));
    }
    let shapes: Vec<_> = kernel.outputs.iter().map(|o| axes_of(*o)).collect();
    if shapes.windows(2).any(|w| w[0] != w[1]) {
        return Err("the outputs must all be reductions over the same axes, or none".into());
    }
    Ok(())
}

fn check_unary(op: UnaryOp, arg: ScalarType, ty: ScalarType) -> Result<(), String> {
    let ok = match op {
        UnaryOp::Neg => {
            arg == ty
                && (arg.is_float() || arg.is_signed_int() && arg.is_numeric() || is_decimal(arg))
        }
        UnaryOp::Abs => arg == ty && arg.is_numeric(),
        UnaryOp::Not => arg == ScalarType::Bool && ty == ScalarType::Bool,
        UnaryOp::IsNull | UnaryOp::IsNotNull => ty == ScalarType::Bool,
        UnaryOp::Sqrt
        | UnaryOp::Floor
        | UnaryOp::Ceil
        | UnaryOp::Round
        | UnaryOp::Exp
        | UnaryOp::Ln
        | UnaryOp::Sin
        | UnaryOp::Cos
        | UnaryOp::Tanh => arg == ty && arg.is_float(),
        UnaryOp::IsNan => ty == ScalarType::Bool,
        UnaryOp::BitNot => arg == ty && arg.is_integer(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{op:?} is not defined from {arg} to {ty}"))
    }
}

fn check_binary(op: BinaryOp, a: ScalarType, b: ScalarType, ty: ScalarType) -> Result<(), String> {
    let ok = if is_decimal(a) || is_decimal(b) {
        if op.is_comparison() {
            a == b && ty == ScalarType::Bool
        } else {
            decimal_result(op, a, b) == Some(ty)
        }
    } else if op.is_bitwise() {
        a == b && a == ty && (a.is_integer() || a == ScalarType::Bool)
    } else if op.is_arithmetic() {
        a == b && a == ty && a.is_numeric()
    } else if op.is_comparison() {
        a == b && ty == ScalarType::Bool
    } else {
        a == ScalarType::Bool && b == ScalarType::Bool && ty == ScalarType::Bool
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{a} {} {b} -> {ty} is not defined", op.symbol()))
    }
}
