//! The filter itself: a register-blocked Bloom filter over one 64-bit word per row of join
//! keys. Each key sets (and a lookup tests) three bits of a single `u64`, so a lookup is
//! one load, one AND and one compare, at 10 bits a key: 570 KB for the 456 K orders of
//! TPC-H q5 at SF10, where the join's own table takes tens of bytes a key. Keys whose
//! values differ only in their low bits share a cache line, so a probe side in key order
//! (lines by order key) misses the cache once per block of keys, not once per key.
//!
//! A Bloom filter has no false negatives: a key that was inserted is always found, so a
//! row it drops cannot have had a match. False positives (≈ 2–3% at this size) only let
//! a row through to the join, which then finds no match for it.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};

/// Bits of filter per build key.
const BITS_PER_KEY: usize = 10;

/// Words per cache line: a key's word is one of the eight in its block's line.
const LINE_WORDS: usize = 8;

/// Keys that differ only in these low bits share a cache line, so a probe side sorted or
/// clustered by its key (TPC-H's lines by order key) finds the next keys' line in L1.
const BLOCK_BITS: u32 = 5;

/// Whether join keys of this type can be hashed into the filter: integers and dates, whose
/// values are their identity (equal keys, equal words). Floats (`-0.0 = 0.0`, NaN),
/// decimals, strings and nested types are left to the join alone.
pub fn hashable(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Date32
            | DataType::Date64
    )
}

/// The rows' keys, one word per row, into `words` (cleared first): the first key's value,
/// each further key folded in. Equal key tuples give equal words. A row with a NULL key
/// gets some word; the returned validity says which rows have every key (None: all do).
/// Panics on a type [`hashable`] refuses (the rule only plans hashable keys).
pub fn key_words(keys: &[ArrayRef], rows: usize, words: &mut Vec<u64>) -> Option<NullBuffer> {
    debug_assert!(keys.iter().all(|key| key.len() == rows));
    let mut valid: Option<NullBuffer> = None;
    for (i, key) in keys.iter().enumerate() {
        fold_key(key.as_ref(), i > 0, words);
        valid = NullBuffer::union(valid.as_ref(), key.logical_nulls().as_ref());
    }
    valid
}

/// One key column folded into the rows' words (`combine`: into what earlier keys left).
fn fold_key(key: &dyn Array, combine: bool, words: &mut Vec<u64>) {
    macro_rules! fold {
        ($arrow:ty) => {
            fold_values(key.as_primitive::<$arrow>().values(), combine, words)
        };
    }
    match key.data_type() {
        DataType::Int8 => fold!(Int8Type),
        DataType::Int16 => fold!(Int16Type),
        DataType::Int32 => fold!(Int32Type),
        DataType::Int64 => fold!(Int64Type),
        DataType::UInt8 => fold!(UInt8Type),
        DataType::UInt16 => fold!(UInt16Type),
        DataType::UInt32 => fold!(UInt32Type),
        DataType::UInt64 => fold!(UInt64Type),
        DataType::Date32 => fold!(Date32Type),
        DataType::Date64 => fold!(Date64Type),
        other => unreachable!("bloom_join keys are hashable, not {other}"),
    }
}

/// The values widened to 64 bits (sign-extended: both sides of a join have the same type,
/// so the widening is the same on both).
trait Word: Copy {
    fn word(self) -> u64;
}

macro_rules! word {
    ($($native:ty),*) => {$(
        impl Word for $native {
            #[inline(always)]
            fn word(self) -> u64 {
                self as i64 as u64
            }
        }
    )*};
}
word!(i8, i16, i32, i64, u8, u16, u32);

impl Word for u64 {
    #[inline(always)]
    fn word(self) -> u64 {
        self
    }
}

/// The first key's values become the words (no zeroing first); a further key's fold into
/// them.
fn fold_values<T: Word>(values: &[T], combine: bool, words: &mut Vec<u64>) {
    if combine {
        for (word, value) in words.iter_mut().zip(values) {
            *word = word.rotate_left(29).wrapping_mul(0xA076_1D64_78BD_642F) ^ value.word();
        }
    } else {
        words.clear();
        words.extend(values.iter().map(|value| value.word()));
    }
}

/// A register-blocked Bloom filter laid out by key blocks: the block of a key's value
/// (its value without the low [`BLOCK_BITS`]) picks a 64-byte line, the key's own hash
/// one word of the line and three bits in it.
#[derive(Debug)]
pub struct BloomFilter {
    words: Box<[u64]>,
    lines: u64,
    keys: usize,
}

impl BloomFilter {
    /// A filter holding `words` (the key words of the build side's rows, repeats allowed).
    pub fn from_words(words: &[u64]) -> Self {
        let lines = Self::lines_for(words.len());
        let mut filter = BloomFilter {
            words: vec![0; lines * LINE_WORDS].into_boxed_slice(),
            lines: lines as u64,
            keys: words.len(),
        };
        for &word in words {
            let (at, bits) = filter.place(word);
            filter.words[at] |= bits;
        }
        filter
    }

    fn lines_for(keys: usize) -> usize {
        (keys * BITS_PER_KEY).div_ceil(64 * LINE_WORDS).max(1)
    }

    /// The bytes a filter for `keys` keys takes (for memory accounting before building it).
    pub fn bytes_for(keys: usize) -> usize {
        Self::lines_for(keys) * LINE_WORDS * 8
    }

    /// The word of the filter a key word sets, and its bits there. One multiply picks the
    /// line (Fibonacci hashing of the block: its product's top bits, scaled to the line
    /// count, so the filter is as large as its keys need and no power of two larger),
    /// one more the word in the line and the three bits (the top 21 bits of the key's
    /// product). Folding the high half in first keeps keys that differ only in their
    /// high bits apart.
    #[inline(always)]
    fn place(&self, word: u64) -> (usize, u64) {
        let folded = word ^ (word >> 32);
        let block = (folded >> BLOCK_BITS).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let line = ((block >> 32) * self.lines) >> 32;
        let h = folded.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let at = line as usize * LINE_WORDS + (h >> 61) as usize;
        let bits =
            (1u64 << ((h >> 43) & 63)) | (1u64 << ((h >> 49) & 63)) | (1u64 << ((h >> 55) & 63));
        (at, bits)
    }

    /// False only for a word that was never inserted.
    #[inline(always)]
    pub fn may_contain(&self, word: u64) -> bool {
        let (at, bits) = self.place(word);
        self.words[at] & bits == bits
    }

    /// The filter's size in bytes.
    pub fn bytes(&self) -> usize {
        self.words.len() * 8
    }

    /// How many build rows' keys it holds (repeats counted).
    pub fn keys(&self) -> usize {
        self.keys
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int32Array, Int64Array, UInt64Array};

    use super::*;

    #[test]
    fn every_inserted_key_is_found_and_few_others_are() {
        let inserted: Vec<u64> = (0..100_000u64).map(|k| k * 7 + 3).collect();
        let filter = BloomFilter::from_words(&inserted);
        assert!(inserted.iter().all(|&k| filter.may_contain(k)));
        let others = (0..1_000_000u64).filter(|k| k % 7 != 3);
        let (mut tested, mut passed) = (0usize, 0usize);
        for k in others {
            tested += 1;
            passed += usize::from(filter.may_contain(k));
        }
        let rate = passed as f64 / tested as f64;
        assert!(rate < 0.04, "false positive rate {rate}");
        assert!(filter.bytes() >= 100_000 * BITS_PER_KEY / 8);
        assert!(filter.bytes() < 100_000 * BITS_PER_KEY / 8 + 64);
        assert_eq!(filter.bytes(), BloomFilter::bytes_for(100_000));
    }

    #[test]
    fn keys_that_differ_only_in_their_high_bits_spread_over_the_lines() {
        let inserted: Vec<u64> = (0..20_000u64).map(|k| k << 40).collect();
        let filter = BloomFilter::from_words(&inserted);
        assert!(inserted.iter().all(|&k| filter.may_contain(k)));
        let passed = (20_000..220_000u64)
            .filter(|&k| filter.may_contain(k << 40))
            .count();
        assert!(passed < 200_000 / 25, "{passed} of 200 000 passed");
    }

    #[test]
    fn an_empty_build_side_passes_nothing() {
        let filter = BloomFilter::from_words(&[]);
        assert!((0..10_000u64).all(|k| !filter.may_contain(k)));
    }

    #[test]
    fn words_of_equal_key_tuples_are_equal_and_nulls_are_marked() {
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(1), None, Some(-5)]));
        let b: ArrayRef = Arc::new(Int32Array::from(vec![Some(2), Some(2), Some(2), None]));
        let mut words = Vec::new();
        let valid = key_words(&[a, b], 4, &mut words).expect("nulls");
        assert_eq!(words.len(), 4);
        assert_eq!(words[0], words[1]);
        assert_eq!(
            (0..4).map(|i| valid.is_valid(i)).collect::<Vec<_>>(),
            [true, true, false, false]
        );
        // The order of the keys matters: (1, 2) and (2, 1) are different tuples.
        let c: ArrayRef = Arc::new(Int64Array::from(vec![2]));
        let d: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        let mut swapped = Vec::new();
        assert!(key_words(&[c, d], 1, &mut swapped).is_none());
        assert_ne!(swapped[0], words[0]);
    }

    #[test]
    fn unsigned_and_negative_keys_keep_their_identity() {
        let big: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX, 0]));
        let negative: ArrayRef = Arc::new(Int64Array::from(vec![-1, 0]));
        let (mut x, mut y) = (Vec::new(), Vec::new());
        key_words(&[big], 2, &mut x);
        key_words(&[negative], 2, &mut y);
        // Same bits, same word: the filter may pass both, never drop a real match.
        assert_eq!(x, y);
        assert!(hashable(&DataType::Date32));
        assert!(!hashable(&DataType::Float64));
        assert!(!hashable(&DataType::Utf8));
    }
}
