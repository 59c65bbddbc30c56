//! A frame's row order, made a column.
//!
//! corepy frames are partitioned streams, so rows have no order of their own once
//! DataFusion repartitions them. The order Polars users rely on — a file's rows in file
//! order, a sorted frame's rows in sort order — is captured by a [`RowIndex`] node as close
//! to the source as order is defined: below every filter and projection, above the scan (or
//! the sort, the union, …). Its operator (`engine`'s `RowIndexExec`) reads its input's
//! partitions one after the other and numbers the rows as they come; the numbers then
//! travel as data, whatever repartitioning follows.
//!
//! Everything order-dependent builds on it: `with_row_index`, `tail`, `first` / `last`,
//! `maintain_order`, `unique(keep="first")`, forward and backward `fill_null`, horizontal
//! `concat`.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::logical_expr::{
    col, ident, Expr, Extension, LogicalPlan, LogicalPlanBuilder, UserDefinedLogicalNodeCore,
};

use crate::error::Result;

/// The hidden column that order-dependent operations sort by: larger means later.
pub const ROW: &str = "__corepy_row";

/// `input` with a UInt64 column `name` appended, numbering the rows `offset`,
/// `offset + 1`, … in the order the input produces them (its partitions one after the
/// other).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowIndex {
    pub input: LogicalPlan,
    pub name: String,
    pub offset: u64,
    pub schema: DFSchemaRef,
}

impl RowIndex {
    pub fn try_new(input: LogicalPlan, name: String, offset: u64) -> Result<Self> {
        let column = DFSchema::try_from(Schema::new(vec![Field::new(
            name.as_str(),
            DataType::UInt64,
            false,
        )]))?;
        let schema = Arc::new(input.schema().join(&column)?);
        Ok(Self {
            input,
            name,
            offset,
            schema,
        })
    }
}

impl PartialOrd for RowIndex {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self.name.as_str(), self.offset).partial_cmp(&(other.name.as_str(), other.offset)) {
            Some(Ordering::Equal) => self.input.partial_cmp(&other.input),
            order => order,
        }
    }
}

impl UserDefinedLogicalNodeCore for RowIndex {
    fn name(&self) -> &str {
        "RowIndex"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RowIndex: {} from {}", self.name, self.offset)
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> datafusion::common::Result<Self> {
        Self::try_new(inputs.swap_remove(0), self.name.clone(), self.offset)
            .map_err(crate::CorepyError::into_datafusion)
    }
}

/// `plan` with a column `name` (UInt64, last) whose values grow with the row order; not
/// contiguous when filters dropped rows. Order-dependent operations sort by it.
pub fn with_ordinal(plan: LogicalPlan, name: &str) -> Result<LogicalPlan> {
    ordinal_at_source(plan, name, 0)
}

/// Polars' `with_row_index(name, offset)`: a first column `name` numbering the rows
/// `offset`, `offset + 1`, … in the frame's order. Where filters dropped rows, the kept ones
/// are sorted by their position at the source and numbered again.
pub fn with_row_index(plan: LogicalPlan, name: &str, offset: u64) -> Result<LogicalPlan> {
    let columns: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let indexed = if filters_rows(&plan) {
        let sorted = LogicalPlanBuilder::from(ordinal_at_source(plan, ROW, 0)?)
            .sort(vec![col(ROW).sort(true, true)])?
            .build()?;
        extension(RowIndex::try_new(sorted, name.to_string(), offset)?)
    } else {
        ordinal_at_source(plan, name, offset)?
    };
    let mut projection = vec![ident(name)];
    projection.extend(columns);
    Ok(LogicalPlanBuilder::from(indexed)
        .project(projection)?
        .build()?)
}

/// Whether a filter stands between `plan` and the place [`ordinal_at_source`] numbers rows.
fn filters_rows(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Projection(projection) => filters_rows(&projection.input),
        LogicalPlan::Filter(_) => true,
        _ => false,
    }
}

fn extension(node: RowIndex) -> LogicalPlan {
    LogicalPlan::Extension(Extension {
        node: Arc::new(node),
    })
}

/// Whether `exprs` refer to the [`ROW`] column.
pub fn uses_ordinal<'a>(exprs: impl IntoIterator<Item = &'a Expr>) -> bool {
    let mut found = false;
    for expr in exprs {
        let _ = expr.apply(|node| {
            if matches!(node, Expr::Column(c) if c.name == ROW) {
                found = true;
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    found
}

/// `plan` with the [`ROW`] column when `exprs` need it and it lacks it.
pub fn ensure_ordinal(plan: LogicalPlan, exprs: &[Expr]) -> Result<LogicalPlan> {
    let has = plan.schema().fields().iter().any(|f| f.name() == ROW);
    if has || !uses_ordinal(exprs) {
        return Ok(plan);
    }
    with_ordinal(plan, ROW)
}

/// Puts the index below the filters and projections of `plan`, then carries it up through
/// them.
fn ordinal_at_source(plan: LogicalPlan, name: &str, offset: u64) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Projection(projection) => {
            let input = ordinal_at_source(Arc::unwrap_or_clone(projection.input), name, offset)?;
            let mut exprs = projection.expr;
            exprs.push(ident(name));
            Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
        }
        LogicalPlan::Filter(filter) => {
            let input = ordinal_at_source(Arc::unwrap_or_clone(filter.input), name, offset)?;
            Ok(LogicalPlanBuilder::from(input)
                .filter(filter.predicate)?
                .build()?)
        }
        source => Ok(extension(RowIndex::try_new(
            source,
            name.to_string(),
            offset,
        )?)),
    }
}
