//! Files as tables: a path or glob becomes a DataFusion `ListingTable`, after checks that
//! name the offending file (missing, empty, corrupt, or of another schema than
//! its siblings).
//!
//! * [`resolve`] — path or glob → the local files it names;
//! * [`remote`] — an `https://` or `s3://` URL (or S3 glob) → the objects it names;
//! * [`format`] — which format a file is, and its DataFusion `FileFormat`;
//! * [`compression`] — which codec a `.gz`/`.bz2`/`.xz`/`.zst` name stands for;
//! * [`check`] — a file's cheap checks (empty, magic bytes, footer, CSV quotes);
//! * [`hive`] — a directory's files and its `key=value` partition columns;
//! * [`open`] — validation and the `ListingTable`;
//! * [`path_schema`] — lets SQL name a file directly: `FROM 'data/t.parquet'`.

pub mod check;
pub mod compression;
pub mod format;
pub mod hive;
pub mod open;
pub mod path_schema;
pub mod remote;
pub mod resolve;

pub use compression::Compression;
pub use format::{CsvOptions, FileKind};
pub use open::open_table;
