//! corepy's planner: builds DataFusion logical plans for the lazy API and owns corepy's
//! optimizer rules.
//!
//! Nothing here executes a query; `engine` does. The pieces, in the order a lazy query meets
//! them:
//!
//! * [`dtype`] — data type names (`"int64"`, `"utf8"`, …) as users write them;
//! * [`expr`] — expression construction with eager type checks;
//! * [`naming`] — the output name of an expression (Polars' rule: the left-most column);
//! * [`frame`] — frame operations (`select`, `filter`, `group_by`, …) as plan builders;
//! * [`window`] — `over()` and the order-dependent functions as window functions;
//! * [`fusion`] — the fusion rule, its `FusedStage` node and the lowering to kernel IR;
//! * [`raise_error`] — `raise_error(message)`, a guarded failure that names bad data;
//! * [`aggregates`] — DataFusion aggregates with faster grouped accumulators (`corr`);
//! * [`checked`] — integer overflow as an error: checked `+ − ×`, negation and `sum`;
//! * [`dml`] — `DELETE` and `UPDATE` sealed during analysis, so no rewrite changes them;
//! * [`scalar_subquery`] — a scalar subquery over the relation it filters as a window;
//! * [`exists_in_one_pass`] — `EXISTS`/`NOT EXISTS` subqueries over one table, answered
//!   by one grouped pass of least and greatest values;
//! * [`semi_join`] — semi-join reduction: unnested subqueries restricted to the outer
//!   query's keys, small semi joins moved below inner joins;
//! * [`top_per_group`] — a filter on a `row_number()` window as a top-`k` per group;
//! * [`tensor`] — the lazy tensor graph, lowered to the same kernel IR as fused stages;
//! * [`memory`] — where tensors' and fused stages' large buffers come from: huge pages,
//!   and a pool of freed ones;
//! * [`rules`] — corepy's analyzer and optimizer rules, run after DataFusion's own;
//! * [`error`] — the error taxonomy that every layer above reports through.

pub mod aggregates;
pub mod checked;
pub mod dml;
pub mod dtype;
pub mod eager_aggregate;
pub mod error;
pub mod exists_in_one_pass;
pub mod expr;
pub mod frame;
pub mod fusion;
pub mod join_order;
pub mod memory;
pub mod naming;
pub mod options;
pub mod raise_error;
pub mod rules;
pub mod scalar;
pub mod scalar_subquery;
pub mod semi_join;
pub mod shown_sql;
pub mod suggest;
pub mod tensor;
pub mod top_per_group;
pub mod window;

pub use error::{CorepyError, Result};
