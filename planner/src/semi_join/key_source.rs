//! Where a join key's values come from: a small plan whose column holds every non-null
//! value the key can take.
//!
//! Each step down keeps that promise: a Projection or an alias passes a column on
//! unchanged; a Filter or a join only drops rows, so the values below include the values
//! above; and an inner or semi join's equality `a = b` makes every value of `a` it lets
//! through a value of `b`, so the search may continue on the other side.

use datafusion::common::tree_node::TreeNode;
use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan, LogicalPlanBuilder};

use crate::fusion::FusedStage;

/// Alias of a key set that a rewrite made: plans below a Join that reads it were reduced
/// already.
pub const KEYS_ALIAS: &str = "__corepy_keys";

/// A plan and its column, whose values include every non-null value of the key asked
/// about.
#[derive(Debug, Clone)]
pub struct KeySource {
    pub plan: LogicalPlan,
    pub column: Column,
}

impl KeySource {
    /// `SELECT column FROM plan`, aliased as a key set, and its column there.
    pub fn key_set(&self) -> Result<(LogicalPlan, Column)> {
        let keys = LogicalPlanBuilder::from(self.plan.clone())
            .project(vec![Expr::Column(self.column.clone())])?
            .alias(KEYS_ALIAS)?
            .build()?;
        Ok((
            keys,
            Column::new(Some(KEYS_ALIAS), self.column.name.clone()),
        ))
    }
}

/// The first *selective* source of `column`'s values in `plan`: a filtered scan (with
/// projections and aliases over it), found by walking down from `plan`. `None` when the
/// values come only from unfiltered tables or from plans of other kinds, where reducing by
/// them would cost a second pass and save nothing.
pub fn selective_source(plan: &LogicalPlan, column: &Column) -> Option<KeySource> {
    if is_filtered_scan(plan) {
        return Some(KeySource {
            plan: plan.clone(),
            column: column.clone(),
        });
    }
    if let Some((input, below)) = column_below(plan, column) {
        return selective_source(input, &below);
    }
    match plan {
        LogicalPlan::Join(join) => {
            let owner = if join.left.schema().has_column(column) {
                &join.left
            } else {
                &join.right
            };
            if let Some(found) = selective_source(owner, column) {
                return Some(found);
            }
            if join.null_equality != NullEquality::NullEqualsNothing {
                return None;
            }
            let (left_equal, right_equal) = match join.join_type {
                JoinType::Inner => (true, true),
                JoinType::LeftSemi => (true, false),
                JoinType::RightSemi => (false, true),
                _ => (false, false),
            };
            join.on.iter().find_map(|(l, r)| match (l, r) {
                (Expr::Column(l), Expr::Column(r)) if left_equal && l == column => {
                    selective_source(&join.right, r)
                }
                (Expr::Column(l), Expr::Column(r)) if right_equal && r == column => {
                    selective_source(&join.left, l)
                }
                _ => None,
            })
        }
        _ => None,
    }
}

/// The input of a row-wise node (a Projection that passes `column` on, an alias, a
/// Filter, a fused stage that passes it on) and the column `column` is there.
pub fn column_below<'a>(
    plan: &'a LogicalPlan,
    column: &Column,
) -> Option<(&'a LogicalPlan, Column)> {
    match plan {
        LogicalPlan::Projection(projection) => {
            let index = projection.schema.index_of_column(column).ok()?;
            let below = passed_column(&projection.expr[index])?.clone();
            Some((&projection.input, below))
        }
        LogicalPlan::SubqueryAlias(alias) => {
            let index = alias.schema.index_of_column(column).ok()?;
            let below = Column::from(alias.input.schema().qualified_field(index));
            Some((&alias.input, below))
        }
        LogicalPlan::Filter(filter) => Some((&filter.input, column.clone())),
        other => {
            let stage = FusedStage::of(other)?;
            Some((&stage.input, stage.passed(column)?.clone()))
        }
    }
}

/// The column an expression passes on unchanged (`c` or `c AS name`).
fn passed_column(expr: &Expr) -> Option<&Column> {
    match expr {
        Expr::Column(c) => Some(c),
        Expr::Alias(alias) => match alias.expr.as_ref() {
            Expr::Column(c) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// A table scan under projections, aliases, filters and fused stages, with at least one
/// filter (in a Filter node, a stage, or pushed into the scan).
pub fn is_filtered_scan(plan: &LogicalPlan) -> bool {
    let mut filtered = false;
    let mut node = plan;
    loop {
        match node {
            LogicalPlan::Projection(p) => node = &p.input,
            LogicalPlan::SubqueryAlias(a) => node = &a.input,
            LogicalPlan::Filter(f) => {
                filtered = true;
                node = &f.input;
            }
            LogicalPlan::TableScan(scan) => return filtered || !scan.filters.is_empty(),
            other => match FusedStage::of(other) {
                Some(stage) => {
                    filtered |= stage.predicate.is_some();
                    node = &stage.input;
                }
                None => return false,
            },
        }
    }
}

/// Whether a plan holds a key set that a reduction added (the rules run in each optimizer
/// pass, and must reduce a plan only once).
pub fn reduced_before(plan: &LogicalPlan) -> bool {
    plan.exists(|node| {
        Ok(matches!(node, LogicalPlan::SubqueryAlias(a) if a.alias.table() == KEYS_ALIAS))
    })
    .unwrap_or(true)
}
