//! `OrderInnerJoins`: the inner joins of a query are run in the order that keeps the
//! intermediate results smallest, not in the order the query names its tables.
//!
//! DataFusion joins `FROM customer, orders, lineitem, supplier, nation, region` in that
//! order: TPC-H q5 joins every customer's 1994 orders with six million lines, and only at
//! the end keeps the Asian ones. DuckDB orders joins by cost (DPhyp); Polars runs them as
//! written. corepy does what DuckDB does, in its simplest form:
//!
//! * a **region** is a tree of inner equi-joins ([`region`]); its leaves are whatever is
//!   not such a join (scans, filters, aggregations, outer or semi joins);
//! * each leaf gets an estimate ([`estimate`]) from the tables' statistics
//!   ([`table_stats`]: Parquet footers' row counts and integer ranges, in-memory batches);
//! * the cheapest tree ([`search`]) replaces the region when it is estimated at least
//!   [`GAIN`] times cheaper than the present one (so plans already in a good order, such
//!   as the lazy API's hand-ordered ones, stay as they are, and a second optimizer pass
//!   finds nothing to do).
//!
//! Why the answer cannot change: inner joins are associative and commutative. The new
//! tree joins the same leaves; for each class of columns made equal by the region's
//! conditions it equates one member of each side at every join, which — because the
//! members on each side are already equal — makes every member equal, as the original
//! conditions did (`NULL` equals nothing in both); every other condition is applied once,
//! at the lowest join that sees all its columns; and a projection gives the root's columns
//! in their order. A region with a condition whose columns have no single owner, two equal
//! columns of different types, a condition that may fail (or is volatile), an input without
//! statistics or more
//! than [`search::MAX_LEAVES`] leaves is left as it is.

mod estimate;
pub(crate) mod region;
mod search;
mod table_stats;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Result;
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use crate::options::CorepyOptions;
use estimate::{distinct, estimate};
use region::{classes, Region};
use search::Graph;

/// How much cheaper (by estimate) a new order must be than the present one.
pub const GAIN: f64 = 1.5;

#[derive(Debug, Default)]
pub struct OrderInnerJoins;

impl OptimizerRule for OrderInnerJoins {
    fn name(&self) -> &str {
        "corepy_order_inner_joins"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        // `SET datafusion.optimizer.join_reordering = false` (or `corepy.join_order =
        // false`) keeps the query's order.
        let options = config.options();
        if !options.optimizer.join_reordering || !CorepyOptions::of(&options).join_order {
            return Ok(Transformed::no(plan));
        }
        order_regions(plan)
    }
}

/// Every region of `plan`, outermost first, ordered. A region that keeps its shape is
/// searched below: its joins are regions of their own, and its leaves may hold others.
fn order_regions(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    if let Some(reordered) = reorder(&plan)? {
        return Ok(Transformed::yes(reordered));
    }
    plan.map_children(order_regions)
}

/// The region rooted at `plan` in a cheaper order (its leaves ordered first), or `None`.
fn reorder(plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let Some(mut region) = Region::of(plan) else {
        return Ok(None);
    };
    let Some(classes) = classes(&region) else {
        return Ok(None);
    };
    let Some(tree) = better_tree(&region, &classes) else {
        return Ok(None);
    };
    for leaf in &mut region.leaves {
        *leaf = order_regions(leaf.clone())?.data;
    }
    // A region that cannot be built in the new shape (a name clash DataFusion refuses)
    // stays as it is.
    Ok(region.build(&tree, &classes).ok())
}

/// A tree for the region estimated [`GAIN`] times cheaper than its present shape.
fn better_tree(region: &Region, classes: &region::Classes) -> Option<region::Tree> {
    if region.leaves.len() < 3 || region.leaves.len() > search::MAX_LEAVES {
        return None;
    }
    let leaves = region
        .leaves
        .iter()
        .map(estimate)
        .collect::<Option<Vec<_>>>()?;
    let graph = Graph {
        classes: classes
            .iter()
            .map(|class| {
                class
                    .iter()
                    .map(|(leaf, column)| {
                        let rows = leaves[*leaf].rows;
                        (
                            *leaf,
                            distinct(&region.leaves[*leaf], column).unwrap_or(rows),
                        )
                    })
                    .collect()
            })
            .collect(),
        residuals: region
            .residuals
            .iter()
            .map(|r| region.owners(r))
            .collect::<Option<Vec<_>>>()?,
        leaves,
    };
    let tree = graph.best()?;
    let better =
        !tree.same_shape(&region.shape) && graph.cost(&tree) * GAIN < graph.cost(&region.shape);
    better.then_some(tree)
}

#[cfg(test)]
mod tests;
