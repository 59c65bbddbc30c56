//! Files as tables: a path or glob becomes a DataFusion `ListingTable`, after checks that
//! name the offending file (missing, empty, corrupt, or of another schema than
//! its siblings).
//!
//! * [`resolve`] — path or glob → the files it names;
//! * [`format`] — which format a file is, and its DataFusion `FileFormat`;
//! * [`hive`] — a directory's files and its `key=value` partition columns;
//! * [`open`] — validation and the `ListingTable`;
//! * [`path_schema`] — lets SQL name a file directly: `FROM 'data/t.parquet'`.

pub mod format;
pub mod hive;
pub mod open;
pub mod path_schema;
pub mod resolve;

pub use format::{CsvOptions, FileKind};
pub use open::open_table;
