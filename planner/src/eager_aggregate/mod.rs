//! `AggregateBelowJoin`: an aggregation over inner joins is computed in two steps, the
//! first below the joins with the tables it does not need to see (Yan & Larson, "Eager
//! Aggregation and Lazy Aggregation", VLDB 1995).
//!
//! TPC-H q10 sums each customer's returned lines of one quarter, grouped by seven customer
//! columns (names, addresses, comments). DataFusion joins the 1.1 million lines with the
//! customers first, carrying those strings along, and then hashes them to group. Summed per
//! `o_custkey` first, the lines become 0.38 million sums, and only those meet the customers.
//!
//! ```text
//! Aggregate: G, agg(a)                        Aggregate: G, combine(p)
//!   Inner joins over A and R leaves    =>       Inner joins: k = R's key columns
//!                                                 Aggregate: k, agg(a) AS p
//!                                                   Inner joins over A
//!                                                 R's leaves
//! ```
//!
//! `A` holds the leaves the aggregates read, and every leaf that filters (a filter, a semi
//! join, anything but a bare scan: joined late, it would leave the first aggregation rows to
//! sum that the joins drop); `R` the other leaves, which only add group columns or repeat
//! rows. `A` must be connected, and exactly one class of equal columns must join it to `R`,
//! whose `A` column is `k`. The plan pays off when the first step has fewer groups than rows
//! and the joins would carry wide columns to the aggregation; statistics cannot tell the
//! first (q10's quarter of orders has 0.38 million customers among 1.1 million lines), so
//! the rule asks for what makes it likely and bounds the loss otherwise: every group column
//! comes from `R` (the first step groups by `k` alone, one narrow hash per row), and one of
//! them is text (what a join copies and an aggregation hashes byte by byte).
//!
//! Why the answer cannot change: the joins' rows are the rows of `A`'s joins paired with the
//! rows of `R`'s that meet `k` equal to their key (no other condition joins the two; `NULL`
//! keys meet nothing either way). A final group is a set of `R` rows (its columns are all
//! `R`'s); split its rows by the `A` row's `k`: each part pairs the group's `R` rows of that
//! key with every `A` row of one first-step group, so the final group's rows are, for each
//! first-step group it meets, every `A` row of it repeated once per `R` row. A sum of sums, a sum of counts,
//! a minimum of minimums and a maximum of maximums over those repeated sub-multisets equal
//! the aggregate over the whole multiset (a sum of only `NULL`s is `NULL` in both, a count
//! is never `NULL`). Only `sum`, `count`, `min` and `max` without DISTINCT, FILTER or ORDER
//! BY are taken, and only when the two steps give the original result type (a `Decimal128`
//! sum of sums widens its precision unless it is 38 already, so such a plan is left as is).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::{AggregateFunction, Cast};
use datafusion::logical_expr::{lit, Aggregate, Expr, LogicalPlan, LogicalPlanBuilder, Projection};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use crate::join_order::region::{classes as region_classes, Classes, Region, Tree};
use crate::options::CorepyOptions;
use crate::scalar_subquery::skip_picks;

/// Prefix of the first step's aggregate columns; an aggregation that reads one is a second
/// step already.
const FIRST_STEP: &str = "__corepy_eager_";

#[derive(Debug, Default)]
pub struct AggregateBelowJoin;

impl OptimizerRule for AggregateBelowJoin {
    fn name(&self) -> &str {
        "corepy_aggregate_below_join"
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
        on_aggregate(plan, config, in_two_steps)
    }
}

/// Both rules' step: an aggregation rewritten by `rewrite` when `SET
/// corepy.eager_aggregate` allows it and the rewrite applies; any other node as it is. A
/// plan DataFusion refuses to build (a name clash) leaves the query as it is too.
fn on_aggregate(
    plan: LogicalPlan,
    config: &dyn OptimizerConfig,
    rewrite: impl Fn(&Aggregate) -> Result<Option<LogicalPlan>>,
) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Aggregate(aggregate) = &plan else {
        return Ok(Transformed::no(plan));
    };
    if !CorepyOptions::of(&config.options()).eager_aggregate {
        return Ok(Transformed::no(plan));
    }
    Ok(match rewrite(aggregate) {
        Ok(Some(rewritten)) => Transformed::yes(rewritten),
        _ => Transformed::no(plan),
    })
}

/// How an aggregate's partial values are combined.
fn combined(function: &AggregateFunction, partial: Expr) -> Expr {
    let func = match function.func.name() {
        "count" => sum_udaf(),
        _ => Arc::clone(&function.func),
    };
    Expr::AggregateFunction(AggregateFunction::new_udf(
        func,
        vec![partial],
        false,
        None,
        vec![],
        None,
    ))
}

/// The aggregation in two steps, or `None` where the shape or the types do not allow it.
fn in_two_steps(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    let Some(functions) = decomposable(aggregate) else {
        return Ok(None);
    };
    let Some(groups) = group_columns(aggregate) else {
        return Ok(None);
    };
    let Some(region) = Region::of(skip_picks(&aggregate.input)) else {
        return Ok(None);
    };
    let Some(classes) = region_classes(&region) else {
        return Ok(None);
    };
    let Some(split) = Split::of(&region, &classes, &functions, &groups) else {
        return Ok(None);
    };
    let Some(first) = split.first_step(&region, &classes, &functions)? else {
        return Ok(None);
    };
    let Some(joined) = split.joined_with_rest(&region, &classes, first)? else {
        return Ok(None);
    };
    second_step(aggregate, &functions, joined, Types::Exact)
}

/// Whether a second step's output type may be narrowed back to the original's: never
/// (`Exact`), or for a `Decimal128` sum of sums of the same scale (`DecimalSums`).
#[derive(Clone, Copy, PartialEq)]
enum Types {
    Exact,
    DecimalSums,
}

/// The aggregation's second step over `joined` (which carries the first step's
/// `__corepy_eager_*` columns), under the original output names; `None` where a type
/// differs and `types` does not allow narrowing it.
///
/// With `DecimalSums`, a sum of `Decimal128(p, s)` sums (typed `p + 10`) is cast back to
/// the original `Decimal128(p, s)`. Both sum exactly in 128 bits; they differ only for a
/// total beyond `p` digits, which DataFusion's one-step sum returns unchecked, out of its
/// declared precision, and the cast rejects with an error.
fn second_step(
    aggregate: &Aggregate,
    functions: &[AggregateFunction],
    joined: LogicalPlan,
    types: Types,
) -> Result<Option<LogicalPlan>> {
    let second: Vec<Expr> = functions
        .iter()
        .enumerate()
        .map(|(i, f)| combined(f, Expr::Column(Column::from_name(partial_name(i)))))
        .collect();
    let second = LogicalPlanBuilder::from(joined)
        .aggregate(aggregate.group_expr.clone(), second)?
        .build()?;
    // The original names (and qualifiers) of every output column, and its types.
    // A count is a sum of counts, which is NULL over no rows (an aggregation without
    // groups over an empty join) and typed nullable: `coalesce(…, 0)` gives the count's 0
    // and its non-nullable field.
    let groups = aggregate.group_expr.len();
    let mut outputs = Vec::with_capacity(aggregate.schema.fields().len());
    for (i, ((column, new), (qualifier, old))) in second
        .schema()
        .columns()
        .into_iter()
        .zip(second.schema().fields())
        .zip(aggregate.schema.iter())
        .enumerate()
    {
        let is_count = i >= groups && functions[i - groups].func.name() == "count";
        let value = match (new.data_type(), old.data_type()) {
            (a, b) if a == b && is_count => coalesce(vec![Expr::Column(column), lit(0_i64)]),
            (a, b) if a == b => Expr::Column(column),
            (DataType::Decimal128(_, new_scale), DataType::Decimal128(_, old_scale))
                if types == Types::DecimalSums && new_scale == old_scale =>
            {
                Expr::Cast(Cast::new(
                    Box::new(Expr::Column(column)),
                    old.data_type().clone(),
                ))
            }
            _ => return Ok(None),
        };
        outputs.push(value.alias_qualified(qualifier.cloned(), old.name()));
    }
    let plan = LogicalPlan::Projection(Projection::try_new(outputs, Arc::new(second))?);
    Ok(Some(plan))
}

/// The name of the first step's `i`-th partial aggregate.
fn partial_name(i: usize) -> String {
    format!("{FIRST_STEP}{i}")
}

/// The partial aggregates of the first step, named.
fn partials(functions: &[AggregateFunction]) -> impl Iterator<Item = Expr> + '_ {
    functions
        .iter()
        .enumerate()
        .map(|(i, f)| Expr::AggregateFunction(f.clone()).alias(partial_name(i)))
}

/// The group expressions when each is a column.
fn group_columns(aggregate: &Aggregate) -> Option<Vec<Column>> {
    aggregate
        .group_expr
        .iter()
        .map(|e| e.try_as_col().cloned())
        .collect()
}

/// The aggregate functions when each is a plain `sum`, `count`, `min` or `max` of columns
/// none of which a first step computed.
pub(super) fn decomposable(aggregate: &Aggregate) -> Option<Vec<AggregateFunction>> {
    let mut functions = Vec::with_capacity(aggregate.aggr_expr.len());
    for expr in &aggregate.aggr_expr {
        let Expr::AggregateFunction(function) = expr.clone().unalias() else {
            return None;
        };
        let params = &function.params;
        let plain = !params.distinct && params.filter.is_none() && params.order_by.is_empty();
        let known = matches!(function.func.name(), "sum" | "count" | "min" | "max");
        // A volatile argument (`random()`) is drawn once per joined row; below the joins
        // it would be drawn once and counted for each row that repeats it.
        let volatile = params.args.iter().any(|a| a.is_volatile());
        let first_step = params
            .args
            .iter()
            .flat_map(|a| a.column_refs())
            .any(|c| c.name.starts_with(FIRST_STEP));
        if !plain || !known || volatile || first_step {
            return None;
        }
        functions.push(function);
    }
    (!functions.is_empty()).then_some(functions)
}

/// The leaves the first step joins (`A`, as bits), and its key `k`.
struct Split {
    first: u64,
    key: Column,
}

impl Split {
    fn of(
        region: &Region,
        classes: &Classes,
        functions: &[AggregateFunction],
        groups: &[Column],
    ) -> Option<Split> {
        if !region.residuals.is_empty() || region.leaves.len() > 63 {
            return None;
        }
        let mut first = 0u64;
        for function in functions {
            for arg in &function.params.args {
                first |= region.owners(arg)?;
            }
        }
        for (i, leaf) in region.leaves.iter().enumerate() {
            if !is_bare_scan(leaf) {
                first |= 1 << i;
            }
        }
        // The first step groups by the key alone (an `A` column among the groups could make
        // its groups as many as its rows), and pays off where the joins would carry text
        // columns of `R` to the aggregation.
        let mut carries_text = false;
        for group in groups {
            let leaf = region.owner(group)?;
            if first & (1 << leaf) != 0 {
                return None;
            }
            let (_, field) = region.leaves[leaf]
                .schema()
                .qualified_field_from_column(group)
                .ok()?;
            carries_text |= is_text(field.data_type());
        }
        if !carries_text {
            return None;
        }
        let all = (1u64 << region.leaves.len()) - 1;
        if first == 0 || first == all || !connected(first, classes) {
            return None;
        }
        let in_first = |leaf: usize| first & (1 << leaf) != 0;
        let mut spanning = classes.iter().filter(|class| {
            class.iter().any(|(leaf, _)| in_first(*leaf))
                && class.iter().any(|(leaf, _)| !in_first(*leaf))
        });
        let class = spanning.next()?;
        if spanning.next().is_some() {
            return None;
        }
        let key = class.iter().find(|(leaf, _)| in_first(*leaf))?.1.clone();
        Some(Split { first, key })
    }

    /// `Aggregate: k, agg(a) AS p` over `A`'s joins.
    fn first_step(
        &self,
        region: &Region,
        classes: &Classes,
        functions: &[AggregateFunction],
    ) -> Result<Option<LogicalPlan>> {
        let leaves = members(self.first, region.leaves.len());
        let plans = leaves.iter().map(|&l| region.leaves[l].clone()).collect();
        let place = |leaf: usize, column: &Column| {
            let at = leaves.iter().position(|&l| l == leaf)?;
            Some((at, column.clone()))
        };
        let Some(joined) = join_leaves(classes, plans, place)? else {
            return Ok(None);
        };
        let keys = vec![Expr::Column(self.key.clone())];
        let step = LogicalPlanBuilder::from(joined)
            .aggregate(keys, partials(functions))?
            .build()?;
        Ok(Some(step))
    }

    /// The first step joined with `R`'s leaves, the key standing for every `A` column of
    /// its class.
    fn joined_with_rest(
        &self,
        region: &Region,
        classes: &Classes,
        first: LogicalPlan,
    ) -> Result<Option<LogicalPlan>> {
        let rest = members(!self.first, region.leaves.len());
        let plans = std::iter::once(first)
            .chain(rest.iter().map(|&l| region.leaves[l].clone()))
            .collect();
        let place = |leaf: usize, column: &Column| {
            if self.first & (1 << leaf) != 0 {
                return Some((0, self.key.clone()));
            }
            let at = rest.iter().position(|&l| l == leaf)?;
            Some((1 + at, column.clone()))
        };
        join_leaves(classes, plans, place)
    }
}

/// The leaves whose bits `mask` sets, below `count`.
fn members(mask: u64, count: usize) -> Vec<usize> {
    (0..count).filter(|i| mask & (1 << i) != 0).collect()
}

/// Whether the leaves `mask` are connected by the classes of equal columns.
fn connected(mask: u64, classes: &Classes) -> bool {
    let mut reached = 1u64 << mask.trailing_zeros();
    loop {
        let before = reached;
        for class in classes {
            let leaves = class
                .iter()
                .map(|(leaf, _)| 1u64 << leaf)
                .filter(|bit| mask & bit != 0)
                .fold(0, |a, b| a | b);
            if leaves & reached != 0 {
                reached |= leaves;
            }
        }
        if reached == before {
            return reached == mask;
        }
    }
}

/// `plans` joined left-deep on the region's classes: `place` gives the plan a member of a
/// class is in and the column it stands as there (`None`: a leaf not joined here). `None`
/// where the plans are not connected or a class has two columns in one plan.
fn join_leaves(
    classes: &Classes,
    plans: Vec<LogicalPlan>,
    place: impl Fn(usize, &Column) -> Option<(usize, Column)>,
) -> Result<Option<LogicalPlan>> {
    let mut equalities = Vec::new();
    for class in classes {
        let mut placed: Vec<(usize, Column)> = Vec::new();
        for (leaf, column) in class {
            let Some(member) = place(*leaf, column) else {
                continue;
            };
            if placed.contains(&member) {
                continue;
            }
            if placed.iter().any(|(at, _)| *at == member.0) {
                return Ok(None);
            }
            placed.push(member);
        }
        for pair in placed.windows(2) {
            equalities.push((pair[0].1.clone(), pair[1].1.clone()));
        }
    }
    if plans.len() == 1 {
        return Ok(plans.into_iter().next());
    }
    let mut schema = plans[0].schema().as_ref().clone();
    for plan in &plans[1..] {
        schema = schema.join(plan.schema())?;
    }
    let sub = Region {
        leaves: plans,
        equalities,
        residuals: Vec::new(),
        shape: Tree::Leaf(0),
        schema: Arc::new(schema),
    };
    let Some(sub_classes) = region_classes(&sub) else {
        return Ok(None);
    };
    let Some(tree) = left_deep(sub.leaves.len(), &sub_classes) else {
        return Ok(None);
    };
    sub.build(&tree, &sub_classes).map(Some)
}

/// A left-deep tree that joins each next leaf to one it meets, or `None` if some leaf
/// meets none of the others.
fn left_deep(count: usize, classes: &Classes) -> Option<Tree> {
    let mut tree = Tree::Leaf(0);
    let mut joined = 1u64;
    while joined.count_ones() < count as u32 {
        let next = (0..count).find(|&leaf| {
            joined & (1 << leaf) == 0
                && classes.iter().any(|class| {
                    class.iter().any(|(l, _)| *l == leaf)
                        && class.iter().any(|(l, _)| joined & (1 << l) != 0)
                })
        })?;
        tree = Tree::Join(Box::new(tree), Box::new(Tree::Leaf(next)));
        joined |= 1 << next;
    }
    Some(tree)
}

/// Whether values of `data_type` are of varying width (hashed and copied byte by byte).
fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

/// Whether a leaf is a table scan with no filters (under projections that pick columns).
fn is_bare_scan(plan: &LogicalPlan) -> bool {
    match skip_picks(plan) {
        LogicalPlan::TableScan(scan) => scan.filters.is_empty() && scan.fetch.is_none(),
        _ => false,
    }
}

mod having_subquery;
pub use having_subquery::AggregateFromHavingSubquery;

#[cfg(test)]
mod tests;
