//! Late materialization: a Parquet scan under a hash join decodes its other columns only
//! for the rows whose join keys the join's build side holds.
//!
//! DataFusion hands the probe-side scan the join's *dynamic filter* (the build side's key
//! range and hash set, filled in once the build side is read). With Parquet filter pushdown
//! off — corepy's default, since as a row filter the static predicates of a scan such as
//! TPC-H Q6 run 3× slower than in the fused kernel — the scan uses it only to skip row
//! groups by their statistics. This rule turns row filtering on for exactly those scans,
//! with the key filters alone as the row filter: the reader decodes the key columns, keeps
//! the rows the build side may match, and decodes the other columns for those rows only
//! (TPC-H Q17 reads lineitem's quantity and price for the 0.1% of parts that qualify).
//!
//! The answer cannot change: a row the filter drops has a key the build side does not
//! hold, so the join would drop it too, and every operator above the scan still applies
//! its own predicate. Only filters whose inputs are plain columns are used (a hash join's
//! keys, a TopK's sort columns), so evaluating one on a row that a predicate above would
//! have removed cannot fail. The scan's static conjuncts (pushed down for pruning) follow
//! the key filters in the row filter: they still prune row groups, they run only on the
//! rows the keys kept, and each also stays in the operator above that planned it, so they
//! too only ever see rows that operator would have tested.
//!
//! **Off by default** (`SET corepy.late_materialization = true` turns it on for a session).
//! Measured on TPC-H SF1 (2 cores, 3 runs, same run as the rule off): q19 0.161 → 0.118 s,
//! q17 0.187 → 0.199 (noise), but q3 0.146 → 0.213, q5 0.212 → 0.310, q7 0.185 → 0.319,
//! q9 0.306 → 0.416, q13 0.161 → 0.257: a key filter that keeps most rows costs a second
//! decode of the key columns and a fragmented row selection. Choosing it per scan needs the
//! build side's selectivity, which the plan does not know before it runs.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::Result;
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::{FileScanConfigBuilder, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_expr::expressions::{Column, DynamicFilterPhysicalExpr};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_expr::{conjunction, split_conjunction, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

pub use corepy_planner::options::CorepyOptions;

#[derive(Debug, Default)]
pub struct LateMaterialization;

impl PhysicalOptimizerRule for LateMaterialization {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !CorepyOptions::of(config).late_materialization {
            return Ok(plan);
        }
        plan.transform_up(filter_rows_by_join_keys).data()
    }

    fn name(&self) -> &str {
        "corepy_late_materialization"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn filter_rows_by_join_keys(
    node: Arc<dyn ExecutionPlan>,
) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(scan) = node.downcast_ref::<DataSourceExec>() else {
        return Ok(Transformed::no(node));
    };
    let Some((config, parquet)) = scan.downcast_to_file_source::<ParquetSource>() else {
        return Ok(Transformed::no(node));
    };
    // A scan that already filters rows (the user turned pushdown on) is left as it is.
    if parquet.table_parquet_options().global.pushdown_filters {
        return Ok(Transformed::no(node));
    }
    let Some(predicate) = parquet.filter() else {
        return Ok(Transformed::no(node));
    };
    let file_columns = parquet.table_schema().schema_without_virtual_columns();
    let in_file = |name: &str| file_columns.index_of(name).is_ok();
    let conjuncts = split_conjunction(&predicate);
    let (keys, others): (Vec<_>, Vec<_>) = conjuncts
        .into_iter()
        .partition(|conjunct| is_key_filter(conjunct, in_file));
    if keys.is_empty() {
        return Ok(Transformed::no(node));
    }
    // The key filters first: the reader tests each conjunct only on the rows that passed
    // the ones before it. The others (which also prune row groups by their statistics)
    // then run on the few rows left; a conjunct that names a virtual column cannot be
    // part of a row filter and is dropped (its operator above still applies it).
    let row_filter = keys
        .into_iter()
        .chain(others.into_iter().filter(|c| reads_only(c, in_file)))
        .cloned();
    let source = parquet
        .with_predicate(conjunction(row_filter))
        .with_pushdown_filters(true);
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(Arc::new(source))
        .build();
    Ok(Transformed::yes(Arc::new(
        scan.clone().with_data_source(Arc::new(config)),
    )))
}

/// Whether every column `expr` names is one of the file's own (not a virtual column, which
/// a row filter cannot read).
fn reads_only(expr: &Arc<dyn PhysicalExpr>, in_file: impl Fn(&str) -> bool) -> bool {
    collect_columns(expr).iter().all(|c| in_file(c.name()))
}

/// A dynamic filter over plain columns of the file.
fn is_key_filter(conjunct: &Arc<dyn PhysicalExpr>, in_file: impl Fn(&str) -> bool) -> bool {
    let Some(filter) = conjunct.downcast_ref::<DynamicFilterPhysicalExpr>() else {
        return false;
    };
    let children = filter.children();
    !children.is_empty()
        && children.iter().all(|child| {
            child
                .downcast_ref::<Column>()
                .is_some_and(|column| in_file(column.name()))
        })
}
