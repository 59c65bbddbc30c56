//! The cheapest join tree by dynamic programming over connected sets of leaves (as in
//! Moerkotte & Neumann's DPccp, in its simplest subset-enumerating form), with the sum of
//! the intermediate results' estimated rows as the cost (C_out). Bushy trees are allowed:
//! TPC-H q5's orders meet the Asian customers before the lines, not after.

use super::estimate::Estimate;
use super::region::Tree;

/// The most leaves a region may have to be ordered (3^12 subset pairs, a few ms).
pub const MAX_LEAVES: usize = 12;

/// Of a join condition other than a key equality.
const RESIDUAL: f64 = 0.5;

/// What the search knows: each leaf's estimate, and each class of equal columns as the
/// leaves it has members in, with the distinct values of the member there.
#[derive(Debug, Clone)]
pub struct Graph {
    pub leaves: Vec<Estimate>,
    pub classes: Vec<Vec<(usize, f64)>>,
    /// The leaves each other join condition reads, as bits.
    pub residuals: Vec<u64>,
}

impl Graph {
    /// Estimated rows of the join of the leaves in `mask`, whatever its shape: the
    /// product of the leaves' rows, divided for each class by all but the smallest of its
    /// members' distinct counts; and at least the rows of the largest leaf as reduced by
    /// the filters of the others (a join along foreign keys keeps each fact row whose
    /// partners passed their filters; without this, keys of two columns such as
    /// `(ps_partkey, ps_suppkey)` would be counted as independent and shrink to nothing).
    pub fn rows(&self, mask: u64) -> f64 {
        let inside = |i: &usize| mask & (1 << i) != 0;
        let mut product: f64 = self
            .leaves
            .iter()
            .enumerate()
            .filter(|(i, _)| inside(i))
            .map(|(_, e)| e.rows)
            .product();
        for class in &self.classes {
            let mut distinct: Vec<f64> = Vec::new();
            for leaf in (0..self.leaves.len()).filter(inside) {
                let most = class
                    .iter()
                    .filter(|(l, _)| *l == leaf)
                    .map(|(_, d)| d.min(self.leaves[leaf].rows).max(1.0))
                    .fold(None, |acc: Option<f64>, d| {
                        Some(acc.map_or(d, |a| a.max(d)))
                    });
                distinct.extend(most);
            }
            distinct.sort_by(|a, b| b.total_cmp(a));
            for d in distinct.iter().take(distinct.len().saturating_sub(1)) {
                product /= d;
            }
        }
        for residual in &self.residuals {
            if residual & !mask == 0 {
                product *= RESIDUAL;
            }
        }
        let kept = |i: usize| (self.leaves[i].rows / self.leaves[i].base).min(1.0);
        let facts = (0..self.leaves.len())
            .filter(inside)
            .map(|i| {
                let others: f64 = (0..self.leaves.len())
                    .filter(|&j| j != i && inside(&j))
                    .map(kept)
                    .product();
                self.leaves[i].rows * others
            })
            .fold(0.0, f64::max);
        product.max(facts).max(1.0)
    }

    /// Whether a class of equal columns has members on both sides.
    fn connected(&self, a: u64, b: u64) -> bool {
        self.classes.iter().any(|class| {
            class.iter().any(|(l, _)| a & (1 << l) != 0)
                && class.iter().any(|(l, _)| b & (1 << l) != 0)
        })
    }

    /// The cost of a tree: its joins' estimated rows, summed.
    pub fn cost(&self, tree: &Tree) -> f64 {
        match tree {
            Tree::Leaf(_) => 0.0,
            Tree::Join(a, b) => self.cost(a) + self.cost(b) + self.rows(tree.mask()),
        }
    }

    /// The cheapest tree joining every leaf with no cross product, or `None` when the
    /// leaves are not all connected by equalities.
    pub fn best(&self) -> Option<Tree> {
        let n = self.leaves.len();
        if n > MAX_LEAVES || n == 0 {
            return None;
        }
        let full = (1u64 << n) - 1;
        let mut best: Vec<Option<(f64, Tree)>> = vec![None; 1 << n];
        for i in 0..n {
            best[1 << i] = Some((0.0, Tree::Leaf(i)));
        }
        for mask in 1..=full {
            if mask.count_ones() < 2 {
                continue;
            }
            let lowest = mask & mask.wrapping_neg();
            let rows = self.rows(mask);
            let mut found: Option<(f64, Tree)> = None;
            // Each split once: the part holding the lowest leaf, and the rest.
            let mut part = (mask - 1) & mask;
            while part != 0 {
                if part & lowest != 0 {
                    let rest = mask ^ part;
                    if let (Some((ca, ta)), Some((cb, tb))) =
                        (&best[part as usize], &best[rest as usize])
                    {
                        let cost = ca + cb + rows;
                        if self.connected(part, rest)
                            && found.as_ref().is_none_or(|(c, _)| cost < *c)
                        {
                            found = Some((cost, self.oriented(ta, tb)));
                        }
                    }
                }
                part = (part - 1) & mask;
            }
            best[mask as usize] = found;
        }
        best[full as usize].take().map(|(_, tree)| tree)
    }

    /// A join of two trees with the smaller (the build side) first.
    fn oriented(&self, a: &Tree, b: &Tree) -> Tree {
        let (a, b) = if self.rows(a.mask()) <= self.rows(b.mask()) {
            (a, b)
        } else {
            (b, a)
        };
        Tree::Join(Box::new(a.clone()), Box::new(b.clone()))
    }
}
