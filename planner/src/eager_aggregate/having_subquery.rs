//! `AggregateFromHavingSubquery`: TPC-H q18 sums each big order's lines, and finds the big
//! orders with `o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey HAVING
//! sum(l_quantity) > 300)`. DataFusion sums lineitem per order for the subquery, and then
//! joins lineitem again to sum the chosen orders' lines a second time. Here the subquery's
//! aggregation also computes the outer query's sums per order, and its rows (those the
//! HAVING keeps) join the orders instead of the semi join and the second lineitem.
//!
//! ```text
//! Aggregate: G, agg(l.v)                      Aggregate: G, combine(p)
//!   Inner joins over R, L, X                    Inner joins over R, X'
//!     X: LeftSemi Join: x = s.k          =>       X': Inner Join: x = k
//!          Xin                                          Xin
//!          s: [Filter: P] Aggregate: k, SA              [Filter: P]
//!               T                                         Aggregate: k, SA, agg(l.v) AS p
//!     L (the same rows as T)                                T
//! ```
//!
//! Why the answer cannot change, in two steps.
//! 1. `L` joins the other leaves by one class of equal columns, where its member is the
//!    subquery's group column `k` (and `X`'s is `x`); the aggregates read only `L` and no
//!    group column is `L`'s. So the eager aggregation of `mod.rs` holds with `A = {L}`:
//!    the aggregation is `combine(p)` over the other leaves joined with `Aggregate: k,
//!    agg(l.v) AS p` over `L`, on `x = k`.
//! 2. `T` and `L` are the same rows (`same_rows`), so that first step and the subquery's
//!    aggregation are one aggregation of `T` by `k`, computing both `SA` and `p`. A row of
//!    `Xin` with `x = v` is kept by the semi join exactly when that aggregation's row for `v`
//!    passes `P` (one row per `v`, `NULL` matching nothing), and step 1 then pairs it with
//!    that very row: so `X` joined with the first step is `Xin` joined with the rows that
//!    pass `P`.
//!
//! The HAVING is then computed from the same sums as the outer query's, where the original
//! plan summed twice (for a float sum, in two orders). A decimal sum of sums is cast back to
//! the original sum's type (`second_step`'s `DecimalSums`: q18's `sum(l_quantity)` is
//! `Decimal128(25, 2)`, its sum of sums `Decimal128(35, 2)`); the two differ only for a
//! total beyond 25 digits, which the one-step sum returns out of its declared precision and
//! the cast rejects.

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, NullEquality, Result};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Aggregate, Expr, JoinType, LogicalPlan, LogicalPlanBuilder};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::{decomposable, group_columns, join_leaves, on_aggregate, partials, second_step, Types};
use crate::fusion::FusedStage;
use crate::join_order::region::{classes as region_classes, Classes, Region, Tree};
use crate::scalar_subquery::{same_rows, skip_picks};

#[derive(Debug, Default)]
pub struct AggregateFromHavingSubquery;

impl OptimizerRule for AggregateFromHavingSubquery {
    fn name(&self) -> &str {
        "corepy_aggregate_from_having_subquery"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        on_aggregate(plan, config, from_having_subquery)
    }
}

fn from_having_subquery(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    let (Some(functions), Some(groups)) = (decomposable(aggregate), group_columns(aggregate))
    else {
        return Ok(None);
    };
    let Some(region) = Region::of(skip_picks(&aggregate.input)) else {
        return Ok(None);
    };
    let Some(classes) = region_classes(&region) else {
        return Ok(None);
    };
    if !region.residuals.is_empty() {
        return Ok(None);
    }
    for (x, leaf) in region.leaves.iter().enumerate() {
        let Some(having) = HavingSemiJoin::of(leaf) else {
            continue;
        };
        for l in 0..region.leaves.len() {
            if l == x || !same_rows(&region.leaves[l], &having.relation) {
                continue;
            }
            // A plan DataFusion refuses to build (a name clash) leaves the query as it is.
            let leaves = Leaves { x, l };
            let joined = leaves.joined(&region, &classes, &functions, &groups, &having);
            if let Ok(Some(joined)) = joined {
                if let Ok(Some(plan)) =
                    second_step(aggregate, &functions, joined, Types::DecimalSums)
                {
                    return Ok(Some(plan));
                }
            }
        }
    }
    Ok(None)
}

/// `Xin ⋉ s` on `x = s.k`, `s` an aggregation of `T` by `k` under an optional filter.
struct HavingSemiJoin {
    outer: LogicalPlan,
    outer_key: Column,
    group: Column,
    aggregates: Vec<Expr>,
    predicate: Option<Expr>,
    relation: LogicalPlan,
}

impl HavingSemiJoin {
    fn of(plan: &LogicalPlan) -> Option<Self> {
        let LogicalPlan::Join(join) = skip_picks(plan) else {
            return None;
        };
        let [(Expr::Column(outer_key), Expr::Column(alias_key))] = join.on.as_slice() else {
            return None;
        };
        let plain = join.join_type == JoinType::LeftSemi
            && join.filter.is_none()
            && join.null_equality == NullEquality::NullEqualsNothing
            && !join.null_aware;
        let LogicalPlan::SubqueryAlias(alias) = join.right.as_ref() else {
            return None;
        };
        if !plain {
            return None;
        }
        // The alias's column, followed by its position through projections that pick
        // columns and one filter, down to the aggregate's group column.
        let mut index = alias.schema.index_of_column(alias_key).ok()?;
        let mut below = alias.input.as_ref();
        let mut predicate = None;
        loop {
            // Only nodes that pass columns on by name: the filter then reads the
            // aggregation's own outputs, and can be put over the new one.
            let (input, picked) = match below {
                LogicalPlan::Projection(p)
                    if p.expr.iter().all(|e| matches!(e, Expr::Column(_))) =>
                {
                    (p.input.as_ref(), p.expr.get(index)?.clone())
                }
                LogicalPlan::Filter(f) if predicate.is_none() => {
                    // A filter's columns are its input's, in order.
                    predicate = Some(f.predicate.clone());
                    below = f.input.as_ref();
                    continue;
                }
                LogicalPlan::Extension(_) => {
                    let stage = FusedStage::of(below)?;
                    if !stage.exprs.iter().all(|e| matches!(e, Expr::Column(_))) {
                        return None;
                    }
                    if stage.predicate.is_some() {
                        if predicate.is_some() {
                            return None;
                        }
                        predicate = stage.predicate.clone();
                    }
                    (&stage.input, stage.exprs.get(index)?.clone())
                }
                LogicalPlan::Aggregate(_) => break,
                _ => return None,
            };
            let Expr::Column(column) = picked else {
                return None;
            };
            index = input.schema().index_of_column(&column).ok()?;
            below = input;
        }
        let LogicalPlan::Aggregate(aggregate) = below else {
            return None;
        };
        let [Expr::Column(group)] = aggregate.group_expr.as_slice() else {
            return None;
        };
        if index != 0 {
            return None;
        }
        Some(HavingSemiJoin {
            outer: join.left.as_ref().clone(),
            outer_key: outer_key.clone(),
            group: group.clone(),
            aggregates: aggregate.aggr_expr.clone(),
            predicate,
            relation: aggregate.input.as_ref().clone(),
        })
    }
}

/// The region's semi-join leaf `x` and the leaf `l` with the subquery's rows.
struct Leaves {
    x: usize,
    l: usize,
}

impl Leaves {
    /// The region without `l`, its leaf `x` joined with the subquery's rows that pass the
    /// HAVING, computed with the outer aggregates' partial values; `None` where the shape
    /// does not hold.
    fn joined(
        &self,
        region: &Region,
        classes: &Classes,
        functions: &[AggregateFunction],
        groups: &[Column],
        having: &HavingSemiJoin,
    ) -> Result<Option<LogicalPlan>> {
        let owned_by_l = |column: &Column| region.owner(column) == Some(self.l);
        // `L` meets the others only by `k`, in `x`'s class.
        for class in classes {
            let mine: Vec<&Column> = class
                .iter()
                .filter(|(leaf, _)| *leaf == self.l)
                .map(|(_, c)| c)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let holds_x = class.iter().any(|(_, c)| *c == having.outer_key);
            if mine != [&having.group] || !holds_x {
                return Ok(None);
            }
        }
        let reads_only_l = functions.iter().all(|f| {
            f.params
                .args
                .iter()
                .flat_map(|a| a.column_refs())
                .all(&owned_by_l)
        });
        if !reads_only_l || groups.iter().any(owned_by_l) {
            return Ok(None);
        }
        let Some(sums) = self.subquery_with_partials(region, functions, having)? else {
            return Ok(None);
        };
        // The sums join the leaf of `Xin` that owns `x` first (they keep few of its rows),
        // then `Xin`'s other leaves and the region's others. `x = k` is among the region's
        // equalities, `k` now the sums' column of that name.
        let (inner_leaves, inner_equalities) = match Region::of(skip_picks(&having.outer)) {
            Some(inner) if inner.residuals.is_empty() => (inner.leaves, inner.equalities),
            Some(_) => return Ok(None),
            None => (vec![having.outer.clone()], Vec::new()),
        };
        let Some(owner) = inner_leaves
            .iter()
            .position(|leaf| leaf.schema().has_column(&having.outer_key))
        else {
            return Ok(None);
        };
        let mut plans = vec![inner_leaves[owner].clone(), sums];
        plans.extend(
            inner_leaves
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != owner)
                .map(|(_, leaf)| leaf.clone()),
        );
        plans.extend(
            region
                .leaves
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != self.x && *i != self.l)
                .map(|(_, leaf)| leaf.clone()),
        );
        let mut equalities = region.equalities.clone();
        equalities.extend(inner_equalities);
        let rebuilt = Region {
            leaves: plans,
            equalities,
            residuals: Vec::new(),
            shape: Tree::Leaf(0),
            schema: Arc::new(DFSchema::empty()),
        };
        let Some(classes) = region_classes(&rebuilt) else {
            return Ok(None);
        };
        join_leaves(&classes, rebuilt.leaves, |leaf, column| {
            Some((leaf, column.clone()))
        })
    }

    /// `[Filter: P] Aggregate: k, SA, partials` over whichever of `T` and `L` has the
    /// columns both read.
    fn subquery_with_partials(
        &self,
        region: &Region,
        functions: &[AggregateFunction],
        having: &HavingSemiJoin,
    ) -> Result<Option<LogicalPlan>> {
        let mut read: Vec<Column> = vec![having.group.clone()];
        for expr in having.aggregates.iter().cloned().chain(partials(functions)) {
            read.extend(expr.column_refs().into_iter().cloned());
        }
        let candidates = [&having.relation, &region.leaves[self.l]];
        let Some(input) = candidates
            .into_iter()
            .find(|plan| read.iter().all(|c| plan.schema().has_column(c)))
        else {
            return Ok(None);
        };
        let aggregates: Vec<Expr> = having
            .aggregates
            .iter()
            .cloned()
            .chain(partials(functions))
            .collect();
        let mut plan = LogicalPlanBuilder::from(input.clone())
            .aggregate(vec![Expr::Column(having.group.clone())], aggregates)?;
        if let Some(predicate) = &having.predicate {
            plan = plan.filter(predicate.clone())?;
        }
        plan.build().map(Some)
    }
}
