//! The sealed statement: an extension node without inputs, so that optimizer rules, which
//! rewrite a plan through its inputs and expressions, have nothing to rewrite.

use std::cmp::Ordering;
use std::fmt;

use datafusion::common::DFSchemaRef;
use datafusion::logical_expr::{
    DmlStatement, Expr, LogicalPlan, UserDefinedLogicalNodeCore, WriteOp,
};

/// A `DELETE` or `UPDATE` to be planned exactly as written (see the module's docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SealedDml {
    /// The analyzed `LogicalPlan::Dml`, never optimized.
    pub statement: LogicalPlan,
}

impl SealedDml {
    pub(super) fn new(statement: LogicalPlan) -> Self {
        Self { statement }
    }

    fn dml(&self) -> Option<&DmlStatement> {
        match &self.statement {
            LogicalPlan::Dml(dml) => Some(dml),
            _ => None,
        }
    }
}

impl PartialOrd for SealedDml {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.statement.partial_cmp(&other.statement)
    }
}

impl UserDefinedLogicalNodeCore for SealedDml {
    fn name(&self) -> &str {
        "SealedDml"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        Vec::new()
    }

    fn schema(&self) -> &DFSchemaRef {
        self.statement.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Some(dml) = self.dml() else {
            return write!(f, "SealedDml");
        };
        let op = match dml.op {
            WriteOp::Delete => "Delete",
            WriteOp::Update => "Update",
            _ => "Dml",
        };
        // The statement's own plan, on one line: EXPLAIN shows what will be changed.
        let written = self.statement.display_indent().to_string();
        let inner: Vec<&str> = written.lines().skip(1).map(str::trim).collect();
        write!(
            f,
            "{op}: table={} (as written, not optimized): {}",
            dml.table_name,
            inner.join(" ← ")
        )
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        _inputs: Vec<LogicalPlan>,
    ) -> datafusion::common::Result<Self> {
        Ok(self.clone())
    }
}
