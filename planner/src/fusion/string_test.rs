//! Tests on a string column — `s = 'x'`, `s IN ('x', 'y')`, `s LIKE 'x%'`, and their
//! negations through the kernel's NOT — computed just before the kernel runs and handed to
//! it as a boolean input: TRUE where the value passes, NULL where it is NULL.
//!
//! The kernel IR has no strings. Without these, a filter such as TPC-H Q19's
//! `l_shipmode IN ('AIR', 'AIR REG') AND l_shipinstruct = 'DELIVER IN PERSON' AND
//! l_quantity …` splits in two: the kernel tests the numbers, carries both string columns
//! through its output, and a DataFusion Filter above it tests the strings on the rows it
//! kept. With them, one pass keeps the rows that pass everything, and the strings stay
//! behind.
//!
//! A test gives DataFusion's answer exactly: equality is equality of the UTF-8 bytes, and a
//! LIKE pattern is taken only when it is literal text and `%` wildcards (no `_`, no
//! backslash escapes, case-sensitive), where finding the literal parts in order, each at
//! its leftmost place, is what LIKE means. Anything else stays with DataFusion.

use std::collections::HashSet;
use std::fmt;

use memchr::memmem::Finder;

use views::{same_bytes, view_bytes, views_one_of, ViewMatch};

use datafusion::arrow::array::{Array, AsArray, BooleanArray, StringViewArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Expr, Operator};

/// A test of one string value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StringTest {
    /// The value is one of these strings (`=`, `IN`).
    OneOf(Vec<String>),
    /// The value matches a LIKE pattern of literal parts between `%` wildcards.
    Like(LikePattern),
}

/// `prefix%middle₁%…%middleₙ%suffix`; an empty prefix or suffix is a leading or trailing `%`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LikePattern {
    prefix: String,
    middle: Vec<String>,
    suffix: String,
}

/// A string test recognized in an expression: the column, the test, and whether the
/// expression negates it.
pub struct Recognized<'a> {
    pub column: &'a Column,
    pub test: StringTest,
    pub negated: bool,
}

/// Whether Arrow arrays of `dt` are the strings a test reads.
pub fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// The string test `expr` is, if it is one: `column = 'x'` (either side), `column <> 'x'`,
/// `column [NOT] IN ('x', …)`, `column [NOT] LIKE 'pattern'`. The caller checks that the
/// column holds strings.
pub fn recognize(expr: &Expr) -> Option<Recognized<'_>> {
    match expr {
        Expr::BinaryExpr(b) if matches!(b.op, Operator::Eq | Operator::NotEq) => {
            let (column, text) = match (b.left.as_ref(), b.right.as_ref()) {
                (Expr::Column(c), other) | (other, Expr::Column(c)) => (c, text_of(other)?),
                _ => return None,
            };
            Some(Recognized {
                column,
                test: StringTest::OneOf(vec![text.to_string()]),
                negated: b.op == Operator::NotEq,
            })
        }
        Expr::InList(list) => {
            let Expr::Column(column) = list.expr.as_ref() else {
                return None;
            };
            let texts = list
                .list
                .iter()
                .map(|v| text_of(v).map(str::to_string))
                .collect::<Option<Vec<_>>>()?;
            (!texts.is_empty()).then_some(Recognized {
                column,
                test: StringTest::OneOf(texts),
                negated: list.negated,
            })
        }
        Expr::Like(like) if like.escape_char.is_none() && !like.case_insensitive => {
            let Expr::Column(column) = like.expr.as_ref() else {
                return None;
            };
            Some(Recognized {
                column,
                test: StringTest::from_like(text_of(&like.pattern)?)?,
                negated: like.negated,
            })
        }
        Expr::ScalarFunction(call) => {
            let [Expr::Column(column), text] = call.args.as_slice() else {
                return None;
            };
            Some(Recognized {
                column,
                test: StringTest::from_search(call.func.name(), text_of(text)?)?,
                negated: false,
            })
        }
        _ => None,
    }
}

/// The text of a non-NULL string literal.
fn text_of(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s),
        _ => None,
    }
}

impl StringTest {
    /// The test `name(value, text)` is, for the substring searches `contains`,
    /// `starts_with` and `ends_with` (Polars' `str.contains(…, literal=True)`,
    /// `str.starts_with`, `str.ends_with`): the LIKE patterns `%text%`, `text%` and
    /// `%text`, which find the same bytes. A text with `%`, `_` or a backslash is left to
    /// DataFusion, so that EXPLAIN's pattern reads as what it tests.
    pub fn from_search(name: &str, text: &str) -> Option<StringTest> {
        if text.contains(['%', '_', '\\']) {
            return None;
        }
        let pattern = match name {
            "contains" => format!("%{text}%"),
            "starts_with" => format!("{text}%"),
            "ends_with" => format!("%{text}"),
            _ => return None,
        };
        StringTest::from_like(&pattern)
    }

    /// The test a LIKE pattern is, or `None` when it has `_` or a backslash (left to
    /// DataFusion, whose escapes and single-character wildcard these tests do not model).
    pub fn from_like(pattern: &str) -> Option<StringTest> {
        if pattern.contains(['_', '\\']) {
            return None;
        }
        let parts: Vec<&str> = pattern.split('%').collect();
        let [first, .., last] = parts.as_slice() else {
            return Some(StringTest::OneOf(vec![pattern.to_string()]));
        };
        Some(StringTest::Like(LikePattern {
            prefix: first.to_string(),
            middle: parts[1..parts.len() - 1]
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| p.to_string())
                .collect(),
            suffix: last.to_string(),
        }))
    }

    /// The test's result on each value of `array` (a string array: [`is_string`]).
    pub fn evaluate(&self, array: &dyn Array) -> Result<BooleanArray, String> {
        let test = Prepared::new(self);
        let values = match array.data_type() {
            DataType::Utf8View => test.on_views(array.as_string_view()),
            DataType::Utf8 => {
                let a = array.as_string::<i32>();
                BooleanBuffer::collect_bool(a.len(), |i| test.matches(a.value(i).as_bytes()))
            }
            DataType::LargeUtf8 => {
                let a = array.as_string::<i64>();
                BooleanBuffer::collect_bool(a.len(), |i| test.matches(a.value(i).as_bytes()))
            }
            other => return Err(format!("a string test on a column of type {other}")),
        };
        Ok(BooleanArray::new(values, array.nulls().cloned()))
    }
}

/// A test made ready for a batch: strings wanted by their views (a few) or in a set
/// (more), a pattern's middle parts with their substring finders.
enum Prepared<'a> {
    Few(Vec<ViewMatch<'a>>),
    Many(HashSet<&'a [u8]>),
    Like {
        pattern: &'a LikePattern,
        middle: Vec<Finder<'a>>,
    },
}

impl<'a> Prepared<'a> {
    fn new(test: &'a StringTest) -> Self {
        match test {
            StringTest::OneOf(texts) if texts.len() <= 8 => {
                Prepared::Few(texts.iter().map(|t| ViewMatch::new(t)).collect())
            }
            StringTest::OneOf(texts) => {
                Prepared::Many(texts.iter().map(|t| t.as_bytes()).collect())
            }
            StringTest::Like(pattern) => Prepared::Like {
                pattern,
                middle: pattern.middle.iter().map(Finder::new).collect(),
            },
        }
    }

    fn on_views(&self, array: &StringViewArray) -> BooleanBuffer {
        if let Prepared::Few(wanted) = self {
            return views_one_of(wanted, array);
        }
        let views = array.views();
        BooleanBuffer::collect_bool(views.len(), |i| self.matches(view_bytes(&views[i], array)))
    }

    /// Whether one value passes.
    fn matches(&self, value: &[u8]) -> bool {
        match self {
            Prepared::Few(wanted) => wanted.iter().any(|w| same_bytes(w.text, value)),
            Prepared::Many(set) => set.contains(value),
            Prepared::Like { pattern, middle } => pattern.matches(value, middle),
        }
    }
}

impl LikePattern {
    /// Whether `value` matches; `middle` finds the middle parts, in order.
    fn matches(&self, value: &[u8], middle: &[Finder<'_>]) -> bool {
        let (prefix, suffix) = (self.prefix.as_bytes(), self.suffix.as_bytes());
        if value.len() < prefix.len() + suffix.len()
            || !same_bytes(&value[..prefix.len()], prefix)
            || !same_bytes(&value[value.len() - suffix.len()..], suffix)
        {
            return false;
        }
        let mut rest = &value[prefix.len()..value.len() - suffix.len()];
        for part in middle {
            match part.find(rest) {
                Some(at) => rest = &rest[at + part.needle().len()..],
                None => return false,
            }
        }
        true
    }
}

impl fmt::Display for StringTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
        match self {
            StringTest::OneOf(texts) if texts.len() == 1 => write!(f, "= {}", quoted(&texts[0])),
            StringTest::OneOf(texts) => {
                let texts: Vec<String> = texts.iter().map(|t| quoted(t)).collect();
                write!(f, "IN ({})", texts.join(", "))
            }
            StringTest::Like(p) => {
                let mut pattern = p.prefix.clone();
                for part in &p.middle {
                    pattern.push('%');
                    pattern.push_str(part);
                }
                pattern.push('%');
                pattern.push_str(&p.suffix);
                write!(f, "LIKE {}", quoted(&pattern))
            }
        }
    }
}

mod views;

#[cfg(test)]
mod tests;
