//! `ExistsInOnePass`: `EXISTS` and `NOT EXISTS` subqueries that read the same table by the
//! same key, each asking for a row whose column differs from the outer row's, are answered
//! by one grouped pass over that table instead of one join each.
//!
//! TPC-H q21 asks, for each late line `l1`, whether its order has a line of another
//! supplier (`EXISTS … l2.l_suppkey <> l1.l_suppkey`) and no *late* line of another
//! supplier (`NOT EXISTS … l3 … AND l3 late`). DataFusion unnests each into a join whose
//! filter compares every line of the order with `l1`'s: a semi join over all 60 M lines
//! and an anti join over the 38 M late ones, each reading `lineitem` again (SF10). Both
//! questions only need, per order, the least and greatest supplier of its lines, and of
//! its late lines:
//!
//! ```text
//! LeftAnti Join: o.k = s2.k Filter: s2.a <> o.b        LeftSemi Join: o.k = e.k
//!   LeftSemi Join: o.k = s1.k Filter: s1.a <> o.b  =>    Filter: (e.lo0 <> o.b OR e.hi0 <> o.b)
//!     <outer o>                                                AND (e.lo1 <> o.b OR e.hi1 <> o.b) IS NOT TRUE
//!     <s1: T>                                            <outer o>
//!   <s2: T where P>                                      SubqueryAlias: e
//!                                                          Aggregate: groupBy=[T.k], aggr=[
//!                                                            min(T.a) AS lo0, max(T.a) AS hi0,
//!                                                            min(CASE WHEN P THEN T.a END) AS lo1, …]
//!                                                            TableScan: T
//! ```
//!
//! Why the answer cannot change. Take one subquery, an outer row with key `k` and column
//! `b`, and `S` the non-NULL values of `a` on the rows of `T` with key `k` that satisfy the
//! subquery's own predicate `P`. A row of `S` makes `a <> b` true exactly when `b` is not
//! NULL and differs from it, so the subquery has a row iff `b` is not NULL and `S` holds a
//! value other than `b` — iff `S` is not empty and is not `{b}`. With `lo = min(S)` and
//! `hi = max(S)` (NULL when `S` is empty, as `min`/`max` of `CASE WHEN P THEN a END` give
//! it),
//! `S = {b}` iff `lo = b` and `hi = b`, for types whose order agrees with their equality
//! (integers, decimals, dates, times, strings compared by bytes; not floats, where
//! `-0.0 = 0.0` and NaN break that). So `lo <> b OR hi <> b` is true iff the subquery has a
//! row, and is NULL, never true, when `S` is empty or `b` is NULL. The aggregate has one
//! row per key, so a semi join with it keeps an outer row iff some subquery's condition is
//! true for that row's group — the conjunction of the `EXISTS` conditions and of the
//! `NOT EXISTS` ones negated (`IS NOT TRUE`: NULL, no row, keeps the outer row). An outer
//! row whose key no row of `T` has, or whose key is NULL, fails every `EXISTS` and passes
//! every `NOT EXISTS`, as the joins do: the merged join is a semi join when any subquery is
//! an `EXISTS`, and an anti join on the disjunction of the conditions when all are
//! `NOT EXISTS`.
//!
//! The rule takes a chain of two or more such joins, each the left input of the next, over
//! one table scan (with their filters, projections of columns and aliases over it), joined
//! on the same outer expressions to the same columns, with a filter that is exactly one
//! `<>` between a column of the subquery and a column of the outer row. Anything else — one
//! subquery alone (it would gain no shared pass), other filters, a volatile predicate, a
//! limited scan, NULL-equal keys, `NOT IN` — is left to DataFusion's joins.
//! `SET corepy.exists_in_one_pass = false` turns the rule off.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ExprSchema, NullEquality, Result, TableReference};
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::logical_expr::expr::BinaryExpr;
use datafusion::logical_expr::utils::{conjunction, disjunction, split_conjunction};
use datafusion::logical_expr::{
    when, Expr, Join, JoinConstraint, JoinType, LogicalPlan, LogicalPlanBuilder, Operator,
    TableScan, TableScanBuilder,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use crate::options::CorepyOptions;

/// Alias of the grouped pass a rewrite made.
pub const BOUNDS_ALIAS: &str = "__corepy_exists";

#[derive(Debug, Default)]
pub struct ExistsInOnePass;

impl OptimizerRule for ExistsInOnePass {
    fn name(&self) -> &str {
        "corepy_exists_in_one_pass"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        // The outermost join of a chain first, so the whole chain is seen at once.
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
        // `SET corepy.exists_in_one_pass = false` keeps DataFusion's joins.
        if !CorepyOptions::of(&config.options()).exists_in_one_pass {
            return Ok(Transformed::no(plan));
        }
        let LogicalPlan::Join(join) = &plan else {
            return Ok(Transformed::no(plan));
        };
        Ok(match one_pass(join)? {
            Some(rewritten) => Transformed::yes(rewritten),
            None => Transformed::no(plan),
        })
    }
}

/// One subquery of a chain: a semi (`EXISTS`) or anti (`NOT EXISTS`) join asking for a row
/// of `source` with the outer row's key and a value of `differs` other than `outer_value`.
struct Link {
    exists: bool,
    /// The join's keys: the outer expression and the name of the table's column.
    keys: Vec<(Expr, String)>,
    /// The table's column that must differ.
    differs: String,
    /// The outer row's column it must differ from.
    outer_value: Expr,
    source: Source,
}

/// A table scan with the predicate its rows satisfy (over the scan's own columns).
struct Source {
    scan: TableScan,
    predicate: Vec<Expr>,
}

fn one_pass(top: &Join) -> Result<Option<LogicalPlan>> {
    let Some(mut link) = link_of(top)? else {
        return Ok(None);
    };
    // Down the left inputs while each join asks about the same table by the same keys.
    let mut join = top;
    let mut links = Vec::new();
    loop {
        links.push(link);
        let LogicalPlan::Join(below) = join.left.as_ref() else {
            break;
        };
        match link_of(below)? {
            Some(next) if same_subject(&links[0], &next) => {
                link = next;
                join = below;
            }
            _ => break,
        }
    }
    if links.len() < 2 {
        return Ok(None);
    }
    merged(Arc::clone(&join.left), &links).map(Some)
}

/// Whether two subqueries read the same table by the same keys, from the same outer
/// expressions.
fn same_subject(a: &Link, b: &Link) -> bool {
    let (sa, sb) = (&a.source.scan, &b.source.scan);
    let mut keys_a = a.keys.clone();
    let mut keys_b = b.keys.clone();
    keys_a.sort_by(|x, y| x.1.cmp(&y.1));
    keys_b.sort_by(|x, y| x.1.cmp(&y.1));
    sa.table_name == sb.table_name && Arc::ptr_eq(&sa.source, &sb.source) && keys_a == keys_b
}

/// The subquery a semi or anti join asks, when it has the shape of the module's notes.
fn link_of(join: &Join) -> Result<Option<Link>> {
    let exists = match join.join_type {
        JoinType::LeftSemi => true,
        JoinType::LeftAnti => false,
        _ => return Ok(None),
    };
    if join.null_equality != NullEquality::NullEqualsNothing
        || join.null_aware
        || join.on.is_empty()
    {
        return Ok(None);
    }
    let Some(source) = source_of(&join.right) else {
        return Ok(None);
    };
    let (outer_schema, inner_schema) = (join.left.schema(), join.right.schema());
    let mut keys = Vec::with_capacity(join.on.len());
    for (outer_key, inner_key) in &join.on {
        let Expr::Column(inner_key) = inner_key else {
            return Ok(None);
        };
        keys.push((outer_key.clone(), inner_key.name.clone()));
    }
    let Some(Expr::BinaryExpr(BinaryExpr {
        left,
        op: Operator::NotEq,
        right,
    })) = &join.filter
    else {
        return Ok(None);
    };
    let (Expr::Column(l), Expr::Column(r)) = (left.as_ref(), right.as_ref()) else {
        return Ok(None);
    };
    let (inner, outer) = if inner_schema.has_column(l) && outer_schema.has_column(r) {
        (l, r)
    } else if inner_schema.has_column(r) && outer_schema.has_column(l) {
        (r, l)
    } else {
        return Ok(None);
    };
    let inner_type = inner_schema.field_from_column(inner)?.data_type();
    let outer_type = outer_schema.field_from_column(outer)?.data_type();
    if inner_type != outer_type || !order_agrees_with_equality(inner_type) {
        return Ok(None);
    }
    Ok(Some(Link {
        exists,
        keys,
        differs: inner.name.clone(),
        outer_value: Expr::Column(outer.clone()),
        source,
    }))
}

/// Types whose `min = max = b` means every value equals `b`.
fn order_agrees_with_equality(ty: &DataType) -> bool {
    ty.is_integer()
        || matches!(
            ty,
            DataType::Boolean
                | DataType::Date32
                | DataType::Date64
                | DataType::Time32(_)
                | DataType::Time64(_)
                | DataType::Timestamp(_, _)
                | DataType::Decimal128(_, _)
                | DataType::Decimal256(_, _)
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
        )
}

/// The table scan under aliases, projections of columns and filters, with the filters'
/// conjuncts (and the scan's own pushed filters) over the scan's columns. Column names are
/// unique in a scan, so each column above is the scan's column of the same name.
fn source_of(plan: &LogicalPlan) -> Option<Source> {
    let mut predicate = Vec::new();
    let mut plan = plan;
    let scan = loop {
        match plan {
            LogicalPlan::SubqueryAlias(alias) => plan = &alias.input,
            LogicalPlan::Projection(projection)
                if projection.expr.iter().all(|e| matches!(e, Expr::Column(_))) =>
            {
                plan = &projection.input
            }
            LogicalPlan::Filter(filter) => {
                predicate.extend(split_conjunction(&filter.predicate).into_iter().cloned());
                plan = &filter.input;
            }
            LogicalPlan::TableScan(scan) if scan.fetch.is_none() => break scan,
            _ => return None,
        }
    };
    predicate.extend(scan.filters.iter().cloned());
    let mut own = Vec::with_capacity(predicate.len());
    for conjunct in predicate {
        if conjunct.is_volatile() {
            return None;
        }
        let conjunct = on_scan_columns(conjunct, &scan.table_name).ok()?;
        if !own.contains(&conjunct) {
            own.push(conjunct);
        }
    }
    Some(Source {
        scan: scan.clone(),
        predicate: own,
    })
}

/// `expr` with every column named as the scan's column of the same name.
fn on_scan_columns(expr: Expr, table: &TableReference) -> Result<Expr> {
    expr.transform(|e| match e {
        Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new(
            Some(table.clone()),
            c.name,
        )))),
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}

/// The chain's one join: the outer rows against the table grouped by the keys, with each
/// subquery's least and greatest value.
fn merged(outer: Arc<LogicalPlan>, links: &[Link]) -> Result<LogicalPlan> {
    let first = &links[0].source.scan;
    let table = &first.table_name;
    let column = |name: &str| Expr::Column(Column::new(Some(table.clone()), name));
    let mut aggregates = Vec::with_capacity(2 * links.len());
    for (i, link) in links.iter().enumerate() {
        // The value on the rows that satisfy the predicate, NULL on the others (which
        // `min` and `max` skip, as they would under `FILTER (WHERE …)`; a filter shared by
        // two aggregates trips DataFusion's common-subexpression pass over the
        // nullability of `IS NOT TRUE`).
        let value = match conjunction(link.source.predicate.iter().cloned()) {
            Some(p) => when(p, column(&link.differs)).end()?,
            None => column(&link.differs),
        };
        aggregates.push(min(value.clone()).alias(lo(i)));
        aggregates.push(max(value).alias(hi(i)));
    }
    let keys: Vec<Expr> = links[0].keys.iter().map(|(_, name)| column(name)).collect();
    let scan = scan_of_all(links)?;
    let grouped = LogicalPlanBuilder::from(LogicalPlan::TableScan(scan))
        .aggregate(keys, aggregates)?
        .alias(BOUNDS_ALIAS)?
        .build()?;
    let bound = |name: String| Expr::Column(Column::new(Some(BOUNDS_ALIAS), name));
    let differs = |i: usize, link: &Link| {
        bound(lo(i))
            .not_eq(link.outer_value.clone())
            .or(bound(hi(i)).not_eq(link.outer_value.clone()))
    };
    let any_exists = links.iter().any(|l| l.exists);
    let filter = if any_exists {
        conjunction(links.iter().enumerate().map(|(i, link)| {
            if link.exists {
                differs(i, link)
            } else {
                differs(i, link).is_not_true()
            }
        }))
    } else {
        disjunction(links.iter().enumerate().map(|(i, link)| differs(i, link)))
    };
    let on = links[0]
        .keys
        .iter()
        .map(|(outer_key, name)| (outer_key.clone(), bound(name.clone())))
        .collect();
    let join = Join::try_new(
        outer,
        Arc::new(grouped),
        on,
        filter,
        if any_exists {
            JoinType::LeftSemi
        } else {
            JoinType::LeftAnti
        },
        JoinConstraint::On,
        NullEquality::NullEqualsNothing,
        false,
    )?;
    Ok(LogicalPlan::Join(join))
}

fn lo(i: usize) -> String {
    format!("__corepy_lo{i}")
}

fn hi(i: usize) -> String {
    format!("__corepy_hi{i}")
}

/// One scan of the table with every column the subqueries read, and none of their pushed
/// filters (each subquery's predicate filters its own aggregates).
fn scan_of_all(links: &[Link]) -> Result<TableScan> {
    let first = &links[0].source.scan;
    let schema = first.source.schema();
    let mut columns = BTreeSet::new();
    for link in links {
        match &link.source.scan.projection {
            Some(projection) => columns.extend(projection.iter().copied()),
            None => columns.extend(0..schema.fields().len()),
        }
    }
    TableScanBuilder::new(first.table_name.clone(), Arc::clone(&first.source))
        .with_projection(Some(columns.into_iter().collect()))
        .build()
}

#[cfg(test)]
mod tests;
