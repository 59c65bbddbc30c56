//! `CorrelatedAggregateAsWindow`: a correlated subquery that aggregates, per key, the very
//! relation the outer query joins on that key — TPC-H q17's `l_quantity < (SELECT 0.2 *
//! avg(l_quantity) FROM lineitem WHERE l_partkey = p_partkey)` — is computed as a window
//! partitioned by the key over the outer join's rows, instead of aggregating the relation a
//! second time (WinMagic, Zuzarte et al., applied to a correlated subquery). DataFusion
//! unnests the subquery into a semi join with the aggregate; this undoes that second read.
//!
//! ```text
//! LeftSemi Join: o.k = s.g[, …] Filter: f(s.v)  Projection: <L's columns>
//!   L: [Projection: columns]                       Filter: f(v(__corepy_window_0))
//!     Inner Join: t.g = p.k                           WindowAggr: agg(a) PARTITION BY [t.g]
//!       <T>                                 =>          Inner Join: t.g = p.k
//!       <P>                                               <T>
//!   SubqueryAlias s: [Projection: v(agg), g]              <P>
//!     Aggregate: groupBy=[g], aggr=[agg(a)]
//!       <T again, maybe fewer columns or restricted to a key set>
//! ```
//!
//! Why the answer cannot change: the semi join keeps a row of `L` when the subquery's one
//! row for its key `k` (the aggregate has one row per group) passes the filter (an inner
//! join keeps the same rows, with that one row's columns, which are expressions of the
//! same aggregates and of `k`, and so of the windows); a row of
//! `L` has a non-NULL `k` (the inner join's equality never matches NULL), and `T` has rows
//! with `g = k` (the row came from one), so that group exists. The rows of `L` with key `k`
//! are every row of `T` with `g = k`, each paired with each of the `m ≥ 1` rows of `P`
//! with key `k` — the same rows, each `m` times. An average, a minimum or a maximum of a
//! multiset does not change when every element is repeated `m` times, so the window over
//! the rows of key `k` holds exactly the subquery's value for `k`, on each of those rows;
//! the filter then compares each row with the value it was compared with before. Sums and
//! counts do change with `m`, so only `avg`, `min` and `max` are taken; `T` must be the
//! subquery's relation itself (`same_rows`: the same scans, filters and joins), and the
//! inner join must have no other condition that could drop some of a key's rows.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    col, Aggregate, Expr, Join, JoinType, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::outer_region::partner_keys;
use super::same_rows::same_rows;
use crate::fusion::FusedStage;
use crate::semi_join::{on_join, KEYS_ALIAS};

/// Prefix of the window columns that hold the subquery's aggregates.
const WINDOW: &str = "__corepy_window_";

/// Aggregates whose value over a multiset is unchanged when every element is repeated.
const REPEAT_INSENSITIVE: &[&str] = &["avg", "min", "max"];

#[derive(Debug, Default)]
pub struct CorrelatedAggregateAsWindow;

impl OptimizerRule for CorrelatedAggregateAsWindow {
    fn name(&self) -> &str {
        "corepy_correlated_aggregate_as_window"
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
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        on_join(plan, as_window)
    }
}

/// The semi join as a filter over a window, or `None` where the shape is not the one above.
fn as_window(join: &Join) -> Result<Option<LogicalPlan>> {
    // An inner join with the subquery (one row per key) keeps the same rows as the semi
    // join, and adds the subquery's columns, which the windows give too.
    let semi = match join.join_type {
        JoinType::LeftSemi => true,
        JoinType::Inner => false,
        _ => return Ok(None),
    };
    if join.null_equality != NullEquality::NullEqualsNothing || join.null_aware {
        return Ok(None);
    }
    let Some(subquery) = Subquery::of(&join.right) else {
        return Ok(None);
    };
    let Some(outer) = OuterJoin::of(&join.left, &subquery.relation, &subquery.group) else {
        return Ok(None);
    };
    // One pair of keys is the outer join's key (either side) and the group column; the
    // others (`l_qty = (SELECT max(l_qty) …)`) are equalities the filter takes, NULL
    // matching nothing either way.
    let group = Expr::Column(subquery.group_output.clone());
    let mut correlated = false;
    let mut conditions: Vec<Expr> = join.filter.iter().cloned().collect();
    for (o, s) in &join.on {
        let is_key = matches!((o, s), (Expr::Column(o), Expr::Column(s))
            if outer.keys.contains(o) && subquery.columns.get(s) == Some(&group));
        correlated |= is_key;
        if !is_key {
            conditions.push(o.clone().eq(s.clone()));
        }
    }
    if !correlated {
        return Ok(None);
    }
    let input = outer.plan.clone();
    let schema = input.schema();
    let taken = |c: &Column| schema.has_column(c);
    let mut windows = Vec::with_capacity(subquery.aggregates.len());
    for (i, AggregateFunction { func, params }) in subquery.aggregates.iter().enumerate() {
        let name = format!("{WINDOW}{i}");
        if schema.has_column_with_unqualified_name(&name)
            || !params
                .args
                .iter()
                .all(|a| a.column_refs().into_iter().all(taken))
        {
            return Ok(None);
        }
        let mut window = WindowFunction::new(Arc::clone(func), params.args.clone());
        window.params.partition_by = vec![Expr::Column(outer.relation_key.clone())];
        windows.push(Expr::from(window).alias(name));
    }
    let predicate = match conjunction(conditions) {
        Some(condition) => match subquery.in_terms_of_windows(&condition, &outer.relation_key)? {
            Some(predicate) => Some(predicate),
            None => return Ok(None),
        },
        None => None,
    };
    let mut columns: Vec<Expr> = join.left.schema().columns().into_iter().map(col).collect();
    if !semi {
        for column in join.right.schema().columns() {
            let Some(value) =
                subquery.in_terms_of_windows(&Expr::Column(column.clone()), &outer.relation_key)?
            else {
                return Ok(None);
            };
            columns.push(value.alias_qualified(column.relation, column.name));
        }
    }
    let mut windowed = LogicalPlanBuilder::from(input).window(windows)?;
    if let Some(predicate) = predicate {
        windowed = windowed.filter(predicate)?;
    }
    windowed.project(columns)?.build().map(Some)
}

/// The subquery side: `SubqueryAlias: [Projection] Aggregate: groupBy=[g]` of plain
/// repeat-insensitive aggregates.
struct Subquery {
    /// Each output column of the alias, as an expression of the aggregate's outputs.
    columns: HashMap<Column, Expr>,
    /// The group column as the aggregate outputs it.
    group_output: Column,
    /// The group column of the aggregated relation.
    group: Column,
    /// The aggregate's output columns (after the group column), in order.
    aggregate_columns: Vec<Column>,
    aggregates: Vec<AggregateFunction>,
    /// The aggregated relation, without a key set a reduction put in.
    relation: LogicalPlan,
}

impl Subquery {
    fn of(plan: &LogicalPlan) -> Option<Self> {
        let LogicalPlan::SubqueryAlias(alias) = plan else {
            return None;
        };
        let (below, exprs) = match as_projection(&alias.input) {
            Some((input, exprs)) => (input, Some(exprs)),
            None => (alias.input.as_ref(), None),
        };
        let LogicalPlan::Aggregate(aggregate) = below else {
            return None;
        };
        let [Expr::Column(group)] = aggregate.group_expr.as_slice() else {
            return None;
        };
        let mut aggregates = plain_aggregates(aggregate)?;
        // The aggregate's arguments may be computed by a projection below it (the fusion
        // rules put them there): they are read through it, over its input.
        let (mut group, mut relation) = (group.clone(), aggregate.input.as_ref());
        if let Some((input, computed)) = as_projection(relation) {
            let defined: HashMap<Column, Expr> = relation
                .schema()
                .columns()
                .into_iter()
                .zip(computed)
                .collect();
            let Some(Expr::Column(below)) = defined.get(&group) else {
                return None;
            };
            group = below.clone();
            for function in &mut aggregates {
                for arg in &mut function.params.args {
                    *arg = substituted(arg.clone(), &defined)?;
                }
            }
            relation = input;
        }
        let outputs: Vec<Expr> = aggregate
            .schema
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        let exprs: Vec<Expr> = match exprs {
            Some(exprs) => exprs,
            None => outputs.clone(),
        };
        let columns = alias.schema.columns().into_iter().zip(exprs).collect();
        Some(Subquery {
            columns,
            group_output: Column::from(aggregate.schema.qualified_field(0)),
            group,
            aggregate_columns: outputs[1..]
                .iter()
                .filter_map(|e| e.try_as_col().cloned())
                .collect(),
            aggregates,
            relation: without_key_set(relation).clone(),
        })
    }

    /// The semi join's filter over the windowed outer rows: each subquery column replaced by
    /// its expression, the aggregates by their window columns and the group column by the
    /// outer relation's key (equal on every row the semi join matches).
    fn in_terms_of_windows(&self, filter: &Expr, key: &Column) -> Result<Option<Expr>> {
        let mut stray = false;
        let replaced = filter
            .clone()
            .transform_up(|e| {
                let Expr::Column(c) = &e else {
                    return Ok(Transformed::no(e));
                };
                let Some(expr) = self.columns.get(c) else {
                    return Ok(Transformed::no(e));
                };
                let over_windows = expr.clone().transform_up(|inner| {
                    let Expr::Column(c) = &inner else {
                        return Ok(Transformed::no(inner));
                    };
                    if *c == self.group_output {
                        return Ok(Transformed::yes(Expr::Column(key.clone())));
                    }
                    match self.aggregate_columns.iter().position(|a| a == c) {
                        Some(i) => Ok(Transformed::yes(col(format!("{WINDOW}{i}")))),
                        None => {
                            stray = true;
                            Ok(Transformed::no(inner))
                        }
                    }
                })?;
                Ok(Transformed::yes(over_windows.data))
            })?
            .data;
        Ok((!stray).then_some(replaced))
    }
}

/// A projection's input and expressions (unaliased, one per output column): a Projection,
/// or a fused stage without a filter.
fn as_projection(plan: &LogicalPlan) -> Option<(&LogicalPlan, Vec<Expr>)> {
    let (input, exprs) = match plan {
        LogicalPlan::Projection(p) => (p.input.as_ref(), &p.expr),
        LogicalPlan::Extension(_) => {
            let stage = FusedStage::of(plan)?;
            if stage.predicate.is_some() {
                return None;
            }
            (&stage.input, &stage.exprs)
        }
        _ => return None,
    };
    Some((input, exprs.iter().map(|e| e.clone().unalias()).collect()))
}

/// `expr` with each column replaced by its definition, or `None` where one has none.
fn substituted(expr: Expr, defined: &HashMap<Column, Expr>) -> Option<Expr> {
    let mut missing = false;
    let replaced = expr
        .transform_up(|e| {
            let Expr::Column(c) = &e else {
                return Ok(Transformed::no(e));
            };
            match defined.get(c) {
                Some(definition) => Ok(Transformed::yes(definition.clone())),
                None => {
                    missing = true;
                    Ok(Transformed::no(e))
                }
            }
        })
        .ok()?
        .data;
    (!missing).then_some(replaced)
}

/// The aggregates of a plain `avg`/`min`/`max` aggregation (no DISTINCT, FILTER or ORDER
/// BY), or `None`.
fn plain_aggregates(aggregate: &Aggregate) -> Option<Vec<AggregateFunction>> {
    let mut found = Vec::with_capacity(aggregate.aggr_expr.len());
    for expr in &aggregate.aggr_expr {
        let Expr::AggregateFunction(function) = expr.clone().unalias() else {
            return None;
        };
        let params = &function.params;
        let name = function.func.name().to_ascii_lowercase();
        if params.distinct
            || params.filter.is_some()
            || !params.order_by.is_empty()
            || !REPEAT_INSENSITIVE.contains(&name.as_str())
        {
            return None;
        }
        found.push(function);
    }
    (!found.is_empty()).then_some(found)
}

/// `plan` without the key-set semi join that `PushJoinKeysIntoAggregate` puts under an
/// aggregation (it only drops whole groups, none of which the outer rows can have).
fn without_key_set(plan: &LogicalPlan) -> &LogicalPlan {
    match plan {
        LogicalPlan::Join(j) if is_key_set(j) => j.left.as_ref(),
        other => other,
    }
}

/// `plan` without a key-set semi join on one of `columns` (the aggregation's group column
/// or columns equal to it), which drops only whole groups in turn.
pub(super) fn without_key_set_on<'a>(
    plan: &'a LogicalPlan,
    columns: &BTreeSet<Column>,
) -> &'a LogicalPlan {
    match plan {
        LogicalPlan::Join(j)
            if is_key_set(j)
                && matches!(j.on.as_slice(), [(Expr::Column(c), _)] if columns.contains(c)) =>
        {
            j.left.as_ref()
        }
        other => other,
    }
}

/// Whether `join` is a semi join with the outer query's keys that `PushJoinKeysIntoAggregate`
/// made.
fn is_key_set(join: &Join) -> bool {
    join.join_type == JoinType::LeftSemi
        && matches!(join.right.as_ref(), LogicalPlan::SubqueryAlias(a) if a.alias.table() == KEYS_ALIAS)
}

/// The outer side: `[Projection: columns] Inner Join: t.g = p.k` with `T` on one side, or
/// a join region that is `T` and a partner joined on `g` alone (`outer_region.rs`).
struct OuterJoin<'a> {
    /// The inner join.
    plan: &'a LogicalPlan,
    /// A column equal to `T`'s key (the subquery's group column) on every row, which the
    /// join outputs.
    relation_key: Column,
    /// The columns equal to `T`'s key on every row of the join, that key first.
    keys: Vec<Column>,
}

impl<'a> OuterJoin<'a> {
    fn of(plan: &'a LogicalPlan, relation: &LogicalPlan, group: &Column) -> Option<Self> {
        let below = match plan {
            LogicalPlan::Projection(p) if p.expr.iter().all(|e| matches!(e, Expr::Column(_))) => {
                p.input.as_ref()
            }
            other => other,
        };
        let keys = match Self::binary_keys(below, relation) {
            Some(keys) => (keys[0] == *group).then_some(keys)?,
            None => partner_keys(below, relation, group)?,
        };
        // Every key is equal on every row; the window partitions by one the join still
        // outputs (DataFusion drops a key's copies that no node above reads).
        let schema = below.schema();
        let relation_key = keys.iter().find(|k| schema.has_column(k))?.clone();
        Some(OuterJoin {
            plan: below,
            relation_key,
            keys,
        })
    }

    /// `[t.g, p.k]` when `plan` is `T ⋈ P` on `t.g = p.k` alone.
    fn binary_keys(plan: &LogicalPlan, relation: &LogicalPlan) -> Option<Vec<Column>> {
        let LogicalPlan::Join(join) = plan else {
            return None;
        };
        let [(Expr::Column(l), Expr::Column(r))] = join.on.as_slice() else {
            return None;
        };
        if join.join_type != JoinType::Inner
            || join.filter.is_some()
            || join.null_equality != NullEquality::NullEqualsNothing
        {
            return None;
        }
        if same_rows(&join.left, relation) {
            Some(vec![l.clone(), r.clone()])
        } else if same_rows(&join.right, relation) {
            Some(vec![r.clone(), l.clone()])
        } else {
            None
        }
    }
}
