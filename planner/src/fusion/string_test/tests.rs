//! Each test against Arrow's own kernels (the ones DataFusion runs), on the three string
//! layouts, sliced and with NULLs, over short (inline) and long strings.

use std::sync::Arc;

use datafusion::arrow::array::Scalar;
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, LargeStringArray, StringArray, StringViewArray,
    StringViewBuilder,
};
use datafusion::arrow::compute::kernels::boolean::or_kleene;
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::kernels::comparison::like;

use super::*;

/// Strings over a small alphabet (so that patterns match often), 0 to 30 bytes, some
/// NULL, with a multi-byte character among the letters.
fn strings(seed: u64, n: usize) -> Vec<Option<String>> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = ["a", "b", "ab", "é", " ", "DELIVER IN PERSON", "AIR"];
    (0..n)
        .map(|_| {
            if next() % 10 == 0 {
                return None;
            }
            let mut s = String::new();
            let target = (next() % 31) as usize;
            while s.len() < target {
                s.push_str(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            Some(s)
        })
        .collect()
}

fn layouts(values: &[Option<String>]) -> Vec<ArrayRef> {
    let refs: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
    // Views of equal long strings that point at the same bytes, as Parquet's dictionary
    // pages decode them.
    let mut shared = StringViewBuilder::new().with_deduplicate_strings();
    for v in &refs {
        shared.append_option(*v);
    }
    let full: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(refs.clone())),
        Arc::new(LargeStringArray::from(refs.clone())),
        Arc::new(StringViewArray::from(refs)),
        Arc::new(shared.finish()),
    ];
    let mut all = full.clone();
    // Sliced: offsets that are not whole bytes of the validity bitmap.
    all.extend(full.iter().map(|a| a.slice(3, a.len() - 7)));
    all
}

/// `text` as a one-element array of `array`'s string type (a scalar for Arrow's kernels).
fn same_type_text(array: &ArrayRef, text: &str) -> ArrayRef {
    match array.data_type() {
        DataType::Utf8 => Arc::new(StringArray::from(vec![text])),
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(vec![text])),
        _ => Arc::new(StringViewArray::from(vec![text])),
    }
}

fn expected_like(array: &ArrayRef, pattern: &str) -> BooleanArray {
    like(array, &Scalar::new(same_type_text(array, pattern))).expect("like")
}

fn expected_one_of(array: &ArrayRef, texts: &[&str]) -> BooleanArray {
    let mut any: Option<BooleanArray> = None;
    for text in texts {
        let hit = eq(array, &Scalar::new(same_type_text(array, text))).expect("eq");
        any = Some(match any {
            Some(a) => or_kleene(&a, &hit).expect("or"),
            None => hit,
        });
    }
    any.expect("one text at least")
}

/// Equal where the value is not NULL (IN's result on a NULL is NULL either way).
fn assert_same(got: &BooleanArray, want: &BooleanArray, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for i in 0..got.len() {
        assert_eq!(
            got.is_null(i),
            want.is_null(i),
            "{what}: validity of row {i}"
        );
        if !want.is_null(i) {
            assert_eq!(got.value(i), want.value(i), "{what}: row {i}");
        }
    }
}

#[test]
fn like_patterns_match_arrows_like() {
    let patterns = [
        "%",
        "%%",
        "a%",
        "%a",
        "%a%",
        "ab%ba",
        "%AIR%",
        "DELIVER IN PERSON",
        "DELIVER%PERSON",
        "%é%b%",
        "a%b%a%",
        "",
        "%IN PERSON",
        "AIR%",
        "abab%é",
        "%%ab%%",
    ];
    for seed in 1..6 {
        for array in layouts(&strings(seed, 300)) {
            for pattern in patterns {
                let test = StringTest::from_like(pattern).expect("literal pattern");
                let got = test.evaluate(array.as_ref()).expect("strings");
                let what = format!("{} LIKE '{pattern}'", array.data_type());
                assert_same(&got, &expected_like(&array, pattern), &what);
            }
        }
    }
}

#[test]
fn substring_searches_match_arrows_contains_starts_with_and_ends_with() {
    use datafusion::arrow::array::Datum;
    use datafusion::arrow::compute::kernels::comparison::{contains, ends_with, starts_with};
    use datafusion::arrow::error::ArrowError;
    type Search = fn(&dyn Datum, &dyn Datum) -> Result<BooleanArray, ArrowError>;
    let searches: [(&str, Search); 3] = [
        ("contains", contains),
        ("starts_with", starts_with),
        ("ends_with", ends_with),
    ];
    let texts = [
        "",
        "a",
        "ab",
        "ba",
        "é",
        "abab",
        "DELIVER IN PERSON",
        "aaaaaaaaaaaaaaaaa",
    ];
    for seed in 1..6 {
        for array in layouts(&strings(seed, 300)) {
            for text in texts {
                let needle = same_type_text(&array, text);
                for (name, search) in searches {
                    let test = StringTest::from_search(name, text).expect("a plain text");
                    let got = test.evaluate(array.as_ref()).expect("strings");
                    let want = search(&array, &Scalar::new(&needle)).expect("arrow's search");
                    let what = format!("{name}({}, '{text}')", array.data_type());
                    assert_same(&got, &want, &what);
                }
            }
        }
    }
}

#[test]
fn searches_for_wildcard_characters_or_other_functions_are_left_alone() {
    for text in ["50%", "a_b", "back\\slash"] {
        assert!(
            StringTest::from_search("contains", text).is_none(),
            "{text}"
        );
    }
    assert!(StringTest::from_search("strpos", "a").is_none());
    assert_eq!(
        StringTest::from_search("ends_with", "BRASS")
            .expect("a plain text")
            .to_string(),
        "LIKE '%BRASS'"
    );
}

#[test]
fn lists_of_strings_match_arrows_equality() {
    let lists: [&[&str]; 6] = [
        &["AIR"],
        &["", "a"],
        &["DELIVER IN PERSON"],
        &["DELIVER IN PERSON", "DELIVER IN PERSOM", "AIRAIR", "é"],
        &[
            "ab",
            "abab",
            "ababababababab",
            "b",
            "bb",
            "bbb",
            "a",
            "aa",
            "aaa",
        ],
        &["abababababab", "ababababababa"],
    ];
    for seed in 1..6 {
        for array in layouts(&strings(seed, 300)) {
            for texts in lists {
                let test = StringTest::OneOf(texts.iter().map(|t| t.to_string()).collect());
                let got = test.evaluate(array.as_ref()).expect("strings");
                let what = format!("{} IN {texts:?}", array.data_type());
                assert_same(&got, &expected_one_of(&array, texts), &what);
            }
        }
    }
}

#[test]
fn views_with_bytes_past_a_short_strings_end_still_compare_by_the_string() {
    // Arrow does not promise zeroed bytes after an inline string; a view built by hand
    // with garbage there must still equal "AIR".
    let clean = StringViewArray::from(vec!["AIR"]);
    let mut view = clean.views()[0];
    view |= 0xAB << (8 * 10);
    let dirty = unsafe {
        StringViewArray::new_unchecked(vec![view].into(), clean.data_buffers().to_vec(), None)
    };
    let test = StringTest::OneOf(vec!["AIR".into()]);
    assert!(test.evaluate(&dirty).expect("strings").value(0));
}

#[test]
fn patterns_with_single_character_wildcards_or_escapes_are_left_alone() {
    assert!(StringTest::from_like("a_c").is_none());
    assert!(StringTest::from_like("50\\%").is_none());
    assert_eq!(
        StringTest::from_like("PROMO").expect("no wildcard"),
        StringTest::OneOf(vec!["PROMO".into()])
    );
}

#[test]
fn other_types_are_an_error_not_a_wrong_answer() {
    let ints = datafusion::arrow::array::Int32Array::from(vec![1]);
    assert!(StringTest::OneOf(vec!["1".into()]).evaluate(&ints).is_err());
}

#[test]
fn tests_show_as_sql() {
    assert_eq!(
        StringTest::OneOf(vec!["it's".into()]).to_string(),
        "= 'it''s'"
    );
    assert_eq!(
        StringTest::from_like("%a%%b").expect("pattern").to_string(),
        "LIKE '%a%b'"
    );
}
