//! Estimated sizes: how many rows a plan returns, how many its tables held before filters,
//! and how many distinct values a column has. Rough by design — the join order needs to
//! tell a filtered orders table (a seventh of its rows) from the six million lines, and a
//! nation key (25 values) from a customer key, not the exact counts.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Between, BinaryExpr, Expr, JoinType, Like, LogicalPlan, Operator};

use super::table_stats::{table_stats, TableStats};
use crate::fusion::FusedStage;
use crate::semi_join::column_below;

/// Selectivity of a predicate nothing is known about.
const UNKNOWN: f64 = 0.5;
/// Of a comparison with a literal, when the column's range is unknown.
const RANGE: f64 = 1.0 / 3.0;
/// Of an equality with a literal whose column's distinct count is unknown.
const EQUAL: f64 = 0.1;
/// Of a pattern match.
const LIKE: f64 = 0.1;

/// A plan's estimated rows, and the rows of its tables before any filter (so that
/// `rows / base` says how much of its table a filtered input keeps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub rows: f64,
    pub base: f64,
}

impl Estimate {
    fn kept(self, fraction: f64) -> Self {
        Estimate {
            rows: (self.rows * fraction.clamp(0.0, 1.0)).max(1.0),
            base: self.base,
        }
    }

    fn derived(rows: f64) -> Self {
        let rows = rows.max(1.0);
        Estimate { rows, base: rows }
    }
}

/// The estimate of `plan`, or `None` when part of it has no statistics.
pub fn estimate(plan: &LogicalPlan) -> Option<Estimate> {
    Some(match plan {
        LogicalPlan::TableScan(scan) => {
            let stats = table_stats(scan)?;
            let rows = stats.rows.max(1.0);
            let full = Estimate { rows, base: rows };
            let kept = selectivity_all(&scan.filters, &|c| column_stats(plan, c));
            let scanned = full.kept(kept);
            match scan.fetch {
                Some(fetch) => Estimate::derived(scanned.rows.min(fetch as f64)),
                None => scanned,
            }
        }
        LogicalPlan::Filter(filter) => filtered(&filter.predicate, &filter.input)?,
        LogicalPlan::Projection(p) => estimate(&p.input)?,
        LogicalPlan::SubqueryAlias(a) => estimate(&a.input)?,
        LogicalPlan::Window(w) => estimate(&w.input)?,
        LogicalPlan::Repartition(r) => estimate(&r.input)?,
        LogicalPlan::Sort(sort) => {
            let input = estimate(&sort.input)?;
            match sort.fetch {
                Some(fetch) => Estimate::derived(input.rows.min(fetch as f64)),
                None => input,
            }
        }
        LogicalPlan::Limit(limit) => {
            let input = estimate(&limit.input)?;
            match limit.get_fetch_type().ok()? {
                datafusion::logical_expr::logical_plan::FetchType::Literal(Some(n)) => {
                    Estimate::derived(input.rows.min(n as f64))
                }
                _ => input,
            }
        }
        LogicalPlan::Aggregate(aggregate) => {
            let input = estimate(&aggregate.input)?;
            if aggregate.group_expr.is_empty() {
                return Some(Estimate::derived(1.0));
            }
            let mut groups = 1.0f64;
            for expr in &aggregate.group_expr {
                groups *= match expr {
                    Expr::Column(c) => distinct(&aggregate.input, c).unwrap_or(input.rows),
                    _ => input.rows,
                };
            }
            Estimate::derived(groups.min(input.rows))
        }
        LogicalPlan::Distinct(distinct) => {
            Estimate::derived(estimate(distinct.input())?.rows / 2.0)
        }
        LogicalPlan::Union(union) => {
            let mut rows = 0.0;
            for input in &union.inputs {
                rows += estimate(input)?.rows;
            }
            Estimate::derived(rows)
        }
        LogicalPlan::Join(join) => {
            let left = estimate(&join.left)?;
            let right = estimate(&join.right)?;
            match join.join_type {
                JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => left,
                JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => right,
                JoinType::Left => Estimate::derived(left.rows.max(inner_rows(left, right))),
                JoinType::Right => Estimate::derived(right.rows.max(inner_rows(left, right))),
                JoinType::Full => Estimate::derived(left.rows + right.rows),
                JoinType::Inner => Estimate::derived(inner_rows(left, right)),
            }
        }
        LogicalPlan::Values(values) => Estimate::derived(values.values.len() as f64),
        LogicalPlan::EmptyRelation(_) => Estimate::derived(1.0),
        LogicalPlan::Extension(extension) => match extension.node.inputs().as_slice() {
            // A fused stage that filters (a HAVING over an aggregation, once fused) keeps
            // what its predicate would keep as a Filter.
            [input] => match FusedStage::of(plan).and_then(|s| s.predicate.as_ref()) {
                Some(predicate) => filtered(predicate, input)?,
                None => estimate(input)?,
            },
            _ => return None,
        },
        _ => return None,
    })
}

/// The estimate of `input` under `predicate`, less the conjuncts its scan already applies.
fn filtered(predicate: &Expr, input: &LogicalPlan) -> Option<Estimate> {
    let pushed = pushed_filters(input);
    let own: Vec<Expr> = split_conjunction(predicate)
        .into_iter()
        .filter(|p| !pushed.contains(p))
        .cloned()
        .collect();
    let kept = selectivity_all(&own, &|c| column_stats(input, c));
    Some(estimate(input)?.kept(kept))
}

/// An inner join's rows when nothing is known about its keys: as if every row of the
/// larger side met one row of the smaller.
fn inner_rows(left: Estimate, right: Estimate) -> f64 {
    left.rows.max(right.rows)
}

/// At most how many distinct values `column` of `plan` has, from its table's statistics
/// (not capped by the rows the plan keeps; the caller does that).
pub fn distinct(plan: &LogicalPlan, column: &Column) -> Option<f64> {
    let (stats, name) = column_stats(plan, column)?;
    Some(stats.distinct(&name))
}

/// The statistics of the table `column` comes from unchanged, and its name there.
fn column_stats(plan: &LogicalPlan, column: &Column) -> Option<(Arc<TableStats>, String)> {
    if let Some((input, below)) = column_below(plan, column) {
        return column_stats(input, &below);
    }
    match plan {
        LogicalPlan::TableScan(scan) => {
            let index = scan.projected_schema.index_of_column(column).ok()?;
            let name = scan.projected_schema.field(index).name().clone();
            Some((table_stats(scan)?, name))
        }
        LogicalPlan::Join(join) => {
            if join.left.schema().has_column(column) {
                column_stats(&join.left, column)
            } else {
                column_stats(&join.right, column)
            }
        }
        LogicalPlan::Sort(s) => column_stats(&s.input, column),
        LogicalPlan::Limit(l) => column_stats(&l.input, column),
        LogicalPlan::Repartition(r) => column_stats(&r.input, column),
        LogicalPlan::Window(w) => column_stats(&w.input, column),
        LogicalPlan::Aggregate(aggregate) => {
            let index = aggregate.schema.index_of_column(column).ok()?;
            match aggregate.group_expr.get(index)? {
                Expr::Column(below) => column_stats(&aggregate.input, below),
                _ => None,
            }
        }
        LogicalPlan::Extension(extension) => match extension.node.inputs().as_slice() {
            [input] if input.schema().has_column(column) => column_stats(input, column),
            _ => None,
        },
        _ => None,
    }
}

/// The filters pushed into the scan under `plan` (a Filter above a scan repeats those the
/// scan applies only in part, and they must be counted once).
fn pushed_filters(plan: &LogicalPlan) -> Vec<Expr> {
    match plan {
        LogicalPlan::Projection(p) => pushed_filters(&p.input),
        LogicalPlan::SubqueryAlias(a) => pushed_filters(&a.input),
        LogicalPlan::TableScan(scan) => scan.filters.clone(),
        _ => Vec::new(),
    }
}

fn split_conjunction(expr: &Expr) -> Vec<&Expr> {
    datafusion::logical_expr::utils::split_conjunction(expr)
}

type Lookup<'a> = dyn Fn(&Column) -> Option<(Arc<TableStats>, String)> + 'a;

/// The fraction of rows the conjunction of `predicates` keeps. Comparisons of one column
/// with literals are intersected into one range first, so `d >= 1994 AND d < 1995` keeps
/// a year of the column's span, not the product of two halves.
fn selectivity_all(predicates: &[Expr], lookup: &Lookup) -> f64 {
    let mut ranges: HashMap<Column, (f64, f64)> = HashMap::new();
    let mut kept = 1.0;
    for predicate in predicates.iter().flat_map(split_conjunction) {
        match bound(predicate) {
            Some((column, low, high)) if range_of(lookup, &column).is_some() => {
                let entry = ranges
                    .entry(column)
                    .or_insert((f64::NEG_INFINITY, f64::INFINITY));
                *entry = (entry.0.max(low), entry.1.min(high));
            }
            _ => kept *= selectivity(predicate, lookup),
        }
    }
    for (column, (low, high)) in ranges {
        if let Some((min, max)) = range_of(lookup, &column) {
            kept *= range_fraction(min, max, low, high);
        }
    }
    kept
}

fn range_of(lookup: &Lookup, column: &Column) -> Option<(f64, f64)> {
    let (stats, name) = lookup(column)?;
    stats.ranges.get(&name).copied()
}

/// The part of `[min, max]` that `[low, high]` covers.
fn range_fraction(min: f64, max: f64, low: f64, high: f64) -> f64 {
    let span = (max - min).max(1.0);
    let covered = high.min(max) - low.max(min);
    (covered / span).clamp(0.0, 1.0).max(1.0 / span)
}

/// `column op literal` as the closed range of values it keeps.
fn bound(predicate: &Expr) -> Option<(Column, f64, f64)> {
    match predicate {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column, op, value) = match (left.as_ref(), right.as_ref()) {
                (Expr::Column(c), Expr::Literal(v, _)) => (c, *op, v),
                (Expr::Literal(v, _), Expr::Column(c)) => (c, op.swap()?, v),
                _ => return None,
            };
            let v = number(value)?;
            let (low, high) = match op {
                Operator::Lt | Operator::LtEq => (f64::NEG_INFINITY, v),
                Operator::Gt | Operator::GtEq => (v, f64::INFINITY),
                Operator::Eq => (v, v),
                _ => return None,
            };
            Some((column.clone(), low, high))
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => match (expr.as_ref(), low.as_ref(), high.as_ref()) {
            (Expr::Column(c), Expr::Literal(l, _), Expr::Literal(h, _)) => {
                Some((c.clone(), number(l)?, number(h)?))
            }
            _ => None,
        },
        _ => None,
    }
}

/// A literal as a point on the axis the footer statistics use (integers and days).
fn number(value: &ScalarValue) -> Option<f64> {
    Some(match value {
        ScalarValue::Int8(Some(v)) => *v as f64,
        ScalarValue::Int16(Some(v)) => *v as f64,
        ScalarValue::Int32(Some(v)) => *v as f64,
        ScalarValue::Int64(Some(v)) => *v as f64,
        ScalarValue::UInt8(Some(v)) => *v as f64,
        ScalarValue::UInt16(Some(v)) => *v as f64,
        ScalarValue::UInt32(Some(v)) => *v as f64,
        ScalarValue::UInt64(Some(v)) => *v as f64,
        ScalarValue::Date32(Some(v)) => *v as f64,
        _ => return None,
    })
}

/// The fraction of rows one predicate keeps.
fn selectivity(predicate: &Expr, lookup: &Lookup) -> f64 {
    // Only a column with a known range has a known distinct count here: a string column
    // (`c_mktsegment = 'BUILDING'`) is not assumed to be a key.
    let distinct_of = |expr: &Expr| match expr {
        Expr::Column(c) => lookup(c).and_then(|(stats, name)| {
            stats
                .ranges
                .contains_key(&name)
                .then(|| stats.distinct(&name))
        }),
        _ => None,
    };
    match predicate {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => selectivity(left, lookup) * selectivity(right, lookup),
            Operator::Or => {
                let (a, b) = (selectivity(left, lookup), selectivity(right, lookup));
                a + b - a * b
            }
            Operator::Eq => equal_fraction(left, right, &distinct_of),
            Operator::NotEq => 1.0 - equal_fraction(left, right, &distinct_of),
            Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq => RANGE,
            _ => UNKNOWN,
        },
        Expr::Like(Like { negated, .. }) => {
            if *negated {
                1.0 - LIKE
            } else {
                LIKE
            }
        }
        Expr::InList(list) => {
            let one = distinct_of(&list.expr).map_or(EQUAL, |d| 1.0 / d);
            let all = (one * list.list.len() as f64).min(1.0);
            if list.negated {
                1.0 - all
            } else {
                all
            }
        }
        Expr::Between(between) => {
            if between.negated {
                1.0 - RANGE
            } else {
                RANGE
            }
        }
        Expr::Not(inner) => 1.0 - selectivity(inner, lookup),
        Expr::IsNull(_) => 0.05,
        Expr::IsNotNull(_) => 0.95,
        _ => UNKNOWN,
    }
}

/// The fraction `a = b` keeps: one value of the column's distinct values.
fn equal_fraction(left: &Expr, right: &Expr, distinct_of: &dyn Fn(&Expr) -> Option<f64>) -> f64 {
    let literal = |e: &Expr| matches!(e, Expr::Literal(..));
    if literal(right) || literal(left) {
        let column = if literal(right) { left } else { right };
        return distinct_of(column).map_or(EQUAL, |d| 1.0 / d.max(1.0));
    }
    EQUAL
}
