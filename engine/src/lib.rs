//! corepy's engine: the session that plans and runs queries on DataFusion's partitioned
//! streams, and the sources it reads.
//!
//! * [`session`] — `Session`, a DataFusion `SessionContext` set up for corepy;
//! * [`query_planner`] — the physical planner hook where corepy's operators plug in;
//! * [`dml`] — `DELETE` and `UPDATE`, planned as written;
//! * [`jit`] — `JitExec`, which runs fused stages' compiled kernels, and the kernel cache;
//! * [`files`] — paths and globs as tables, checked up front;
//! * [`bloom_join`] — a hash join's probe side drops rows its build keys' Bloom filter lacks;
//! * [`build_side`] — a hash join builds on the side with far fewer estimated rows;
//! * [`run_aggregate`] — a partial aggregation over clustered keys merges runs, no hashing;
//! * [`top_per_group`] — `TopPerGroupExec`: the first `k` rows of each group, one pass;
//! * [`late_materialization`] — Parquet scans under a join filter rows by its keys first;
//! * [`execute`] — running a plan to Arrow batches, and EXPLAIN [ANALYZE] text;
//! * [`runtime`] — the shared Tokio runtime and cancellable blocking calls;
//! * [`tensor`] — tensors realized: fused kernels, GEMM, concatenation, resampling;
//! * [`vision`] — images decoded into tensors and resampled;
//! * [`write`] — a query's result written to a Parquet, IPC or CSV file, atomically.

pub mod bloom_join;
pub mod build_side;
pub mod dml;
pub mod execute;
pub mod files;
pub mod gpu;
pub mod jit;
pub mod late_materialization;
pub mod query_planner;
pub mod row_index;
pub mod run_aggregate;
pub mod runtime;
pub mod session;
pub mod single_array_key;
pub mod tensor;
pub mod top_per_group;
pub mod vision;
pub mod write;

pub use execute::{ExplainOptions, QueryResult};
pub use files::{Compression, CsvOptions, FileKind};
pub use session::{Session, SessionOptions};
pub use write::{ParquetCompression, WriteFormat};
