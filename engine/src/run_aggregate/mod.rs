//! Partial aggregation by runs: where a partition's rows come clustered by the grouping
//! keys (a file sorted by them, as TPC-H's lines are by order key), each run of equal
//! keys becomes one partial state in a single pass, where a hash table would look up
//! every row in a table as large as the partition's groups.
//!
//! * `plan.rs` — which aggregations merge runs (their states merge alike in any order);
//! * `fold.rs` — a batch's runs and their states in DataFusion's partial format;
//! * `exec.rs` — `RunAggregateExec`: the probe that decides, the merging, the fallback;
//! * `rule.rs` — the physical rule that puts it in place of a partial `AggregateExec`.

mod exec;
mod fold;
mod plan;
mod rule;

pub use exec::{clustered, RunAggregateExec, PROBE_ROWS};
pub use plan::{plan_runs, RunFunc, RunPlan};
pub use rule::AggregateRuns;
