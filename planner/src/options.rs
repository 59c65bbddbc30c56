//! corepy's own session settings (`SET corepy.<name> = <value>`), read by its logical
//! rules here and by its physical rules in the engine.

use datafusion::common::config::ConfigExtension;
use datafusion::common::extensions_options;
use datafusion::config::ConfigOptions;

extensions_options! {
    /// corepy's own session settings (`SET corepy.<name> = <value>`).
    pub struct CorepyOptions {
        /// Parquet scans under a hash join filter their rows by the join's keys before
        /// decoding their other columns (see `late_materialization.rs`; off by default).
        pub late_materialization: bool, default = false
        /// A hash join builds on the side with far fewer estimated rows (see
        /// `build_side.rs`; on by default).
        pub build_side_by_rows: bool, default = true
        /// Inner joins run in the order estimated cheapest (see `join_order/`; on by
        /// default; `datafusion.optimizer.join_reordering = false` turns it off too).
        pub join_order: bool, default = true
        /// An aggregation over joins sums first below the tables that only add its group
        /// columns (see `eager_aggregate/`; on by default).
        pub eager_aggregate: bool, default = true
        /// A partial aggregation whose input comes in runs of equal keys (a file sorted
        /// or clustered by them) merges each run instead of hashing every row (see
        /// `run_aggregate/`; on by default).
        pub aggregate_runs: bool, default = true
        /// A partial aggregation folded into a kernel, grouped by one integer column of a
        /// narrow known range, folds into a table laid out by key (see
        /// `jit/aggregate/dense.rs`; on by default).
        pub dense_groups: bool, default = true
        /// A collected hash join on several keys looks up one integer key, whose values
        /// fill their range, in an array and checks the others as a filter (see
        /// `single_array_key.rs`; on by default).
        pub single_array_key: bool, default = true
        /// A hash join's probe side drops the rows whose keys a Bloom filter of its build
        /// side's keys lacks, before the join looks them up (see `bloom_join/`; on by
        /// default).
        pub bloom_join: bool, default = true
        /// `EXISTS` and `NOT EXISTS` subqueries over one table by one key, each asking for
        /// a row whose column differs from the outer row's, are answered by one grouped
        /// pass over the table (see `exists_in_one_pass/`; on by default).
        pub exists_in_one_pass: bool, default = true
    }
}

impl ConfigExtension for CorepyOptions {
    const PREFIX: &'static str = "corepy";
}

impl CorepyOptions {
    /// A session's corepy settings, the defaults where it set none.
    pub fn of(config: &ConfigOptions) -> Self {
        config.extensions.get::<Self>().cloned().unwrap_or_default()
    }
}
