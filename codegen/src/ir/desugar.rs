//! Rewrites the convenience operations (COALESCE, NULLIF, LEAST, GREATEST) into CASE and
//! comparisons, so that a renderer needs to generate code for fewer operations. The
//! interpreter does not use this: it evaluates every operation as written, and the tests
//! compare both.

use super::{BinaryOp, Kernel, Literal, Node, Op, ScalarType, UnaryOp, ValueId};

/// The same kernel with COALESCE, NULLIF, LEAST and GREATEST spelled as CASE, and for each
/// of its nodes the node of `kernel` it computes (`None` for the helper nodes it adds).
pub fn desugar(kernel: &Kernel) -> (Kernel, Vec<Option<ValueId>>) {
    let mut out = Kernel {
        domain: kernel.domain.clone(),
        inputs: kernel.inputs.clone(),
        nodes: Vec::with_capacity(kernel.nodes.len()),
        outputs: Vec::new(),
        selection: None,
        aggregates: Vec::new(),
        group_keys: Vec::new(),
    };
    let mut map: Vec<ValueId> = Vec::with_capacity(kernel.nodes.len());
    let mut origin = Vec::with_capacity(kernel.nodes.len());
    for (index, node) in kernel.nodes.iter().enumerate() {
        let m = |id: &ValueId| map[id.index()];
        let guard = node.guard.map(|g| map[g.index()]);
        let ty = node.ty;
        let new = match &node.op {
            Op::Coalesce(args) => coalesce(&mut out, &args.iter().map(m).collect::<Vec<_>>(), ty),
            Op::NullIf(a, b) => nullif(&mut out, m(a), m(b), ty),
            Op::Least(args) => extremum(
                &mut out,
                &args.iter().map(m).collect::<Vec<_>>(),
                ty,
                BinaryOp::TotalLtEq,
            ),
            Op::Greatest(args) => extremum(
                &mut out,
                &args.iter().map(m).collect::<Vec<_>>(),
                ty,
                BinaryOp::TotalGtEq,
            ),
            op => {
                let op = remap(op, &map);
                out.nodes.push(Node { op, ty, guard });
                ValueId(out.nodes.len() as u32 - 1)
            }
        };
        map.push(new);
        origin.resize(out.nodes.len(), None);
        origin[new.index()] = Some(ValueId(index as u32));
    }
    out.outputs = kernel.outputs.iter().map(|o| map[o.index()]).collect();
    out.selection = kernel.selection.map(|s| map[s.index()]);
    out.aggregates = kernel
        .aggregates
        .iter()
        .map(|a| a.remap(|id| map[id.index()]))
        .collect();
    out.group_keys = kernel.group_keys.iter().map(|k| map[k.index()]).collect();
    (out, origin)
}

fn remap(op: &Op, map: &[ValueId]) -> Op {
    remap_op(op, &|id| map[id.index()])
}

/// `op` with every operand renamed by `m`.
pub(super) fn remap_op(op: &Op, m: &dyn Fn(ValueId) -> ValueId) -> Op {
    match op {
        Op::Load(i) => Op::Load(*i),
        Op::Const(l) => Op::Const(*l),
        Op::Unary(u, a) => Op::Unary(*u, m(*a)),
        Op::Binary(b, x, y) => Op::Binary(*b, m(*x), m(*y)),
        Op::Cast(a) => Op::Cast(m(*a)),
        Op::Case {
            branches,
            otherwise,
        } => Op::Case {
            branches: branches.iter().map(|(c, v)| (m(*c), m(*v))).collect(),
            otherwise: otherwise.map(m),
        },
        Op::Coalesce(args) => Op::Coalesce(args.iter().map(|a| m(*a)).collect()),
        Op::NullIf(a, b) => Op::NullIf(m(*a), m(*b)),
        Op::Least(args) => Op::Least(args.iter().map(|a| m(*a)).collect()),
        Op::Greatest(args) => Op::Greatest(args.iter().map(|a| m(*a)).collect()),
        Op::Reduce { op, arg, axes } => Op::Reduce {
            op: *op,
            arg: m(*arg),
            axes: axes.clone(),
        },
    }
}

fn is_not_null(k: &mut Kernel, a: ValueId) -> ValueId {
    k.push(Op::Unary(UnaryOp::IsNotNull, a), ScalarType::Bool)
}

/// `CASE WHEN a1 IS NOT NULL THEN a1 … ELSE an END`.
fn coalesce(k: &mut Kernel, args: &[ValueId], ty: ScalarType) -> ValueId {
    let (last, rest) = args.split_last().expect("validated: at least one argument");
    let branches = rest.iter().map(|a| (is_not_null(k, *a), *a)).collect();
    k.push(
        Op::Case {
            branches,
            otherwise: Some(*last),
        },
        ty,
    )
}

/// `CASE WHEN a = b THEN NULL ELSE a END`.
fn nullif(k: &mut Kernel, a: ValueId, b: ValueId, ty: ScalarType) -> ValueId {
    let equal = k.push(Op::Binary(BinaryOp::TotalEq, a, b), ScalarType::Bool);
    let null = k.push(Op::Const(Literal::Null), ty);
    k.push(
        Op::Case {
            branches: vec![(equal, null)],
            otherwise: Some(a),
        },
        ty,
    )
}

/// Folds `keep` (`>=` for GREATEST, `<=` for LEAST) over the arguments, skipping NULLs:
/// `CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a WHEN a keep b THEN a ELSE b END`.
fn extremum(k: &mut Kernel, args: &[ValueId], ty: ScalarType, keep: BinaryOp) -> ValueId {
    let (first, rest) = args
        .split_first()
        .expect("validated: at least one argument");
    rest.iter().fold(*first, |a, &b| {
        let a_null = k.push(Op::Unary(UnaryOp::IsNull, a), ScalarType::Bool);
        let b_null = k.push(Op::Unary(UnaryOp::IsNull, b), ScalarType::Bool);
        let a_wins = k.push(Op::Binary(keep, a, b), ScalarType::Bool);
        k.push(
            Op::Case {
                branches: vec![(a_null, b), (b_null, a), (a_wins, a)],
                otherwise: Some(b),
            },
            ty,
        )
    })
}
