//! The outer side of a correlated subquery when it joins more than the subquery's relation
//! and one partner: TPC-H q2 joins `part, supplier, partsupp, nation, region` and compares
//! each row with the minimum cost over `partsupp, supplier, nation, region` for its part.
//! The tables the subquery reads are spread over the outer join tree in the order the query
//! names them, so no join of the tree is "the subquery's relation ⋈ its partner"; the join
//! region, flattened, still is.
//!
//! Why the rows per key are the same as with a binary join: a region's rows are those of
//! the product of its leaves that meet its conditions, in any order. The leaves split in
//! two: `M`, each the same rows as one leaf of the subquery's relation `T` (`same_rows`,
//! one match each), and the partner `P`, the rest (at least one). The conditions among
//! `M`'s leaves must be exactly `T`'s (the same classes of equal columns, no other
//! conditions anywhere), and exactly one class spans `M` and `P`, holding the subquery's
//! group column `g`. So the region is `T ⋈ P` on `g` equal to each member of that class,
//! and the rows with `g = k` are each of `T`'s rows with `g = k` paired with each of `P`'s
//! rows that meet `P`'s conditions with key `k` — the shape `correlated_as_window.rs`
//! proves its rewrite for.

use std::collections::BTreeSet;

use datafusion::common::Column;
use datafusion::logical_expr::LogicalPlan;

use super::correlated_as_window::without_key_set_on;
use super::same_rows::{same_rows, skip_picks};
use crate::join_order::region::{classes, Region};

/// The columns equal to `group` on every row of `outer` (the class that joins the
/// subquery's relation to its partner, `group` first), when `outer` is `relation` joined
/// with a partner on that class alone; `None` otherwise.
pub(super) fn partner_keys(
    outer: &LogicalPlan,
    relation: &LogicalPlan,
    group: &Column,
) -> Option<Vec<Column>> {
    let region = Region::of(outer)?;
    let outer_classes = classes(&region)?;
    let (relation_leaves, relation_classes) = flattened(relation, group)?;
    if !region.residuals.is_empty() {
        return None;
    }
    let inside = matched_leaves(&region.leaves, &relation_leaves)?;
    if inside.iter().all(|&m| m) {
        return None;
    }
    let mut conditions_inside = BTreeSet::new();
    let mut spanning = None;
    for class in &outer_classes {
        let columns_inside: BTreeSet<Column> = class
            .iter()
            .filter(|(leaf, _)| inside[*leaf])
            .map(|(_, column)| column.clone())
            .collect();
        let spans = !columns_inside.is_empty() && columns_inside.len() < class.len();
        if spans {
            if spanning.is_some() || !columns_inside.contains(group) {
                return None;
            }
            let mut keys = vec![group.clone()];
            keys.extend(class.iter().map(|(_, c)| c.clone()).filter(|c| c != group));
            spanning = Some(keys);
        }
        if columns_inside.len() >= 2 {
            conditions_inside.insert(columns_inside);
        }
    }
    (conditions_inside == relation_classes).then_some(spanning?)
}

/// A relation's leaves and its classes of equal columns: a region's, or the relation as
/// one leaf with none. `None` for a region with other conditions than equalities. A leaf
/// restricted by `PushJoinKeysIntoAggregate` to the outer query's keys on `group` (or a
/// column equal to it) is taken without the restriction, which only drops groups the
/// outer rows cannot have (see `without_key_set`).
fn flattened(
    relation: &LogicalPlan,
    group: &Column,
) -> Option<(Vec<LogicalPlan>, BTreeSet<BTreeSet<Column>>)> {
    let below = skip_picks(relation);
    let Some(region) = Region::of(below) else {
        return Some((vec![below.clone()], BTreeSet::new()));
    };
    if !region.residuals.is_empty() {
        return None;
    }
    let classes: BTreeSet<BTreeSet<Column>> = classes(&region)?
        .into_iter()
        .map(|class| class.into_iter().map(|(_, column)| column).collect())
        .collect();
    let equal_to_group = classes
        .iter()
        .find(|class| class.contains(group))
        .cloned()
        .unwrap_or_else(|| BTreeSet::from([group.clone()]));
    let leaves = region
        .leaves
        .iter()
        .map(|leaf| without_key_set_on(leaf, &equal_to_group).clone())
        .collect();
    Some((leaves, classes))
}

/// Which of `outer`'s leaves match a leaf of the relation (each relation leaf exactly one
/// outer leaf, no outer leaf twice), or `None` where the match is missing or ambiguous.
fn matched_leaves(outer: &[LogicalPlan], relation: &[LogicalPlan]) -> Option<Vec<bool>> {
    let mut inside = vec![false; outer.len()];
    for leaf in relation {
        let mut candidates = (0..outer.len()).filter(|&i| same_rows(&outer[i], leaf));
        let found = candidates.next()?;
        if candidates.next().is_some() || inside[found] {
            return None;
        }
        inside[found] = true;
    }
    Some(inside)
}
