//! `join(left, right, …)`: equi-joins on keys, and the cross join, with Polars' output
//! columns.
//!
//! Polars' rules, which corepy follows: the output holds the left frame's columns, then the
//! right frame's; a right-side name that clashes with a left-side one gets `suffix`. Where
//! the join *coalesces* its keys (by default inner, left and right joins do; full joins do
//! not), one key column stands for both sides: the left key for inner and left joins, the
//! right key for right joins (the left key is dropped), `coalesce(left, right)` for a full
//! join asked to coalesce. Semi and anti joins return the left columns only.
//!
//! Both sides are planned under internal aliases, so that a frame can be joined with itself
//! and same-named columns never collide inside DataFusion's plan.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, NullEquality, TableReference};
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::{
    Expr, Join, JoinConstraint, JoinType, LogicalPlan, LogicalPlanBuilder,
};

use crate::error::{CorepyError, Result};
use crate::expr::{check_type, describe, is_aggregate};

use super::{column_names, polars_meaning};

const LEFT: &str = "__corepy_left";
const RIGHT: &str = "__corepy_right";

/// The kinds of join, by Polars' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Inner,
    Left,
    Right,
    Full,
    Semi,
    Anti,
    Cross,
}

impl How {
    pub fn parse(name: &str) -> Result<How> {
        Ok(match name {
            "inner" => How::Inner,
            "left" => How::Left,
            "right" => How::Right,
            "full" | "outer" => How::Full,
            "semi" => How::Semi,
            "anti" => How::Anti,
            "cross" => How::Cross,
            other => {
                return Err(CorepyError::invalid_argument(format!(
                    "unknown join type how='{other}'; use one of inner, left, right, full, \
                     semi, anti, cross"
                )))
            }
        })
    }

    fn join_type(self) -> JoinType {
        match self {
            How::Inner | How::Cross => JoinType::Inner,
            How::Left => JoinType::Left,
            How::Right => JoinType::Right,
            How::Full => JoinType::Full,
            How::Semi => JoinType::LeftSemi,
            How::Anti => JoinType::LeftAnti,
        }
    }

    /// Polars' default for `coalesce=None`.
    fn coalesces_by_default(self) -> bool {
        !matches!(self, How::Full)
    }
}

/// What to join on and how.
#[derive(Debug, Clone)]
pub struct JoinSpec {
    pub how: How,
    pub left_on: Vec<Expr>,
    pub right_on: Vec<Expr>,
    pub suffix: String,
    /// `None`: Polars' default for the join type.
    pub coalesce: Option<bool>,
    /// Whether NULL keys match each other (SQL and Polars: they do not).
    pub nulls_equal: bool,
}

pub fn join(left: LogicalPlan, right: LogicalPlan, spec: JoinSpec) -> Result<LogicalPlan> {
    let spec = JoinSpec {
        left_on: divided(spec.left_on, &left)?,
        right_on: divided(spec.right_on, &right)?,
        ..spec
    };
    check_keys(&left, &right, &spec)?;
    let left = LogicalPlanBuilder::from(left).alias(LEFT)?.build()?;
    let right = LogicalPlanBuilder::from(right).alias(RIGHT)?.build()?;
    let left_keys = qualify(&spec.left_on, LEFT)?;
    let right_keys = qualify(&spec.right_on, RIGHT)?;
    let outputs = output_columns(&left, &right, &spec);
    let null_equality = if spec.nulls_equal {
        NullEquality::NullEqualsNull
    } else {
        NullEquality::NullEqualsNothing
    };
    let on = left_keys.into_iter().zip(right_keys).collect();
    let joined = Join::try_new(
        Arc::new(left),
        Arc::new(right),
        on,
        None,
        spec.how.join_type(),
        JoinConstraint::On,
        null_equality,
        false,
    )?;
    Ok(LogicalPlanBuilder::from(LogicalPlan::Join(joined))
        .project(outputs)?
        .build()?)
}

fn divided(keys: Vec<Expr>, side: &LogicalPlan) -> Result<Vec<Expr>> {
    keys.into_iter()
        .map(|k| polars_meaning(k, side.schema()))
        .collect()
}

/// Keys exist on their side, are row-wise, pair up, and can be compared.
fn check_keys(left: &LogicalPlan, right: &LogicalPlan, spec: &JoinSpec) -> Result<()> {
    if spec.how == How::Cross {
        if !spec.left_on.is_empty() || !spec.right_on.is_empty() {
            return Err(CorepyError::invalid_argument(
                "a cross join takes no keys; drop on=/left_on=/right_on=",
            ));
        }
        return Ok(());
    }
    if spec.left_on.is_empty() {
        return Err(CorepyError::invalid_argument(
            format!(
                "a {:?} join needs keys: give on= or left_on= and right_on=",
                spec.how
            )
            .to_lowercase(),
        ));
    }
    if spec.left_on.len() != spec.right_on.len() {
        return Err(CorepyError::invalid_argument(format!(
            "left_on has {} keys but right_on has {}; give as many on each side",
            spec.left_on.len(),
            spec.right_on.len()
        )));
    }
    for (l, r) in spec.left_on.iter().zip(&spec.right_on) {
        let lt = key_type(l, left)?;
        let rt = key_type(r, right)?;
        if !comparable(&lt, &rt) {
            return Err(CorepyError::schema(format!(
                "join keys cannot be compared: `{}` ({lt}) on the left with `{}` ({rt}) on the \
                 right; cast one of them",
                describe(l),
                describe(r)
            )));
        }
    }
    Ok(())
}

/// Whether keys of these types can be joined: types of one kind (numbers, strings, binary,
/// booleans, dates and times) that DataFusion can compare. Unlike a SQL comparison, a
/// string never matches a number (DataFusion would cast one to the other; Polars refuses).
pub(super) fn comparable(left: &DataType, right: &DataType) -> bool {
    fn kind(t: &DataType) -> u8 {
        match t {
            DataType::Dictionary(_, value) => kind(value),
            t if t.is_numeric() => 1,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => 2,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => 3,
            DataType::FixedSizeBinary(_) => 3,
            DataType::Boolean => 4,
            t if t.is_temporal() => 5,
            DataType::Null => 0,
            _ => 6,
        }
    }
    let (l, r) = (kind(left), kind(right));
    (l == 0 || r == 0 || l == r) && comparison_coercion(left, right).is_some()
}

/// The key's type on its side; an unknown column is reported with that side's columns.
fn key_type(key: &Expr, side: &LogicalPlan) -> Result<DataType> {
    if is_aggregate(key) {
        return Err(CorepyError::invalid_argument(format!(
            "join key `{}` is an aggregation",
            describe(key)
        )));
    }
    check_type(key, side.schema())
}

/// The keys with their columns qualified by `alias`, the side they belong to.
fn qualify(keys: &[Expr], alias: &str) -> Result<Vec<Expr>> {
    keys.iter()
        .map(|k| {
            let qualified = k.clone().transform(|node| match node {
                Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new(
                    Some(TableReference::bare(alias)),
                    c.name,
                )))),
                other => Ok(Transformed::no(other)),
            })?;
            Ok(qualified.data)
        })
        .collect()
}

/// The projection over the join that gives Polars' columns and names.
fn output_columns(left: &LogicalPlan, right: &LogicalPlan, spec: &JoinSpec) -> Vec<Expr> {
    let column = |alias: &str, name: &str| {
        Expr::Column(Column::new(Some(TableReference::bare(alias)), name))
    };
    let (left_names, right_names) = (column_names(left), column_names(right));
    if matches!(spec.how, How::Semi | How::Anti) {
        return left_names.iter().map(|n| column(LEFT, n)).collect();
    }
    let coalesce_keys =
        spec.how != How::Cross && spec.coalesce.unwrap_or(spec.how.coalesces_by_default());
    // Keys that are plain columns on both sides are the ones that coalesce.
    let pairs: Vec<(String, String)> = if coalesce_keys {
        spec.left_on
            .iter()
            .zip(&spec.right_on)
            .filter_map(|(l, r)| match (l, r) {
                (Expr::Column(l), Expr::Column(r)) => Some((l.name.clone(), r.name.clone())),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let dropped_left: HashSet<&str> = if spec.how == How::Right {
        pairs.iter().map(|(l, _)| l.as_str()).collect()
    } else {
        HashSet::new()
    };
    let dropped_right: HashSet<&str> = if spec.how == How::Right {
        HashSet::new()
    } else {
        pairs.iter().map(|(_, r)| r.as_str()).collect()
    };
    let mut outputs = Vec::new();
    let mut taken = HashSet::new();
    for name in left_names
        .iter()
        .filter(|n| !dropped_left.contains(n.as_str()))
    {
        let value = match pairs.iter().find(|(l, _)| l == name) {
            Some((l, r)) if spec.how == How::Full => {
                coalesce(vec![column(LEFT, l), column(RIGHT, r)])
            }
            _ => column(LEFT, name),
        };
        outputs.push(value.alias(name));
        taken.insert(name.clone());
    }
    for name in right_names
        .iter()
        .filter(|n| !dropped_right.contains(n.as_str()))
    {
        let out = if taken.contains(name) {
            format!("{name}{}", spec.suffix)
        } else {
            name.clone()
        };
        outputs.push(column(RIGHT, name).alias(out.clone()));
        taken.insert(out);
    }
    outputs
}
