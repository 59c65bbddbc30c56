//! Type checking of a kernel: a renderer may assume every kernel it gets passed this.

use super::{BinaryOp, Kernel, Op, ScalarType, UnaryOp, ValueId};
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
    }
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
        UnaryOp::Sqrt | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round => {
            arg == ty && arg.is_float()
        }
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
