//! The text form of a kernel, as EXPLAIN shows it:
//!
//! ```text
//! kernel rows(in0: f64 "a", in1: f64 "b") -> (f64)
//!   %0 = load in0 : f64
//!   %1 = load in1 : f64
//!   %2 = mul %0, %1 : f64
//!   %3 = gt %2, 1.0 : bool
//!   select %3
//!   out0 = %2
//! ```

use std::fmt::Write;

use crate::ir::{Dim, Kernel, Layout, Op, UnaryOp};

/// Renders `kernel`; `input_names` (one per input, may be empty) label the inputs.
pub fn pretty(kernel: &Kernel, input_names: &[String]) -> String {
    let mut out = String::new();
    let domain: Vec<String> = kernel
        .domain
        .dims
        .iter()
        .map(|d| match d {
            Dim::Rows => "rows".to_string(),
            Dim::Fixed(n) => n.to_string(),
        })
        .collect();
    let inputs: Vec<String> = kernel
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let mut s = format!("in{i}: {}", input.ty);
            if let Layout::Strided(strides) = &input.layout {
                let _ = write!(s, " strides{strides:?}");
            }
            if let Some(name) = input_names.get(i) {
                let _ = write!(s, " {name:?}");
            }
            s
        })
        .collect();
    let outputs: Vec<String> = kernel
        .outputs
        .iter()
        .map(|o| kernel.ty(*o).to_string())
        .collect();
    let _ = writeln!(
        out,
        "kernel [{}]({}) -> ({})",
        domain.join(", "),
        inputs.join(", "),
        outputs.join(", ")
    );
    for (i, node) in kernel.nodes.iter().enumerate() {
        let _ = write!(out, "  %{i} = {} : {}", op_text(&node.op), node.ty);
        if let Some(guard) = node.guard {
            let _ = write!(out, " guard {guard}");
        }
        out.push('\n');
    }
    if let Some(selection) = kernel.selection {
        let _ = writeln!(out, "  select {selection}");
    }
    for (i, output) in kernel.outputs.iter().enumerate() {
        let _ = writeln!(out, "  out{i} = {output}");
    }
    for (i, a) in kernel.aggregates.iter().enumerate() {
        let arg = a.arg.map_or("*".to_string(), |arg| arg.to_string());
        let _ = writeln!(out, "  agg{i} = {}({arg})", a.func.name());
    }
    out
}

fn list(ids: &[crate::ir::ValueId]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn op_text(op: &Op) -> String {
    match op {
        Op::Load(i) => format!("load in{i}"),
        Op::Const(literal) => format!("const {literal}"),
        Op::Unary(u, a) => format!("{} {a}", unary_name(*u)),
        Op::Binary(b, x, y) => format!("{} {x}, {y}", format!("{b:?}").to_lowercase()),
        Op::Cast(a) => format!("cast {a}"),
        Op::Case {
            branches,
            otherwise,
        } => {
            let mut s = "case".to_string();
            for (c, v) in branches {
                let _ = write!(s, " when {c} then {v}");
            }
            if let Some(e) = otherwise {
                let _ = write!(s, " else {e}");
            }
            s
        }
        Op::Coalesce(args) => format!("coalesce {}", list(args)),
        Op::NullIf(a, b) => format!("nullif {a}, {b}"),
        Op::Least(args) => format!("least {}", list(args)),
        Op::Greatest(args) => format!("greatest {}", list(args)),
        Op::Reduce { op, arg, axes } => {
            format!(
                "reduce {} {arg} over axes {axes:?}",
                format!("{op:?}").to_lowercase()
            )
        }
    }
}

fn unary_name(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Neg => "neg",
        UnaryOp::Abs => "abs",
        UnaryOp::Not => "not",
        UnaryOp::IsNull => "is_null",
        UnaryOp::IsNotNull => "is_not_null",
        UnaryOp::Sqrt => "sqrt",
        UnaryOp::Floor => "floor",
        UnaryOp::Ceil => "ceil",
        UnaryOp::Round => "round",
        UnaryOp::Exp => "exp",
        UnaryOp::Ln => "ln",
        UnaryOp::Sin => "sin",
        UnaryOp::Cos => "cos",
        UnaryOp::Tanh => "tanh",
        UnaryOp::IsNan => "is_nan",
        UnaryOp::BitNot => "bit_not",
    }
}
