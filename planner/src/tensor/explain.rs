//! The text of `Tensor.explain()`: the graph as built, then the steps that realize it, each
//! fused kernel with its IR on request.

use std::collections::HashSet;
use std::fmt::Write;

use super::graph::{Kind, Tensor};
use super::program::{describe, Program, Slot, Step};
use super::resize::Resize;

/// The graph, one node a line, operands indented under the node; a node met again is
/// named, not repeated.
pub fn graph_text(root: &Tensor) -> String {
    let mut out = String::new();
    let mut seen = HashSet::new();
    node_lines(root, 0, &mut seen, &mut out);
    out
}

fn node_lines(t: &Tensor, depth: usize, seen: &mut HashSet<usize>, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    let what = match t.kind() {
        Kind::Source(_) => "data".to_string(),
        Kind::Scalar(l) => format!("scalar {l}"),
        Kind::Unary(f, _) => format!("{f:?}").to_lowercase(),
        Kind::Binary(f, _, _) => format!("{f:?}").to_lowercase(),
        Kind::Where(..) => "where".into(),
        Kind::Cast(_) => "astype".into(),
        Kind::Reduce {
            op, axes, keepdims, ..
        } => format!(
            "{} axis={axes:?}{}",
            format!("{op:?}").to_lowercase(),
            if *keepdims { " keepdims" } else { "" }
        ),
        Kind::View(op, _) => format!("view {op:?}").to_lowercase(),
        Kind::Concat { axis, .. } => format!("concat axis={axis}"),
        Kind::MatMul(..) => "matmul".into(),
        Kind::Resize(spec, _) => resize_label(spec),
    };
    let again = !seen.insert(t.id());
    let _ = writeln!(
        out,
        "{pad}{what} {:?} {}{}",
        t.shape(),
        t.dtype().name(),
        if again { " (shared, above)" } else { "" }
    );
    if !again {
        for input in t.inputs() {
            node_lines(input, depth + 1, seen, out);
        }
    }
}

/// The program: one paragraph a step; `ir`: each kernel's IR under it, and `extra(i)` (the
/// engine's Cranelift IR of step `i`) after that.
pub fn program_text(
    program: &Program,
    ir: bool,
    extra: &dyn Fn(usize) -> Option<String>,
) -> String {
    let mut out = String::new();
    let slot = |s: Slot| match s {
        Slot::Source(i) => format!("data{i}"),
        Slot::Step(i) => format!("step{i}"),
    };
    for (i, planned) in program.steps.iter().enumerate() {
        let shape = format!("{:?} {}", planned.shape, planned.dtype.name());
        match &planned.step {
            Step::Kernel {
                kernel,
                inputs,
                label,
            } => {
                let domain = corepy_codegen::tensor_abi::extents(kernel);
                let reads: Vec<String> = inputs.iter().map(|(s, _)| slot(*s)).collect();
                let _ = writeln!(
                    out,
                    "  step{i} = kernel over {domain:?} reading [{}] -> {shape}\n      fused: {label}",
                    reads.join(", ")
                );
                if ir {
                    let names: Vec<String> = inputs.iter().map(|(s, _)| slot(*s)).collect();
                    for line in corepy_codegen::pretty::pretty(kernel, &names).lines() {
                        let _ = writeln!(out, "      | {line}");
                    }
                    if let Some(text) = extra(i) {
                        for line in text.lines() {
                            let _ = writeln!(out, "      : {line}");
                        }
                    }
                }
            }
            Step::MatMul { a, b } => {
                let _ = writeln!(
                    out,
                    "  step{i} = matmul (gemm) {} @ {} -> {shape}",
                    slot(a.slot),
                    slot(b.slot)
                );
            }
            Step::Resize { input, spec } => {
                let _ = writeln!(
                    out,
                    "  step{i} = {} (fast_image_resize) {} -> {shape}",
                    resize_label(spec),
                    slot(input.slot)
                );
            }
            Step::Concat { axis, parts } => {
                let names: Vec<String> = parts.iter().map(|p| slot(p.slot)).collect();
                let _ = writeln!(
                    out,
                    "  step{i} = concat axis={axis} [{}] -> {shape}",
                    names.join(", ")
                );
            }
        }
    }
    let copies = if program.steps.is_empty() {
        " (a view: nothing to compute)"
    } else {
        ""
    };
    let _ = writeln!(out, "  result = {}{copies}", slot(program.result.slot));
    out
}

/// Both parts, headed.
pub fn explain(
    root: &Tensor,
    program: &Program,
    ir: bool,
    extra: &dyn Fn(usize) -> Option<String>,
) -> String {
    format!(
        "Tensor graph: {}\n{}\nProgram: {} step(s)\n{}",
        describe(root),
        graph_text(root),
        program.steps.len(),
        program_text(program, ir, extra)
    )
}

fn resize_label(spec: &Resize) -> String {
    format!(
        "resize {}x{} {}{} (axes {}, {})",
        spec.size.0,
        spec.size.1,
        spec.method.name(),
        if spec.antialias { " antialias" } else { "" },
        spec.height_axis,
        spec.width_axis
    )
}
