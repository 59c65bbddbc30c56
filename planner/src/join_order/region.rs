//! A join region: a tree of inner equi-joins seen as what it is — a set of inputs
//! (leaves), the column equalities between them, and the other join conditions — and
//! built again in another shape.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::top_per_group::cannot_fail;

use datafusion::common::{plan_err, Column, DFSchemaRef, NullEquality, Result};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    Expr, Filter, Join, JoinConstraint, JoinType, LogicalPlan, Projection,
};

/// A join tree over leaves numbered in the order the plan names them.
#[derive(Debug, Clone, PartialEq)]
pub enum Tree {
    Leaf(usize),
    Join(Box<Tree>, Box<Tree>),
}

impl Tree {
    /// The leaves under this tree, as bits.
    pub fn mask(&self) -> u64 {
        match self {
            Tree::Leaf(i) => 1 << i,
            Tree::Join(a, b) => a.mask() | b.mask(),
        }
    }

    /// Whether two trees join the same sets of leaves at every step (the sides of a join
    /// may be swapped: the physical planner picks the build side anyway).
    pub fn same_shape(&self, other: &Tree) -> bool {
        match (self, other) {
            (Tree::Leaf(a), Tree::Leaf(b)) => a == b,
            (Tree::Join(a1, b1), Tree::Join(a2, b2)) => {
                (a1.same_shape(a2) && b1.same_shape(b2)) || (a1.same_shape(b2) && b1.same_shape(a2))
            }
            _ => false,
        }
    }
}

/// The inner equi-joins under a region's root, flattened.
#[derive(Debug, Clone)]
pub struct Region {
    pub leaves: Vec<LogicalPlan>,
    /// `a = b` between columns of the leaves (each side owned by exactly one leaf).
    pub equalities: Vec<(Column, Column)>,
    /// The joins' other conditions.
    pub residuals: Vec<Expr>,
    /// The shape the plan has now.
    pub shape: Tree,
    /// The root's output, which the rebuilt region must give column for column.
    pub schema: DFSchemaRef,
}

/// A join that belongs to a region: inner, `NULL` equal to nothing, every key a column,
/// any other condition one that cannot fail.
pub fn region_join(plan: &LogicalPlan) -> Option<&Join> {
    let LogicalPlan::Join(join) = plan else {
        return None;
    };
    let columns_only = join
        .on
        .iter()
        .all(|(l, r)| matches!((l, r), (Expr::Column(_), Expr::Column(_))));
    let plain = join.join_type == JoinType::Inner
        && join.null_equality == NullEquality::NullEqualsNothing
        && join.join_constraint == JoinConstraint::On
        && !join.null_aware
        && columns_only
        // A condition that may fail (`a / b > 1`) stays on the join that holds it: moved
        // to another, it would meet other rows and could raise where the query did not.
        && join.filter.as_ref().is_none_or(|f| cannot_fail(f, &|_| false));
    plain.then_some(join)
}

/// A region member under a projection that only selects columns (DataFusion puts such
/// projections between joins; the rebuilt region selects its root's columns once, and
/// DataFusion's projection pushdown narrows the joins again).
fn member(plan: &LogicalPlan) -> Option<&Join> {
    match plan {
        LogicalPlan::Projection(Projection { expr, input, .. })
            if expr.iter().all(|e| matches!(e, Expr::Column(_))) =>
        {
            region_join(input)
        }
        _ => region_join(plan),
    }
}

impl Region {
    /// The region whose root is `plan`, if `plan` is a region join.
    pub fn of(plan: &LogicalPlan) -> Option<Region> {
        region_join(plan)?;
        let mut region = Region {
            leaves: Vec::new(),
            equalities: Vec::new(),
            residuals: Vec::new(),
            shape: Tree::Leaf(0),
            schema: Arc::clone(plan.schema()),
        };
        region.shape = region.collect(plan);
        Some(region)
    }

    fn collect(&mut self, plan: &LogicalPlan) -> Tree {
        match member(plan) {
            Some(join) => {
                let left = self.collect(&join.left);
                let right = self.collect(&join.right);
                for (l, r) in &join.on {
                    if let (Expr::Column(l), Expr::Column(r)) = (l, r) {
                        self.equalities.push((l.clone(), r.clone()));
                    }
                }
                self.residuals.extend(join.filter.iter().cloned());
                Tree::Join(Box::new(left), Box::new(right))
            }
            None => {
                self.leaves.push(plan.clone());
                Tree::Leaf(self.leaves.len() - 1)
            }
        }
    }

    /// The leaf that owns `column`, if exactly one does.
    pub fn owner(&self, column: &Column) -> Option<usize> {
        let mut owners =
            (0..self.leaves.len()).filter(|&i| self.leaves[i].schema().has_column(column));
        let first = owners.next()?;
        owners.next().is_none().then_some(first)
    }

    /// The leaves an expression's columns come from, as bits; `None` if a column has no
    /// single owner.
    pub fn owners(&self, expr: &Expr) -> Option<u64> {
        let mut mask = 0;
        for column in expr.column_refs() {
            mask |= 1 << self.owner(column)?;
        }
        Some(mask)
    }
}

/// Columns made equal by the region's equalities, grouped (`c_nationkey = s_nationkey`
/// and `s_nationkey = n_nationkey` make one class of three, so customers may meet nations
/// directly). Each member is a leaf and its column.
pub type Classes = Vec<Vec<(usize, Column)>>;

/// The equivalence classes of the region's equalities, or `None` when a column has no
/// single owner or two equal columns differ in type.
pub fn classes(region: &Region) -> Option<Classes> {
    let mut index: HashMap<Column, usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut members: Vec<(usize, Column)> = Vec::new();
    let mut id = |column: &Column, parent: &mut Vec<usize>| -> Option<usize> {
        if let Some(&i) = index.get(column) {
            return Some(i);
        }
        let leaf = region.owner(column)?;
        let i = members.len();
        members.push((leaf, column.clone()));
        parent.push(i);
        index.insert(column.clone(), i);
        Some(i)
    };
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (l, r) in &region.equalities {
        let same_type = region.schema_type(l)? == region.schema_type(r)?;
        if !same_type {
            return None;
        }
        let (a, b) = (id(l, &mut parent)?, id(r, &mut parent)?);
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut grouped: HashMap<usize, Vec<(usize, Column)>> = HashMap::new();
    let mut order = Vec::new();
    for (i, member) in members.into_iter().enumerate() {
        let r = root(&mut parent, i);
        if !grouped.contains_key(&r) {
            order.push(r);
        }
        grouped.entry(r).or_default().push(member);
    }
    Some(
        order
            .into_iter()
            .filter_map(|r| grouped.remove(&r))
            .collect(),
    )
}

impl Region {
    fn schema_type(&self, column: &Column) -> Option<datafusion::arrow::datatypes::DataType> {
        let leaf = &self.leaves[self.owner(column)?];
        let (_, field) = leaf.schema().qualified_field_from_column(column).ok()?;
        Some(field.data_type().clone())
    }

    /// The region built in the shape `tree`, with its root's columns in their order.
    ///
    /// Every input is narrowed to the columns that the joins above it and the root read
    /// (DataFusion's projection pushdown does not reach below corepy's fused stages).
    pub fn build(&self, tree: &Tree, classes: &Classes) -> Result<LogicalPlan> {
        let residual_masks = self
            .residuals
            .iter()
            .map(|r| self.owners(r))
            .collect::<Option<Vec<u64>>>();
        let Some(residual_masks) = residual_masks else {
            return plan_err!("a join condition reads a column of no single input");
        };
        let root: HashSet<Column> = self.schema.columns().into_iter().collect();
        let mut placed = vec![false; self.residuals.len()];
        let joined = self.build_tree(tree, classes, &residual_masks, &root, &mut placed)?;
        if placed.contains(&false) {
            return plan_err!("a join condition found no join to hold it");
        }
        let columns = self
            .schema
            .iter()
            .map(|(qualifier, field)| Expr::Column(Column::from((qualifier, field))))
            .collect();
        Ok(LogicalPlan::Projection(Projection::try_new(
            columns,
            Arc::new(joined),
        )?))
    }

    fn build_tree(
        &self,
        tree: &Tree,
        classes: &Classes,
        residual_masks: &[u64],
        required: &HashSet<Column>,
        placed: &mut [bool],
    ) -> Result<LogicalPlan> {
        let (left, right) = match tree {
            Tree::Leaf(i) => {
                let leaf = self.leaf_with_own_equalities(*i, classes)?;
                return narrow(leaf, required);
            }
            Tree::Join(left, right) => (left, right),
        };
        let (left_mask, right_mask) = (left.mask(), right.mask());
        let on: Vec<(Expr, Expr)> = classes
            .iter()
            .filter_map(|class| {
                let in_side = |mask: u64| class.iter().find(|(leaf, _)| mask & (1 << leaf) != 0);
                let (l, r) = (in_side(left_mask)?, in_side(right_mask)?);
                Some((Expr::Column(l.1.clone()), Expr::Column(r.1.clone())))
            })
            .collect();
        // A condition is held by the lowest join that sees all of its columns.
        let held_below =
            |side: &Tree, mask: u64| matches!(side, Tree::Join(..)) && mask & !side.mask() == 0;
        let mut filters = Vec::new();
        for (i, residual) in self.residuals.iter().enumerate() {
            let mask = residual_masks[i];
            let here = mask & !(left_mask | right_mask) == 0
                && !held_below(left, mask)
                && !held_below(right, mask);
            if here && !placed[i] {
                placed[i] = true;
                filters.push(residual.clone());
            }
        }
        let mut below = required.clone();
        for (l, r) in &on {
            below.extend(l.column_refs().into_iter().cloned());
            below.extend(r.column_refs().into_iter().cloned());
        }
        for filter in &filters {
            below.extend(filter.column_refs().into_iter().cloned());
        }
        let left_plan = self.build_tree(left, classes, residual_masks, &below, placed)?;
        let right_plan = self.build_tree(right, classes, residual_masks, &below, placed)?;
        let joined = LogicalPlan::Join(Join::try_new(
            Arc::new(left_plan),
            Arc::new(right_plan),
            on,
            conjunction(filters),
            JoinType::Inner,
            JoinConstraint::On,
            NullEquality::NullEqualsNothing,
            false,
        )?);
        narrow(joined, required)
    }

    /// A leaf, with a filter for the equalities between two of its own columns (a class
    /// with two members in one leaf; the joins equate only one member of each side).
    fn leaf_with_own_equalities(&self, leaf: usize, classes: &Classes) -> Result<LogicalPlan> {
        let plan = self.leaves[leaf].clone();
        let mut equal = Vec::new();
        for class in classes {
            let mut own = class.iter().filter(|(l, _)| *l == leaf);
            if let Some((_, first)) = own.next() {
                for (_, other) in own {
                    equal.push(Expr::Column(first.clone()).eq(Expr::Column(other.clone())));
                }
            }
        }
        match conjunction(equal) {
            Some(predicate) => Ok(LogicalPlan::Filter(Filter::try_new(
                predicate,
                Arc::new(plan),
            )?)),
            None => Ok(plan),
        }
    }
}

/// `plan` with only the columns in `required` (itself when it has no others).
fn narrow(plan: LogicalPlan, required: &HashSet<Column>) -> Result<LogicalPlan> {
    let columns: Vec<Column> = plan.schema().columns();
    let kept: Vec<Expr> = columns
        .iter()
        .filter(|c| required.contains(c))
        .map(|c| Expr::Column(c.clone()))
        .collect();
    if kept.len() == columns.len() || kept.is_empty() {
        return Ok(plan);
    }
    Ok(LogicalPlan::Projection(Projection::try_new(
        kept,
        Arc::new(plan),
    )?))
}
