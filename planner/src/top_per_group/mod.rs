//! Top rows per group: `row_number() OVER (PARTITION BY p ORDER BY o) <= k` without the sort.
//!
//! DataFusion evaluates a filter on a row number by sorting every row by its partition and
//! order keys, numbering them all, then keeping the few it asked for (H2O's q8 keeps 2 rows
//! of each of 100,000 groups out of 10 million, and spends its time sorting the 10 million).
//! [`TopPerGroup`] is the window with that filter's bound: it emits only the rows whose
//! number is at most `k`, numbered as the window numbers them, and the filter stays above
//! it. Its operator (`engine`'s `TopPerGroupExec`) keeps a heap of `k` rows per group in one
//! pass, as Polars' `top_k().over()` and DuckDB's top-N window do.
//!
//! [`WindowTopAsTopPerGroup`] puts it in place of the window when the filter above can only
//! be true on rows numbered at most `k` ([`rule`] says which filters prove that).

mod rule;
#[cfg(test)]
mod tests;

pub(crate) use rule::cannot_fail;
pub use rule::WindowTopAsTopPerGroup;

use std::cmp::Ordering;
use std::fmt;

use datafusion::common::DFSchemaRef;
use datafusion::logical_expr::{Expr, LogicalPlan, SortExpr, UserDefinedLogicalNodeCore};

/// The rows of `input` that `row_number() OVER (PARTITION BY partition_by ORDER BY
/// order_by)` numbers `1..=k`, with that number appended as a last column (UInt64), as the
/// window computing it would: `schema` is the window's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopPerGroup {
    pub input: LogicalPlan,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortExpr>,
    pub k: u64,
    pub schema: DFSchemaRef,
}

impl PartialOrd for TopPerGroup {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.k.partial_cmp(&other.k) {
            Some(Ordering::Equal) => self.input.partial_cmp(&other.input),
            order => order,
        }
    }
}

impl UserDefinedLogicalNodeCore for TopPerGroup {
    fn name(&self) -> &str {
        "TopPerGroup"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    /// The partition keys, then the order keys (their sort options live in `order_by`).
    fn expressions(&self) -> Vec<Expr> {
        let keys = self.partition_by.iter().cloned();
        keys.chain(self.order_by.iter().map(|sort| sort.expr.clone()))
            .collect()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let shown = |exprs: &mut dyn Iterator<Item = String>| exprs.collect::<Vec<_>>().join(", ");
        write!(
            f,
            "TopPerGroup: k={}, partition_by=[{}], order_by=[{}]",
            self.k,
            shown(&mut self.partition_by.iter().map(|e| e.to_string())),
            shown(&mut self.order_by.iter().map(|s| s.to_string())),
        )
    }

    fn with_exprs_and_inputs(
        &self,
        exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> datafusion::common::Result<Self> {
        let (partition_by, order_keys) = exprs.split_at(self.partition_by.len());
        let order_by = self
            .order_by
            .iter()
            .zip(order_keys)
            .map(|(sort, expr)| sort.with_expr(expr.clone()))
            .collect();
        Ok(Self {
            input: inputs.swap_remove(0),
            partition_by: partition_by.to_vec(),
            order_by,
            k: self.k,
            schema: self.schema.clone(),
        })
    }
}
