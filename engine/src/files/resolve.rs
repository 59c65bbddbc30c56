//! A user's path or glob → the local files it names, sorted.

use std::path::{Path, PathBuf};

use corepy_planner::{CorepyError, Result};

/// True when `path` holds glob syntax (`*`, `?`, `[`).
pub fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// The files `path` names: the file itself, or every file a glob matches, sorted by name.
pub fn resolve_files(path: &str) -> Result<Vec<PathBuf>> {
    if path.trim().is_empty() {
        return Err(CorepyError::invalid_argument("the file path is empty"));
    }
    if is_glob(path) {
        return resolve_glob(path);
    }
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => CorepyError::PathNotFound {
            path: path.to_string(),
        },
        _ => CorepyError::file_format(path, error.to_string()),
    })?;
    if metadata.is_dir() {
        let hint = Path::new(path).join("*.parquet");
        return Err(CorepyError::file_format(
            path,
            format!(
                "it is a directory, not a file; to read the files in it, use a glob such as '{}'",
                hint.display()
            ),
        ));
    }
    Ok(vec![absolute(Path::new(path))?])
}

fn resolve_glob(pattern: &str) -> Result<Vec<PathBuf>> {
    let entries = glob::glob(pattern).map_err(|error| {
        CorepyError::invalid_argument(format!("invalid glob '{pattern}': {error}"))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|error| {
            CorepyError::file_format(
                error.path().display().to_string(),
                error.error().to_string(),
            )
        })?;
        if path.is_file() {
            files.push(absolute(&path)?);
        }
    }
    if files.is_empty() {
        return Err(CorepyError::PathNotFound {
            path: pattern.to_string(),
        });
    }
    files.sort();
    Ok(files)
}

/// `path` made absolute, or an error naming it.
pub(super) fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path)
        .map_err(|error| CorepyError::file_format(path.display().to_string(), error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_path_not_found() {
        assert_eq!(
            resolve_files("/definitely/not/here.parquet").unwrap_err(),
            CorepyError::PathNotFound {
                path: "/definitely/not/here.parquet".into()
            }
        );
    }

    #[test]
    fn directory_is_rejected_with_a_glob_hint() {
        let dir = tempfile::tempdir().unwrap();
        let error = resolve_files(dir.path().to_str().unwrap()).unwrap_err();
        assert!(error.to_string().contains("is a directory"), "{error}");
        assert!(error.to_string().contains("*.parquet"), "{error}");
    }

    #[test]
    fn glob_matches_files_sorted_and_skips_directories() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.csv", "a.csv"] {
            std::fs::write(dir.path().join(name), "x\n1\n").unwrap();
        }
        std::fs::create_dir(dir.path().join("c.csv")).unwrap();
        let pattern = format!("{}/*.csv", dir.path().display());
        let files = resolve_files(&pattern).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a.csv", "b.csv"]);
    }

    #[test]
    fn glob_matching_nothing_is_path_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let pattern = format!("{}/*.parquet", dir.path().display());
        assert!(matches!(
            resolve_files(&pattern),
            Err(CorepyError::PathNotFound { .. })
        ));
    }
}
