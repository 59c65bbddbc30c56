//! Whether two plans produce the same rows, perhaps with different columns: the test that a
//! subquery reads the very relation an outer query reads, after DataFusion's projection
//! pruning has given each copy only the columns it needs (TPC-H q11's subquery scans
//! `partsupp` without `ps_partkey`, which the outer query groups by).

use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};

/// True when `a` and `b` are the same plan up to which columns they carry: projections
/// that only pick columns are skipped on either side, two projections may compute
/// different sets of columns (those both have computed alike), and scans may read
/// different columns of the same table. Every other node must match exactly (the same predicate, join keys,
/// join type, alias), and its inputs in turn. A projection, filter or join names columns by
/// their qualified names, which mean the same in both plans since their sources are the
/// same.
pub(crate) fn same_rows(a: &LogicalPlan, b: &LogicalPlan) -> bool {
    let (a, b) = (skip_picks(a), skip_picks(b));
    match (a, b) {
        (LogicalPlan::TableScan(x), LogicalPlan::TableScan(y)) => {
            // The same table name is the same table within one query (DataFusion's own
            // plan equality compares scans so).
            x.table_name == y.table_name
                && x.source.schema() == y.source.schema()
                && x.filters == y.filters
                && x.fetch == y.fetch
        }
        (LogicalPlan::Filter(x), LogicalPlan::Filter(y)) => {
            x.predicate == y.predicate && same_rows(&x.input, &y.input)
        }
        (LogicalPlan::Join(x), LogicalPlan::Join(y)) => {
            x.on == y.on
                && x.filter == y.filter
                && x.join_type == y.join_type
                && x.null_equality == y.null_equality
                && x.null_aware == y.null_aware
                && same_rows(&x.left, &y.left)
                && same_rows(&x.right, &y.right)
        }
        (LogicalPlan::Projection(x), LogicalPlan::Projection(y)) => {
            agree_on_shared_columns(x, y) && same_rows(&x.input, &y.input)
        }
        (LogicalPlan::SubqueryAlias(x), LogicalPlan::SubqueryAlias(y)) => {
            x.alias == y.alias && same_rows(&x.input, &y.input)
        }
        _ => a == b,
    }
}

/// Whether every column the two projections both output is computed by the same
/// expression (a copy of a projection that DataFusion pruned to fewer columns).
fn agree_on_shared_columns(x: &Projection, y: &Projection) -> bool {
    let columns = |p: &Projection| -> Vec<(Column, Expr)> {
        p.schema
            .columns()
            .into_iter()
            .zip(p.expr.iter().map(|e| e.clone().unalias()))
            .collect()
    };
    let theirs = columns(y);
    columns(x).iter().all(|(column, expr)| {
        theirs
            .iter()
            .all(|(other, other_expr)| other != column || other_expr == expr)
    })
}

/// `plan` below any projections that only pick columns (no expressions, no renames).
pub(crate) fn skip_picks(mut plan: &LogicalPlan) -> &LogicalPlan {
    while let LogicalPlan::Projection(p) = plan {
        if !p.expr.iter().all(|e| matches!(e, Expr::Column(_))) {
            break;
        }
        plan = p.input.as_ref();
    }
    plan
}
