//! The SQL dialect [`crate::expr::describe`] shows expressions in.
//!
//! It quotes exactly the identifiers DataFusion's default dialect quotes (keywords other
//! than `ID`, names that are not `[a-zA-Z_][a-zA-Z0-9_]*`, names with an upper-case letter),
//! but decides without compiling a regular expression per identifier, as the default does:
//! planning describes every checked operation and every fused label, and the default
//! dialect's regex took 7% of planning time on the TPC-H queries.

use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;
use datafusion::sql::unparser::dialect::Dialect;

/// DataFusion's default unparser dialect, with a cheaper identifier check.
pub struct ShownDialect;

impl Dialect for ShownDialect {
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        needs_quotes(identifier).then_some('"')
    }
}

/// Whether `identifier` must be quoted to read back as the same name.
fn needs_quotes(identifier: &str) -> bool {
    let mut chars = identifier.chars();
    let plain_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let plain_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    !(plain_start && plain_rest) || is_keyword(identifier)
}

/// A SQL keyword (in any case), except `ID`, which the default dialect leaves unquoted.
/// `ALL_KEYWORDS` is sorted (sqlparser's tokenizer searches it the same way).
fn is_keyword(identifier: &str) -> bool {
    let upper = identifier.to_ascii_uppercase();
    upper != "ID" && ALL_KEYWORDS.binary_search(&upper.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use datafusion::sql::unparser::dialect::DefaultDialect;

    use super::*;

    #[test]
    fn quotes_what_the_default_dialect_quotes() {
        let names = [
            "price",
            "_x1",
            "Price",
            "select",
            "SELECT",
            "id",
            "ID",
            "from_date",
            "1a",
            "a b",
            "a-b",
            "",
            "ünïcode",
            "user",
            "l_extendedprice",
            "sum",
            "x9",
            "__corepy_fused_0",
        ];
        for name in names {
            assert_eq!(
                ShownDialect.identifier_quote_style(name),
                DefaultDialect {}.identifier_quote_style(name),
                "{name:?}"
            );
        }
    }
}
