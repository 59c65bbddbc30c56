//! Whole-file compression of text formats (`t.csv.gz`, `t.ndjson.zst`, …), told by the
//! last extension. Decoding and encoding are DataFusion's own (its `compression` feature):
//! corepy only decides which codec a path names.

use std::path::Path;

use corepy_planner::{CorepyError, Result};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;

/// A whole-file compression codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    /// The codec a file extension (without its dot) stands for.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension.to_ascii_lowercase().as_str() {
            "gz" | "gzip" => Some(Self::Gzip),
            "bz2" | "bzip2" => Some(Self::Bzip2),
            "xz" => Some(Self::Xz),
            "zst" | "zstd" => Some(Self::Zstd),
            _ => None,
        }
    }

    /// The codec `path`'s last extension names, and the path without that extension
    /// (`t.csv.gz` → `Gzip`, `t.csv`); an uncompressed path comes back whole.
    pub fn of_path(path: &str) -> (Self, &str) {
        let file_name_start = path.rfind(['/', '\\']).map_or(0, |i| i + 1);
        if let Some(dot) = path[file_name_start..].rfind('.') {
            let dot = file_name_start + dot;
            if let Some(codec) = Self::from_extension(&path[dot + 1..]) {
                return (codec, &path[..dot]);
            }
        }
        (Self::None, path)
    }

    /// The codec of a local file's name.
    pub fn of_file(path: &Path) -> Self {
        Self::of_path(&path.to_string_lossy()).0
    }

    /// A codec by name, as `compression=` arguments take it (`"gzip"`, `"zstd"`, …).
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "none" | "uncompressed" | "" => Ok(Self::None),
            other => Self::from_extension(other).ok_or_else(|| {
                CorepyError::invalid_argument(format!(
                    "unknown compression '{name}'; use gzip, bzip2, xz, zstd or uncompressed"
                ))
            }),
        }
    }

    pub fn is_compressed(self) -> bool {
        self != Self::None
    }

    /// The extension it adds, with its dot (`.gz`), or "" uncompressed.
    pub fn extension(self) -> &'static str {
        match self {
            Self::None => "",
            Self::Gzip => ".gz",
            Self::Bzip2 => ".bz2",
            Self::Xz => ".xz",
            Self::Zstd => ".zst",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::None => "uncompressed",
            Self::Gzip => "gzip",
            Self::Bzip2 => "bzip2",
            Self::Xz => "xz",
            Self::Zstd => "zstd",
        }
    }

    /// DataFusion's codec.
    pub fn file_compression_type(self) -> FileCompressionType {
        match self {
            Self::None => FileCompressionType::UNCOMPRESSED,
            Self::Gzip => FileCompressionType::GZIP,
            Self::Bzip2 => FileCompressionType::BZIP2,
            Self::Xz => FileCompressionType::XZ,
            Self::Zstd => FileCompressionType::ZSTD,
        }
    }

    /// `reader`, decompressed.
    pub fn decoder<R: std::io::Read + Send + 'static>(
        self,
        reader: R,
    ) -> Result<Box<dyn std::io::Read + Send>> {
        Ok(self.file_compression_type().convert_read(reader)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_extension_names_the_codec() {
        assert_eq!(
            Compression::of_path("data/t.csv.gz"),
            (Compression::Gzip, "data/t.csv")
        );
        assert_eq!(
            Compression::of_path("t.ndjson.ZST"),
            (Compression::Zstd, "t.ndjson")
        );
        assert_eq!(Compression::of_path("t.csv.bz2").0, Compression::Bzip2);
        assert_eq!(Compression::of_path("t.csv.xz").0, Compression::Xz);
        assert_eq!(Compression::of_path("t.csv"), (Compression::None, "t.csv"));
        // A dot in a directory name is not an extension.
        assert_eq!(
            Compression::of_path("x.gz/t"),
            (Compression::None, "x.gz/t")
        );
    }

    #[test]
    fn names_parse() {
        assert_eq!(Compression::parse("gzip").unwrap(), Compression::Gzip);
        assert_eq!(Compression::parse("bzip2").unwrap(), Compression::Bzip2);
        assert_eq!(Compression::parse("zstd").unwrap(), Compression::Zstd);
        assert_eq!(Compression::parse("none").unwrap(), Compression::None);
        let error = Compression::parse("lz5").unwrap_err().to_string();
        assert!(error.contains("unknown compression 'lz5'"), "{error}");
    }
}
