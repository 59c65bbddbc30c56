//! Cheap checks of a file before any query reads it, so that an empty, truncated, corrupt or
//! badly quoted file gets a message naming it instead of a decoder error, a decoder panic,
//! or (for a CSV quote that never closes) silently lost rows.
//!
//! The same checks run on local files (read with `std::fs`) and on remote objects (read
//! through their `ObjectStore`); compressed text files are checked through the codec.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use corepy_planner::{CorepyError, Result};
use datafusion::object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use futures::StreamExt;

use super::compression::Compression;
use super::format::FileKind;

/// Checks a local file of format `kind` (its compression is told by its name).
pub fn check_file(file: &Path, kind: FileKind) -> Result<()> {
    let name = file.display().to_string();
    let io_error = |e: std::io::Error| CorepyError::file_format(name.clone(), e.to_string());
    let mut handle = std::fs::File::open(file).map_err(io_error)?;
    let size = handle.metadata().map_err(io_error)?.len();
    check_not_empty(&name, size)?;
    match kind {
        FileKind::Csv => {
            let compression = Compression::of_file(file);
            let mut reader = compression.decoder(handle)?;
            let mut scanner = QuoteScanner::default();
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                let read = reader
                    .read(&mut buffer)
                    .map_err(|e| codec_error(&name, compression, e))?;
                if read == 0 {
                    break;
                }
                scanner.feed(&buffer[..read]);
            }
            scanner.finish(&name)
        }
        // The reader reports the line of a malformed object, and the engine adds the path.
        FileKind::Json => Ok(()),
        FileKind::Parquet | FileKind::Ipc => {
            let length = magic(kind).len();
            let mut head = vec![0u8; length];
            let mut tail = [0u8; 8];
            let tail_length = tail.len().min(size as usize);
            let read = handle.read_exact(&mut head).is_ok()
                && handle.seek(SeekFrom::End(-(tail_length as i64))).is_ok()
                && handle.read_exact(&mut tail[8 - tail_length..]).is_ok();
            if !read {
                head.clear();
            }
            check_binary(&name, kind, size, &head, &tail)
        }
    }
}

/// Checks a remote object of format `kind`; `name` is its URL. A CSV object is read once
/// for its quotes (streamed, not held in memory).
pub async fn check_object(
    store: &dyn ObjectStore,
    meta: &ObjectMeta,
    kind: FileKind,
    name: &str,
) -> Result<()> {
    let size = meta.size;
    check_not_empty(name, size)?;
    let fetch_error = |e: datafusion::object_store::Error| {
        CorepyError::file_format(name.to_string(), e.to_string())
    };
    match kind {
        FileKind::Csv => {
            let compression = Compression::of_path(name).0;
            let stream = store
                .get(&meta.location)
                .await
                .map_err(fetch_error)?
                .into_stream()
                .map(|chunk| chunk.map_err(Into::into))
                .boxed();
            let mut decoded = compression.file_compression_type().convert_stream(stream)?;
            let mut scanner = QuoteScanner::default();
            while let Some(chunk) = decoded.next().await {
                let chunk = chunk.map_err(|e| codec_error(name, compression, e))?;
                scanner.feed(&chunk);
            }
            scanner.finish(name)
        }
        FileKind::Json => Ok(()),
        FileKind::Parquet | FileKind::Ipc => {
            let length = magic(kind).len() as u64;
            if size < 2 * length {
                return check_binary(name, kind, size, &[], &[0; 8]);
            }
            let head = store
                .get_range(&meta.location, 0..length)
                .await
                .map_err(fetch_error)?;
            let tail_bytes = store
                .get_range(&meta.location, size.saturating_sub(8)..size)
                .await
                .map_err(fetch_error)?;
            let mut tail = [0u8; 8];
            tail[8 - tail_bytes.len()..].copy_from_slice(&tail_bytes);
            check_binary(name, kind, size, &head, &tail)
        }
    }
}

fn check_not_empty(name: &str, size: u64) -> Result<()> {
    if size == 0 {
        return Err(CorepyError::file_format(
            name,
            "the file is empty (0 bytes)",
        ));
    }
    Ok(())
}

fn codec_error(name: &str, compression: Compression, error: impl std::fmt::Display) -> CorepyError {
    let what = if compression.is_compressed() {
        format!("not a valid {} file: ", compression.name())
    } else {
        String::new()
    };
    CorepyError::file_format(name, format!("{what}{error}"))
}

fn magic(kind: FileKind) -> &'static [u8] {
    match kind {
        FileKind::Parquet => b"PAR1",
        _ => b"ARROW1",
    }
}

/// A Parquet or Arrow IPC file starts and ends with its magic bytes; a Parquet file's last 8
/// bytes are its metadata's length and `PAR1`. `head` is empty when the file is too short
/// to hold them; `tail` is the file's last 8 bytes.
fn check_binary(name: &str, kind: FileKind, size: u64, head: &[u8], tail: &[u8; 8]) -> Result<()> {
    let magic = magic(kind);
    let length = magic.len() as u64;
    if size < 2 * length || head != magic {
        return Err(CorepyError::file_format(
            name,
            format!(
                "not a {} file (it does not start with {:?})",
                kind.name(),
                String::from_utf8_lossy(magic)
            ),
        ));
    }
    if &tail[8 - magic.len()..] != magic {
        return Err(CorepyError::file_format(
            name,
            format!(
                "the {} file is truncated or corrupt (its footer is missing)",
                kind.name()
            ),
        ));
    }
    if kind == FileKind::Parquet {
        let metadata = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
        if metadata + 12 > size {
            return Err(CorepyError::file_format(
                name,
                format!(
                    "the Parquet footer is corrupt: its metadata length ({metadata} bytes) \
                     exceeds the file size ({size} bytes)"
                ),
            ));
        }
    }
    Ok(())
}

/// Finds a CSV quoted field that never closes: the CSV reader would take the rest of the
/// file as that one field (silently dropping every row after it). Fed the file's bytes in
/// order, at memory speed; a doubled quote inside a quoted field toggles twice.
#[derive(Debug)]
struct QuoteScanner {
    quoted: bool,
    line: u64,
    opened_on: u64,
}

impl Default for QuoteScanner {
    fn default() -> Self {
        Self {
            quoted: false,
            line: 1,
            opened_on: 0,
        }
    }
}

impl QuoteScanner {
    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'"' {
                self.quoted = !self.quoted;
                if self.quoted {
                    self.opened_on = self.line;
                }
            } else if byte == b'\n' {
                self.line += 1;
            }
        }
    }

    fn finish(&self, name: &str) -> Result<()> {
        if self.quoted {
            return Err(CorepyError::file_format(
                name,
                format!(
                    "malformed CSV: the quoted field that starts on line {} is never closed \
                     (an unterminated quote)",
                    self.opened_on
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unterminated_quote_is_found_across_chunks() {
        let mut scanner = QuoteScanner::default();
        scanner.feed(b"id,x\n1,\"a\"\"b\"\n2,\"unter");
        scanner.feed(b"minated\n3,4\n");
        let error = scanner.finish("t.csv").unwrap_err().to_string();
        assert!(error.contains("starts on line 3"), "{error}");

        let mut closed = QuoteScanner::default();
        closed.feed(b"id,x\n1,\"a\n");
        closed.feed(b"b\"\n");
        assert!(closed.finish("t.csv").is_ok());
    }

    #[test]
    fn binary_files_are_checked_by_their_ends() {
        let tail = *b"\x04\0\0\0PAR1";
        assert!(check_binary("t", FileKind::Parquet, 100, b"PAR1", &tail).is_ok());
        let error = check_binary("t", FileKind::Parquet, 100, b"PAR2", &tail).unwrap_err();
        assert!(error.to_string().contains("does not start with"), "{error}");
        let error =
            check_binary("t", FileKind::Parquet, 100, b"PAR1", b"\0\0\0\0\0\0\0\0").unwrap_err();
        assert!(error.to_string().contains("truncated"), "{error}");
        let huge = *b"\xff\xff\0\0PAR1";
        let error = check_binary("t", FileKind::Parquet, 100, b"PAR1", &huge).unwrap_err();
        assert!(error.to_string().contains("footer is corrupt"), "{error}");
    }

    #[test]
    fn a_gzipped_csv_is_checked_through_the_codec() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"id,x\n1,\"open\n2,3\n").unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let error = check_file(&path, FileKind::Csv).unwrap_err().to_string();
        assert!(error.contains("unterminated quote"), "{error}");

        std::fs::write(&path, b"not gzip at all").unwrap();
        let error = check_file(&path, FileKind::Csv).unwrap_err().to_string();
        assert!(error.contains("not a valid gzip file"), "{error}");
    }
}
