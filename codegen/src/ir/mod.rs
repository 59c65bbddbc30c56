//! The kernel IR: typed SSA over the elements of an iteration domain.
//!
//! A [`Kernel`] reads input arrays, computes [`Node`]s in order (each node names earlier
//! nodes only), and writes output arrays; it may also compute a *selection* (a filter) that
//! keeps some elements. Every value has a type and a validity (SQL NULL) alongside its
//! elements: renderers compute validity apart from values, a machine word of bits at a time.
//!
//! The IR is backend-neutral (Cranelift, the interpreter and a future PTX renderer all read
//! it) and shape-aware: the [`Domain`] is a list of dimensions and each input says how it
//! is laid out over them, so strided n-d tensor loops fit the same types as the flat column
//! loops that fused SQL produces today.

mod aggregate;
mod desugar;
mod literal;
mod types;
mod validate;

pub use aggregate::{
    groupable, ordered as aggregate_ordered, summable as aggregate_summable, AggFunc, Aggregate,
};
pub use desugar::desugar;
pub use literal::Literal;
pub use types::ScalarType;

/// Index of a node in [`Kernel::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

impl ValueId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for ValueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// One dimension of the iteration domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dim {
    /// The rows of a record batch: its length is known only when the kernel runs.
    Rows,
    /// A dimension of fixed extent (tensor kernels).
    Fixed(u64),
}

/// The space a kernel iterates over. Fused SQL kernels have the one dimension `[Rows]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain {
    pub dims: Vec<Dim>,
}

impl Domain {
    /// The domain of a columnar kernel: one element per row.
    pub fn rows() -> Self {
        Domain {
            dims: vec![Dim::Rows],
        }
    }

    pub fn is_rows(&self) -> bool {
        self.dims == [Dim::Rows]
    }
}

/// How an array is laid out over the domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Densely packed in domain order (an Arrow array).
    Contiguous,
    /// One stride in elements per domain dimension (0 broadcasts along that dimension).
    Strided(Vec<i64>),
}

/// An array the kernel reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Input {
    pub ty: ScalarType,
    pub layout: Layout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Arithmetic negation; `-MIN` of a signed integer or a decimal fails (corepy checks
    /// integer overflow: `planner/src/checked`).
    Neg,
    /// Absolute value; `abs(MIN)` of a signed integer fails, as in DataFusion.
    Abs,
    /// Boolean NOT (NULL stays NULL).
    Not,
    IsNull,
    IsNotNull,
    /// Square root; a negative argument fails, as in DataFusion.
    Sqrt,
    Floor,
    Ceil,
    /// Round half away from zero, to an integral value.
    Round,
    /// The tensor functions below follow NumPy (IEEE: never fail, NaN in, NaN out); the
    /// row kernels of SQL do not use them.
    Exp,
    /// Natural logarithm (`log(0)` is -inf, of a negative number NaN).
    Ln,
    Sin,
    Cos,
    Tanh,
    /// Whether a float is NaN (false for other types).
    IsNan,
    /// Bitwise NOT of an integer (`~`).
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// Equality in IEEE total order without SQL's `-0.0 = 0.0` (NULLIF, LEAST, GREATEST).
    TotalEq,
    /// `<=` in IEEE total order (`-0.0 < 0.0`), for LEAST.
    TotalLtEq,
    /// `>=` in IEEE total order (`-0.0 < 0.0`), for GREATEST.
    TotalGtEq,
    /// SQL three-valued AND.
    And,
    /// SQL three-valued OR.
    Or,
    /// `a ** b`: IEEE `pow` for floats; for integers the wrapped power (a negative
    /// exponent gives the power truncated toward zero: 0 but for bases 1 and -1).
    Pow,
    /// NumPy's `maximum`: NaN if either operand is NaN, else the larger (-0.0 below 0.0,
    /// IEEE 754-2019's `maximum`).
    Max,
    /// NumPy's `minimum`: NaN if either operand is NaN, else the smaller (-0.0 below 0.0).
    Min,
    /// IEEE 754 comparisons, as NumPy's: NaN is unordered (every comparison but `!=` is
    /// false) and `-0.0 == 0.0`.
    IeeeEq,
    IeeeNotEq,
    IeeeLt,
    IeeeLtEq,
    IeeeGt,
    IeeeGtEq,
    /// NumPy's `floor_divide` (`//`): integers round toward −∞ and give 0 for a zero
    /// divisor (MIN // −1 wraps to MIN); floats follow NumPy's `divmod` (see
    /// [`crate::interp`]).
    FloorDiv,
    /// NumPy's `remainder` (`%`): the sign of the divisor; 0 for an integer zero divisor.
    FloorMod,
    /// Bitwise AND, OR and XOR of integers (logical on booleans).
    BitAnd,
    BitOr,
    BitXor,
}

impl BinaryOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
                | BinaryOp::TotalEq
                | BinaryOp::TotalLtEq
                | BinaryOp::TotalGtEq
                | BinaryOp::IeeeEq
                | BinaryOp::IeeeNotEq
                | BinaryOp::IeeeLt
                | BinaryOp::IeeeLtEq
                | BinaryOp::IeeeGt
                | BinaryOp::IeeeGtEq
        )
    }

    /// The NumPy operations of tensor kernels, which the row renderers do not compile.
    pub fn is_tensor_only(self) -> bool {
        matches!(
            self,
            BinaryOp::Pow
                | BinaryOp::Max
                | BinaryOp::Min
                | BinaryOp::IeeeEq
                | BinaryOp::IeeeNotEq
                | BinaryOp::IeeeLt
                | BinaryOp::IeeeLtEq
                | BinaryOp::IeeeGt
                | BinaryOp::IeeeGtEq
                | BinaryOp::FloorDiv
                | BinaryOp::FloorMod
                | BinaryOp::BitAnd
                | BinaryOp::BitOr
                | BinaryOp::BitXor
        )
    }

    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add
                | BinaryOp::Sub
                | BinaryOp::Mul
                | BinaryOp::Div
                | BinaryOp::Rem
                | BinaryOp::Pow
                | BinaryOp::Max
                | BinaryOp::Min
                | BinaryOp::FloorDiv
                | BinaryOp::FloorMod
        )
    }

    /// Bitwise AND, OR, XOR (of integers or booleans).
    pub fn is_bitwise(self) -> bool {
        matches!(self, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor)
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::TotalEq => "total=",
            BinaryOp::TotalLtEq => "total<=",
            BinaryOp::TotalGtEq => "total>=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Pow => "**",
            BinaryOp::Max => "max",
            BinaryOp::Min => "min",
            BinaryOp::IeeeEq => "==",
            BinaryOp::IeeeNotEq => "<>",
            BinaryOp::IeeeLt => "lt",
            BinaryOp::IeeeLtEq => "le",
            BinaryOp::IeeeGt => "gt",
            BinaryOp::IeeeGtEq => "ge",
            BinaryOp::FloorDiv => "//",
            BinaryOp::FloorMod => "mod",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
        }
    }
}

impl UnaryOp {
    /// The NumPy functions of tensor kernels, which the row renderers do not compile.
    pub fn is_tensor_only(self) -> bool {
        matches!(
            self,
            UnaryOp::Exp
                | UnaryOp::Ln
                | UnaryOp::Sin
                | UnaryOp::Cos
                | UnaryOp::Tanh
                | UnaryOp::IsNan
                | UnaryOp::BitNot
        )
    }
}

/// How a reduction combines the elements along its axes (tensor kernels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Wrapping for integers, IEEE for floats; 0 over no elements.
    Sum,
    /// 1 over no elements.
    Prod,
    /// NaN-propagating, as NumPy's `min` (no elements: refused when the graph is built).
    Min,
    Max,
    /// The index (flat over the reduced axes, an i64) of the first smallest element; a NaN
    /// counts as the smallest, as in NumPy.
    ArgMin,
    /// The index of the first largest element; a NaN counts as the largest.
    ArgMax,
    /// Whether any element is true (false over no elements).
    Any,
    /// Whether every element is true (true over no elements).
    All,
}

/// What a node computes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// The element of input `n` at the current domain index.
    Load(usize),
    Const(Literal),
    Unary(UnaryOp, ValueId),
    Binary(BinaryOp, ValueId, ValueId),
    /// Numeric conversion; out-of-range values are an error, as in DataFusion's CAST.
    Cast(ValueId),
    /// `CASE WHEN c1 THEN v1 … ELSE e END`; a NULL condition counts as false, a missing ELSE
    /// gives NULL. Only the chosen branch can raise an error.
    Case {
        branches: Vec<(ValueId, ValueId)>,
        otherwise: Option<ValueId>,
    },
    /// The first non-NULL argument.
    Coalesce(Vec<ValueId>),
    /// NULL where `a = b`, else `a`.
    NullIf(ValueId, ValueId),
    /// Smallest non-NULL argument (NULL only if all are); floats in IEEE total order.
    Least(Vec<ValueId>),
    /// Largest non-NULL argument (NULL only if all are); floats in IEEE total order.
    Greatest(Vec<ValueId>),
    /// Combines `arg` over the domain dimensions `axes` (ascending), giving one value per
    /// index of the other dimensions. Only in tensor kernels, and only as an output: the
    /// output is laid out densely over the dimensions that are not reduced.
    Reduce {
        op: ReduceOp,
        arg: ValueId,
        axes: Vec<usize>,
    },
}

impl Op {
    /// The nodes this one reads.
    pub fn operands(&self) -> Vec<ValueId> {
        match self {
            Op::Load(_) | Op::Const(_) => Vec::new(),
            Op::Unary(_, a) | Op::Cast(a) | Op::Reduce { arg: a, .. } => vec![*a],
            Op::Binary(_, a, b) | Op::NullIf(a, b) => vec![*a, *b],
            Op::Case {
                branches,
                otherwise,
            } => branches
                .iter()
                .flat_map(|(c, v)| [*c, *v])
                .chain(*otherwise)
                .collect(),
            Op::Coalesce(args) | Op::Least(args) | Op::Greatest(args) => args.clone(),
        }
    }
}

/// One SSA value: an operation, its result type and, for operations that can fail, the
/// rows on which a failure counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Node {
    pub op: Op,
    pub ty: ScalarType,
    /// A boolean node: where it is not TRUE, this node's errors (division by zero, overflow
    /// in a cast) are not raised. (With a selection, nodes the selection does not depend on
    /// also raise errors only on the rows it keeps.) SQL evaluates a CASE branch only where it is chosen and a
    /// projection only on the rows a filter kept; the guard says the same to renderers that
    /// evaluate every row.
    pub guard: Option<ValueId>,
}

impl Node {
    /// Whether this node can raise an error at run time.
    pub fn can_fail(&self, kernel: &Kernel) -> bool {
        match &self.op {
            Op::Binary(BinaryOp::Div | BinaryOp::Rem, _, _) => !self.ty.is_float(),
            // Integer + − × fail on overflow (corepy's checked arithmetic); decimal + − ×
            // check for i128 overflow, as Arrow does.
            Op::Binary(BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, _, _) => {
                self.ty.is_integer() || crate::semantics::decimal_parts(self.ty).is_some()
            }
            Op::Unary(UnaryOp::Abs, _) => self.ty.is_signed_int(),
            // Arrow negates decimals with a check, corepy signed integers: -MIN fails.
            Op::Unary(UnaryOp::Neg, _) => {
                (self.ty.is_integer() && self.ty.is_signed_int())
                    || crate::semantics::decimal_parts(self.ty).is_some()
            }
            Op::Unary(UnaryOp::Sqrt, _) => true,
            Op::Cast(a) => crate::semantics::cast_can_fail(kernel.ty(*a), self.ty),
            _ => false,
        }
    }
}

/// A kernel: inputs, nodes in evaluation order, outputs and an optional selection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Kernel {
    pub domain: Domain,
    pub inputs: Vec<Input>,
    pub nodes: Vec<Node>,
    /// The values written out, one array each.
    pub outputs: Vec<ValueId>,
    /// A boolean value; when set, only elements where it is TRUE are kept, and outputs are
    /// written compacted (element `k` of an output is the `k`-th kept element).
    pub selection: Option<ValueId>,
    /// Aggregates folded over the kept rows into a state the caller holds across batches
    /// (see [`crate::aggregate`]); a kernel with aggregates writes no outputs.
    pub aggregates: Vec<Aggregate>,
    /// Keys the aggregates are grouped by: one state per distinct tuple of key values,
    /// NULL being a value of its own (see [`crate::groups`]). Empty: one state in all.
    pub group_keys: Vec<ValueId>,
}

impl Kernel {
    /// An empty kernel over the rows of a batch.
    pub fn rows() -> Self {
        Kernel {
            domain: Domain::rows(),
            inputs: Vec::new(),
            nodes: Vec::new(),
            outputs: Vec::new(),
            selection: None,
            aggregates: Vec::new(),
            group_keys: Vec::new(),
        }
    }

    /// Declares a contiguous input and returns the node that loads it.
    pub fn input(&mut self, ty: ScalarType) -> ValueId {
        let index = self.inputs.len();
        self.inputs.push(Input {
            ty,
            layout: Layout::Contiguous,
        });
        self.push(Op::Load(index), ty)
    }

    /// Appends a node and returns its id.
    pub fn push(&mut self, op: Op, ty: ScalarType) -> ValueId {
        self.nodes.push(Node {
            op,
            ty,
            guard: None,
        });
        ValueId(self.nodes.len() as u32 - 1)
    }

    pub fn node(&self, id: ValueId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn ty(&self, id: ValueId) -> ScalarType {
        self.node(id).ty
    }

    /// For each node, whether the selection does not depend on it. Such nodes compute what
    /// a filter keeps: they fail only on kept rows, like a projection over a filter.
    pub fn outside_selection(&self) -> Vec<bool> {
        let n = self.nodes.len();
        let Some(sel) = self.selection else {
            return vec![false; n];
        };
        let mut needed = vec![false; n];
        needed[sel.index()] = true;
        for index in (0..n).rev() {
            if needed[index] {
                let node = &self.nodes[index];
                for a in node.op.operands().into_iter().chain(node.guard) {
                    needed[a.index()] = true;
                }
            }
        }
        needed.iter().map(|x| !x).collect()
    }

    /// The kernel without the nodes that no output, selection or guard needs, and for each
    /// old node its new id (`None` if removed).
    pub fn pruned(&self) -> (Kernel, Vec<Option<ValueId>>) {
        let n = self.nodes.len();
        let mut live = vec![false; n];
        let aggregated = self.aggregates.iter().filter_map(|a| a.arg);
        let roots = self
            .outputs
            .iter()
            .chain(&self.selection)
            .chain(&self.group_keys);
        for id in roots.copied().chain(aggregated) {
            live[id.index()] = true;
        }
        for index in (0..n).rev() {
            if live[index] {
                let node = &self.nodes[index];
                for a in node.op.operands().into_iter().chain(node.guard) {
                    live[a.index()] = true;
                }
            }
        }
        let mut renumber = vec![None; n];
        let mut nodes = Vec::new();
        for (index, node) in self.nodes.iter().enumerate() {
            if !live[index] {
                continue;
            }
            let map = |id: ValueId| renumber[id.index()].expect("operands come first");
            let mut node = node.clone();
            node.op = desugar::remap_op(&node.op, &|id| map(id));
            node.guard = node.guard.map(map);
            renumber[index] = Some(ValueId(nodes.len() as u32));
            nodes.push(node);
        }
        let kernel = Kernel {
            domain: self.domain.clone(),
            inputs: self.inputs.clone(),
            nodes,
            outputs: self
                .outputs
                .iter()
                .map(|o| renumber[o.index()].expect("live"))
                .collect(),
            selection: self.selection.map(|s| renumber[s.index()].expect("live")),
            aggregates: self
                .aggregates
                .iter()
                .map(|a| a.remap(|id| renumber[id.index()].expect("live")))
                .collect(),
            group_keys: self
                .group_keys
                .iter()
                .map(|k| renumber[k.index()].expect("live"))
                .collect(),
        };
        (kernel, renumber)
    }

    /// Checks that every node is well typed and refers to earlier nodes only.
    pub fn validate(&self) -> Result<(), String> {
        validate::validate(self)
    }
}
