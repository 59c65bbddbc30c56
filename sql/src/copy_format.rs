//! `COPY … TO 'out.csv.gz'` as DuckDB reads it: a compressed text file, its format told by
//! the extension under the codec's. DataFusion looks only at the last extension (`gz`, no
//! format), so the statement is given the `STORED AS` and `format.compression` the name
//! says; anything the user wrote explicitly stands.

use std::path::Path;

use corepy_engine::{Compression, FileKind};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::Value;

/// Completes a `COPY … TO` whose target names a compressed CSV or NDJSON file.
pub fn complete_copy_format(statement: &mut Statement) {
    let Statement::CopyTo(copy) = statement else {
        return;
    };
    let (compression, uncompressed) = Compression::of_path(&copy.target);
    if !compression.is_compressed() {
        return;
    }
    let kind = FileKind::from_extension(Path::new(uncompressed));
    if copy.stored_as.is_none() {
        copy.stored_as = match kind {
            Some(FileKind::Csv) => Some("CSV".into()),
            Some(FileKind::Json) => Some("JSON".into()),
            _ => return,
        };
        let is_tsv = uncompressed.to_ascii_lowercase().ends_with(".tsv");
        if is_tsv && !has_option(&copy.options, "format.delimiter") {
            copy.options.push((
                "format.delimiter".into(),
                Value::SingleQuotedString("\t".into()),
            ));
        }
    }
    if !has_option(&copy.options, "format.compression") {
        copy.options.push((
            "format.compression".into(),
            Value::SingleQuotedString(compression.name().into()),
        ));
    }
}

fn has_option(options: &[(String, Value)], key: &str) -> bool {
    let bare = key.trim_start_matches("format.");
    options
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case(key) || k.eq_ignore_ascii_case(bare))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn completed(sql: &str) -> String {
        let mut statement = DFParser::parse_sql(sql).unwrap().pop_front().unwrap();
        complete_copy_format(&mut statement);
        statement.to_string()
    }

    #[test]
    fn a_compressed_target_gets_its_format_and_codec() {
        let sql = completed("COPY t TO 'out.csv.gz'");
        assert!(sql.contains("STORED AS CSV"), "{sql}");
        assert!(sql.contains("'format.compression' 'gzip'"), "{sql}");
        let sql = completed("COPY t TO 'out.ndjson.zst'");
        assert!(sql.contains("STORED AS JSON"), "{sql}");
        assert!(sql.contains("'zstd'"), "{sql}");
    }

    #[test]
    fn explicit_options_stand_and_plain_targets_are_untouched() {
        let sql = completed("COPY t TO 'out.csv.gz' OPTIONS ('format.compression' 'bzip2')");
        assert!(sql.contains("bzip2") && !sql.contains("gzip"), "{sql}");
        assert_eq!(completed("COPY t TO 'out.csv'"), "COPY t TO out.csv");
    }
}
