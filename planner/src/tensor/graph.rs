//! The lazy tensor graph: each node knows its shape and dtype when it is built, so that
//! every error (shapes that do not broadcast, an axis out of range) is raised at the line
//! that caused it, and nothing runs until the tensor is realized.

use std::sync::Arc;

use corepy_codegen::ir::Literal;

use super::data::TensorData;
use super::dtype::DType;
use super::resize::Resize;
use super::view::ViewOp;

/// A lazy tensor: a node of the graph, cheap to clone.
#[derive(Debug, Clone)]
pub struct Tensor(pub(crate) Arc<Node>);

#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    pub shape: Vec<usize>,
    pub dtype: DType,
}

/// Elementwise functions of one tensor (NumPy's names where they differ from the IR's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryFn {
    Neg,
    Abs,
    /// `logical_not` (`~` on booleans).
    Not,
    Sqrt,
    Exp,
    Log,
    Sin,
    Cos,
    Tanh,
    Floor,
    Ceil,
    IsNan,
    /// `~` of an integer: bitwise NOT (of a bool tensor it is `Not`).
    Invert,
}

/// Elementwise functions of two tensors, after broadcasting and promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryFn {
    Add,
    Sub,
    Mul,
    /// True division (`/`): always a float.
    Div,
    Pow,
    Maximum,
    Minimum,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `//` and `%`: NumPy's `floor_divide` and `remainder`.
    FloorDiv,
    Mod,
    /// `&`, `|`, `^` of integers (of bool tensors `&` and `|` are `And` and `Or`).
    BitAnd,
    BitOr,
    BitXor,
}

/// Reductions a kernel computes (mean, var and std are built from these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceFn {
    Sum,
    Prod,
    Min,
    Max,
    ArgMin,
    ArgMax,
    Any,
    All,
}

#[derive(Debug)]
pub enum Kind {
    /// Realized data.
    Source(TensorData),
    /// A 0-d constant (a Python scalar in an expression), folded into kernels.
    Scalar(Literal),
    Unary(UnaryFn, Tensor),
    Binary(BinaryFn, Tensor, Tensor),
    /// `where(condition, a, b)`.
    Where(Tensor, Tensor, Tensor),
    /// `astype`: NumPy's unsafe cast (floats truncate toward zero, integers wrap).
    Cast(Tensor),
    /// A reduction over `axes` (ascending); the result keeps them as size 1 when `keepdims`.
    Reduce {
        op: ReduceFn,
        input: Tensor,
        axes: Vec<usize>,
        keepdims: bool,
    },
    /// A view: the same elements, indexed differently; never copies.
    View(ViewOp, Tensor),
    /// Tensors of one dtype joined along an existing axis.
    Concat {
        axis: usize,
        parts: Vec<Tensor>,
    },
    /// Batched matrix product of two tensors of rank ≥ 2 with broadcast batch dimensions.
    MatMul(Tensor, Tensor),
    /// Images resampled to another height and width.
    Resize(Resize, Tensor),
}

impl Tensor {
    pub(crate) fn new(kind: Kind, shape: Vec<usize>, dtype: DType) -> Tensor {
        Tensor(Arc::new(Node { kind, shape, dtype }))
    }

    /// A tensor of realized data.
    pub fn from_data(data: TensorData) -> Tensor {
        let (shape, dtype) = (data.shape.clone(), data.dtype);
        Tensor::new(Kind::Source(data), shape, dtype)
    }

    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }

    pub fn len(&self) -> usize {
        self.0.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kind(&self) -> &Kind {
        &self.0.kind
    }

    /// The data, when this tensor is realized.
    pub fn data(&self) -> Option<&TensorData> {
        match &self.0.kind {
            Kind::Source(data) => Some(data),
            _ => None,
        }
    }

    /// Identity of the node (for sharing and memoization).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// The tensors this one is computed from.
    pub fn inputs(&self) -> Vec<&Tensor> {
        match &self.0.kind {
            Kind::Source(_) | Kind::Scalar(_) => Vec::new(),
            Kind::Unary(_, a) | Kind::Cast(a) | Kind::View(_, a) | Kind::Resize(_, a) => vec![a],
            Kind::Reduce { input, .. } => vec![input],
            Kind::Binary(_, a, b) | Kind::MatMul(a, b) => vec![a, b],
            Kind::Where(c, a, b) => vec![c, a, b],
            Kind::Concat { parts, .. } => parts.iter().collect(),
        }
    }
}
