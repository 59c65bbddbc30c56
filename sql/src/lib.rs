//! corepy's SQL front end: SQL text → logical plans over files and registered tables,
//! EXPLAIN as readable text, TPC-H data generation, and the `corepy` command line.
//!
//! * [`plan`] — SQL text → a DataFusion `LogicalPlan` (DataFusion's own SQL planner);
//! * [`copy_format`] — `COPY … TO 'out.csv.gz'` given its format and codec;
//! * [`explain`] — EXPLAIN results as sections of text;
//! * [`tpch`] — the eight TPC-H tables as Parquet files;
//! * [`cli`] — `corepy sql …` and `corepy gen tpch …`.

pub mod cli;
pub mod copy_format;
pub mod explain;
pub mod plan;
pub mod tpch;

pub use plan::plan_sql;
