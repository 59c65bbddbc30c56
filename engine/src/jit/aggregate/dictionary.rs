//! String grouping keys as dense ids, for the kernel's group table (which holds fixed-width
//! keys): each partition numbers the distinct strings of a key column as it meets them,
//! the kernel groups by the numbers, and the partial state gives the strings back.
//!
//! Short strings of a `Utf8View` column (at most 12 bytes, TPC-H's flags and modes) are
//! whole in their 16-byte view, so the view itself is the lookup key and no string bytes
//! are read; longer strings and `Utf8`/`LargeUtf8` columns are looked up by their bytes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericStringArray, LargeStringArray, StringArray, StringViewArray,
    UInt32Array,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{internal_err, Result};

/// Slots of the direct-mapped cache of short strings' ids (log2): 256 views and ids, 5 KiB,
/// stay in L1 beside the kernel's data.
const RECENT_BITS: u32 = 8;
const RECENT: usize = 1 << RECENT_BITS;

/// No view: its length field (the low 32 bits) is beyond any string's.
const NO_VIEW: u128 = u128::MAX;

/// Whether the fold groups by columns of this type through a [`Dictionary`].
pub fn is_dictionary_key(data_type: &DataType) -> bool {
    corepy_planner::fusion::is_string(data_type)
}

/// The distinct strings of one key column in one partition, numbered from 0.
pub struct Dictionary {
    /// Short strings' ids by their view (length and bytes, zero-padded), direct-mapped:
    /// a key of few values (TPC-H's flags) is found by one compare that the branch
    /// predictor learns, no hashing. Only short views are stored, so a long string's view
    /// (its length past 12) never matches.
    recent_views: Box<[u128; RECENT]>,
    recent_ids: Box<[u32; RECENT]>,
    /// Ids of every short string met, by its view: with `recent`, a cache of `by_bytes`,
    /// which holds every string.
    by_view: HashMap<u128, u32, BuildHasherDefault<WordHasher>>,
    /// Ids of the strings by their bytes.
    by_bytes: HashMap<Box<[u8]>, u32, BuildHasherDefault<WordHasher>>,
    values: Vec<Box<str>>,
    bytes: usize,
}

impl Default for Dictionary {
    fn default() -> Self {
        Dictionary {
            recent_views: Box::new([NO_VIEW; RECENT]),
            recent_ids: Box::new([0; RECENT]),
            by_view: HashMap::default(),
            by_bytes: HashMap::default(),
            values: Vec::new(),
            bytes: 0,
        }
    }
}

impl Dictionary {
    /// The ids of a column's strings (NULL where the string is NULL).
    pub fn encode(&mut self, column: &ArrayRef) -> Result<ArrayRef> {
        let ids: UInt32Array = match column.data_type() {
            DataType::Utf8View => self.encode_views(column.as_string_view()),
            DataType::Utf8 => self.encode_offsets(column.as_string::<i32>()),
            DataType::LargeUtf8 => self.encode_offsets(column.as_string::<i64>()),
            other => return internal_err!("a {other} grouping key is not a string"),
        };
        Ok(Arc::new(ids))
    }

    /// The strings of `ids` (NULL where the id is), as an array of `data_type`.
    pub fn decode(&self, ids: &[Option<u32>], data_type: &DataType) -> Result<ArrayRef> {
        let strings = ids.iter().map(|id| id.map(|i| &*self.values[i as usize]));
        Ok(match data_type {
            DataType::Utf8View => Arc::new(strings.collect::<StringViewArray>()),
            DataType::Utf8 => Arc::new(strings.collect::<StringArray>()),
            DataType::LargeUtf8 => Arc::new(strings.collect::<LargeStringArray>()),
            other => return internal_err!("a {other} grouping key is not a string"),
        })
    }

    /// Heap bytes held, for the memory pool.
    pub fn bytes(&self) -> usize {
        self.bytes + RECENT * (size_of::<u128>() + size_of::<u32>())
    }

    fn encode_views(&mut self, strings: &StringViewArray) -> UInt32Array {
        let views = strings.views();
        let ids: Vec<u32> = match strings.nulls().filter(|n| n.null_count() > 0) {
            // A null's view is not a string (it may point anywhere): its id is 0, masked.
            Some(nulls) => (0..strings.len())
                .map(|row| match nulls.is_valid(row) {
                    true => self.id_of_view(strings, views[row], row),
                    false => 0,
                })
                .collect(),
            None => (0..strings.len())
                .map(|row| self.id_of_view(strings, views[row], row))
                .collect(),
        };
        UInt32Array::new(ids.into(), strings.nulls().cloned())
    }

    fn id_of_view(&mut self, strings: &StringViewArray, view: u128, row: usize) -> u32 {
        let slot = recent_slot(view);
        if self.recent_views[slot] == view {
            return self.recent_ids[slot];
        }
        self.id_of_view_missed(strings, view, row, slot)
    }

    #[cold]
    fn id_of_view_missed(
        &mut self,
        strings: &StringViewArray,
        view: u128,
        row: usize,
        slot: usize,
    ) -> u32 {
        if (view as u32) > 12 {
            return self.id_of_bytes(strings.value(row));
        }
        let id = match self.by_view.get(&view) {
            Some(&id) => id,
            None => {
                let id = self.id_of_bytes(strings.value(row));
                self.by_view.insert(view, id);
                self.bytes += 32;
                id
            }
        };
        self.recent_views[slot] = view;
        self.recent_ids[slot] = id;
        id
    }

    fn encode_offsets<O: datafusion::arrow::array::OffsetSizeTrait>(
        &mut self,
        strings: &GenericStringArray<O>,
    ) -> UInt32Array {
        (0..strings.len())
            .map(|row| (!strings.is_null(row)).then(|| self.id_of_bytes(strings.value(row))))
            .collect()
    }

    fn id_of_bytes(&mut self, value: &str) -> u32 {
        if let Some(&id) = self.by_bytes.get(value.as_bytes()) {
            return id;
        }
        // u32 ids: a partition runs out of memory long before 4 billion strings.
        let id = self.values.len() as u32;
        self.values.push(value.into());
        self.by_bytes.insert(value.as_bytes().into(), id);
        self.bytes += 2 * value.len() + 48;
        id
    }
}

/// The cache slot of a view: its words mixed by one multiply, the top bits taken.
fn recent_slot(view: u128) -> usize {
    let word = (view as u64) ^ ((view >> 64) as u64).rotate_left(29);
    (word.wrapping_mul(SEED) >> (64 - RECENT_BITS)) as usize
}

/// A fast multiplicative hash of machine words (the dictionary's keys are a partition's
/// own values; its tables are never shared or kept).
#[derive(Default)]
struct WordHasher(u64);

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.write_u64(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 59));
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }

    fn write_u128(&mut self, word: u128) {
        self.write_u64(word as u64);
        self.write_u64((word >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        // A multiply carries a word's bits only upward, so strings that differ in their
        // middle bytes differ only in the state's high bits: a full avalanche (MurmurHash3's
        // finalizer) spreads them to the low bits hashbrown takes its buckets from.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_short_and_long_round_trip_with_nulls() {
        let long = "a string longer than twelve bytes";
        let mut dictionary = Dictionary::default();
        for data_type in [DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8] {
            let values = [Some("R"), None, Some(long), Some(""), Some("R"), Some(long)];
            let column: ArrayRef = match data_type {
                DataType::Utf8View => Arc::new(values.iter().collect::<StringViewArray>()),
                DataType::Utf8 => Arc::new(values.iter().collect::<StringArray>()),
                _ => Arc::new(values.iter().collect::<LargeStringArray>()),
            };
            let ids = dictionary.encode(&column).unwrap();
            let ids: Vec<Option<u32>> = ids
                .as_primitive::<datafusion::arrow::datatypes::UInt32Type>()
                .iter()
                .collect();
            assert_eq!(ids[0], ids[4]);
            assert_eq!(ids[2], ids[5]);
            assert_eq!(ids[1], None);
            assert_ne!(ids[0], ids[3]);
            let back = dictionary.decode(&ids, &data_type).unwrap();
            assert_eq!(back.as_ref(), column.as_ref());
        }
        // One id per distinct string, whatever the column's type.
        assert_eq!(dictionary.values.len(), 3);
    }

    #[test]
    fn many_short_strings_past_the_cache_keep_their_ids() {
        let mut dictionary = Dictionary::default();
        let strings: Vec<String> = (0..3 * RECENT).map(|i| format!("k{i}")).collect();
        let column: ArrayRef = Arc::new(
            strings
                .iter()
                .chain(strings.iter().rev())
                .map(|s| Some(s.as_str()))
                .collect::<StringViewArray>(),
        );
        let ids = dictionary.encode(&column).unwrap();
        let ids = ids.as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
        assert_eq!(ids.null_count(), 0);
        let n = strings.len();
        for i in 0..n {
            assert_eq!(ids.value(i), i as u32);
            assert_eq!(ids.value(2 * n - 1 - i), i as u32);
        }
        assert_eq!(dictionary.by_view.len(), n);
    }

    /// Nulls whose views are garbage (pointing past the buffers) are never read.
    #[test]
    fn null_views_are_not_read() {
        let long = "a string longer than twelve bytes";
        let column = StringViewArray::from(vec![Some(long), Some("R"), Some(long)]);
        let (views, buffers, _) = column.into_parts();
        let mut garbage: Vec<u128> = views.to_vec();
        garbage[1] = (u128::from(u32::MAX) << 96) | (99 << 64) | 40;
        let nulls = datafusion::arrow::buffer::NullBuffer::from(vec![true, false, true]);
        // SAFETY: the one invalid view is a null's, which Arrow readers must not follow.
        let column: ArrayRef = Arc::new(unsafe {
            StringViewArray::new_unchecked(garbage.into(), buffers, Some(nulls))
        });
        let mut dictionary = Dictionary::default();
        let ids = dictionary.encode(&column).unwrap();
        let ids = ids.as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
        assert_eq!(ids.null_count(), 1);
        assert_eq!(ids.value(0), ids.value(2));
        assert_eq!(dictionary.values.len(), 1);
    }
}
