//! One key in an array, the others as a filter: a hash join on several keys whose build
//! side is one table for all partitions looks up a single integer key — one whose values
//! fill enough of their range to be an array's index (DataFusion's perfect hash join) —
//! and checks the other keys' equality as part of its join filter.
//!
//! TPC-H q9 joins 60 M lines with the 435 K `partsupp` rows of green parts on
//! `(partkey, suppkey)`. Hashed on both keys, every line hashes two columns and misses the
//! cache in a 435 K-row table: 1.7 s of the query's 3.2 s at SF10. The part keys alone fill
//! a fifth of their range; as an array of 2 M entries (8 MB) they answer most lines with one
//! lookup that misses nothing, and the few lines of a green part compare the supplier of
//! each of its four rows (the whole query: 1.5–1.8 → 1.1 s).
//!
//! Why the answer cannot change: an equi-join on `(a, b)` pairs the rows where `a = a'`
//! and `b = b'`, both not NULL (`NullEqualsNothing`; a join where NULLs match is left as
//! planned). Looked up on `a` and filtered by `b = b'` — NULL on a NULL key, which a join
//! filter takes as false — it pairs the same rows, whatever the join type: a join filter
//! is part of the match, as the key is. Only collected joins change: a partitioned one's
//! inputs are hash-partitioned on all its keys.
//!
//! Which key: an integer column on both sides, the build side's statistics giving its
//! least and greatest values, and the estimated rows between [`PERFECT_HASH_DENSITY`] and
//! [`MAX_ROWS_PER_KEY`] per value of the range, so that the array is likely and each
//! lookup finds few rows; of those, the widest range. Estimates can be wrong: a build side
//! whose keys turn out sparse is hashed on the one key (as cheap as two), and a key that
//! turns out to repeat much more costs its filter checks, never a different answer.
//! `SET corepy.single_array_key = false` turns the rule off.
//!
//! [`PERFECT_HASH_DENSITY`]: crate::session::PERFECT_HASH_DENSITY

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{JoinSide, NullEquality, Result};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::{BinaryExpr, Column};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::joins::utils::{ColumnIndex, JoinFilter};
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};
use datafusion::physical_plan::ExecutionPlan;

use crate::build_side::{key_range, ARRAY_KEYS};
use crate::late_materialization::CorepyOptions;

/// The most build rows a kept key may be estimated to have per value of its range.
pub const MAX_ROWS_PER_KEY: f64 = 8.0;

#[derive(Debug, Default)]
pub struct SingleArrayKey;

impl PhysicalOptimizerRule for SingleArrayKey {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !CorepyOptions::of(config).single_array_key {
            return Ok(plan);
        }
        let density = config.execution.perfect_hash_join_min_key_density;
        plan.transform_up(|node| one_key(node, density)).data()
    }

    fn name(&self) -> &str {
        "corepy_single_array_key"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn one_key(
    node: Arc<dyn ExecutionPlan>,
    density: f64,
) -> Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(join) = node.downcast_ref::<HashJoinExec>() else {
        return Ok(Transformed::no(node));
    };
    let planned = *join.partition_mode() == PartitionMode::CollectLeft
        && join.on().len() > 1
        && join.null_equality() == NullEquality::NullEqualsNothing
        && !join.null_aware;
    if !planned {
        return Ok(Transformed::no(node));
    }
    let Some(kept) = array_key(join, density)? else {
        return Ok(Transformed::no(node));
    };
    let Some(filter) = keys_as_filter(join, kept)? else {
        return Ok(Transformed::no(node));
    };
    let on = vec![join.on()[kept].clone()];
    let narrowed = join
        .builder()
        .with_on(on)
        .with_filter(Some(filter))
        .build()?;
    Ok(Transformed::yes(Arc::new(narrowed)))
}

/// The key to look up in an array (see the module's notes), if one qualifies.
fn array_key(join: &HashJoinExec, density: f64) -> Result<Option<usize>> {
    let build = join.left();
    let stats = StatisticsContext::new().compute(build.as_ref(), &StatisticsArgs::new())?;
    let rows = match stats.num_rows {
        Precision::Exact(rows) | Precision::Inexact(rows) => rows as f64,
        Precision::Absent => return Ok(None),
    };
    let (build_schema, probe_schema) = (build.schema(), join.right().schema());
    let mut best: Option<(usize, i128)> = None;
    for (i, (build_key, probe_key)) in join.on().iter().enumerate() {
        let (Some(build_key), Some(probe_key)) = (
            build_key.downcast_ref::<Column>(),
            probe_key.downcast_ref::<Column>(),
        ) else {
            continue;
        };
        let integers = build_schema
            .field(build_key.index())
            .data_type()
            .is_integer()
            && probe_schema
                .field(probe_key.index())
                .data_type()
                .is_integer();
        let Some(range) = key_range(&stats, build_key).filter(|_| integers) else {
            continue;
        };
        let per_value = rows / range as f64;
        let fits = range <= ARRAY_KEYS && per_value > density && per_value <= MAX_ROWS_PER_KEY;
        if fits && best.is_none_or(|(_, widest)| range > widest) {
            best = Some((i, range));
        }
    }
    Ok(best.map(|(i, _)| i))
}

/// The join's filter with the equality of every key but `kept` added to it (`AND`): the
/// key columns join the filter's intermediate columns. None where a key is not a column.
fn keys_as_filter(join: &HashJoinExec, kept: usize) -> Result<Option<JoinFilter>> {
    let (build_schema, probe_schema) = (join.left().schema(), join.right().schema());
    let (mut expression, mut indices, mut fields) = match join.filter() {
        Some(filter) => (
            Some(Arc::clone(filter.expression())),
            filter.column_indices().to_vec(),
            filter.schema().fields().iter().cloned().collect::<Vec<_>>(),
        ),
        None => (None, Vec::new(), Vec::new()),
    };
    for (i, (build_key, probe_key)) in join.on().iter().enumerate() {
        if i == kept {
            continue;
        }
        let (Some(build_key), Some(probe_key)) = (
            build_key.downcast_ref::<Column>(),
            probe_key.downcast_ref::<Column>(),
        ) else {
            return Ok(None);
        };
        let build_type = build_schema.field(build_key.index()).data_type();
        if build_type != probe_schema.field(probe_key.index()).data_type() {
            return Ok(None);
        }
        let mut side_column = |key: &Column, side: JoinSide, schema: &Schema| {
            let field: &Field = schema.field(key.index());
            let at = fields.len();
            fields.push(Arc::new(field.clone()));
            indices.push(ColumnIndex {
                index: key.index(),
                side,
            });
            Arc::new(Column::new(key.name(), at)) as Arc<dyn PhysicalExpr>
        };
        let left = side_column(build_key, JoinSide::Left, &build_schema);
        let right = side_column(probe_key, JoinSide::Right, &probe_schema);
        let equal: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(left, Operator::Eq, right));
        expression = Some(match expression {
            Some(before) => Arc::new(BinaryExpr::new(before, Operator::And, equal)),
            None => equal,
        });
    }
    let Some(expression) = expression else {
        return Ok(None);
    };
    let schema = Arc::new(Schema::new(fields));
    Ok(Some(JoinFilter::new(expression, indices, schema)))
}
