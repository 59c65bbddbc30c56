//! A directory as one table: every data file under it, and Hive-style partition columns
//! from the directory names on the way (`root/year=2024/month=1/part-0.parquet` gives the
//! columns `year` and `month`).
//!
//! Partition columns come after the files' columns, as Int64 when every value is an integer
//! and Utf8 otherwise (Polars' inference, less dates and floats). DataFusion prunes whole
//! directories with filters on them, which `explain()` shows as fewer files scanned.

use std::path::{Path, PathBuf};

use corepy_planner::{CorepyError, Result};
use datafusion::arrow::datatypes::DataType;

/// The data files of a directory and the partition columns their paths name.
#[derive(Debug, Clone, PartialEq)]
pub struct Partitioned {
    pub files: Vec<PathBuf>,
    pub columns: Vec<(String, DataType)>,
}

/// Lists `root` recursively. Hidden entries and those starting with `_` (`_SUCCESS`,
/// `_delta_log`) are skipped. Every file must sit at the same depth of `key=value`
/// directories, with the same keys in the same order.
pub fn partitioned_files(root: &Path) -> Result<Partitioned> {
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort();
    let Some(first) = files.first() else {
        return Err(CorepyError::file_format(
            root.display().to_string(),
            "the directory holds no data files",
        ));
    };
    let mut keys: Vec<String> = Vec::new();
    let mut values: Vec<Vec<String>> = Vec::new();
    for (n, file) in files.iter().enumerate() {
        let (these, file_values): (Vec<String>, Vec<String>) =
            partition_pairs(root, file)?.into_iter().unzip();
        if n == 0 {
            values = vec![Vec::new(); these.len()];
            keys = these;
        } else if these != keys {
            return Err(CorepyError::file_format(
                root.display().to_string(),
                format!(
                    "its files are not partitioned alike: '{}' has partition columns [{}], \
                     '{}' has [{}]",
                    first.display(),
                    keys.join(", "),
                    file.display(),
                    these.join(", ")
                ),
            ));
        }
        for (slot, value) in values.iter_mut().zip(file_values) {
            slot.push(value);
        }
    }
    let columns = keys
        .into_iter()
        .zip(values)
        .map(|(key, values)| {
            let integers = values.iter().all(|v| v.parse::<i64>().is_ok());
            (
                key,
                if integers {
                    DataType::Int64
                } else {
                    DataType::Utf8
                },
            )
        })
        .collect();
    Ok(Partitioned { files, columns })
}

fn walk(directory: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(directory)
        .map_err(|e| CorepyError::file_format(directory.display().to_string(), e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            CorepyError::file_format(directory.display().to_string(), e.to_string())
        })?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// The `key=value` directories between `root` and `file`.
fn partition_pairs(root: &Path, file: &Path) -> Result<Vec<(String, String)>> {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let Some(parent) = relative.parent() else {
        return Ok(Vec::new());
    };
    parent
        .components()
        .map(|component| {
            let segment = component.as_os_str().to_string_lossy();
            match segment.split_once('=') {
                Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
                _ => Err(CorepyError::file_format(
                    file.display().to_string(),
                    format!(
                        "the directory '{segment}' is not a Hive partition (key=value); keep \
                         data files directly in the directory or in key=value directories"
                    ),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn keys_and_types_come_from_the_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("year=2023/region=eu/a.parquet"));
        touch(&root.join("year=2024/region=us/b.parquet"));
        touch(&root.join("_SUCCESS"));
        touch(&root.join("year=2024/.hidden/c.parquet"));
        let found = partitioned_files(root).unwrap();
        assert_eq!(found.files.len(), 2);
        assert_eq!(
            found.columns,
            vec![
                ("year".to_string(), DataType::Int64),
                ("region".to_string(), DataType::Utf8)
            ]
        );
    }

    #[test]
    fn files_partitioned_differently_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("year=2023/a.parquet"));
        touch(&dir.path().join("month=1/b.parquet"));
        let error = partitioned_files(dir.path()).unwrap_err();
        assert!(
            error.to_string().contains("not partitioned alike"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = partitioned_files(dir.path()).unwrap_err();
        assert!(error.to_string().contains("no data files"), "{error}");
    }
}
