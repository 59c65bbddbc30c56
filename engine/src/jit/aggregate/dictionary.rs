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

/// How many short strings a dictionary finds by comparing views before it hashes them:
/// a scan of eight 16-byte views costs less than one hash.
const FEW: usize = 8;

/// Whether the fold groups by columns of this type through a [`Dictionary`].
pub fn is_dictionary_key(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// The distinct strings of one key column in one partition, numbered from 0.
#[derive(Default)]
pub struct Dictionary {
    /// The first [`FEW`] short strings met, by their view (length and bytes, zero-padded):
    /// a key of a few values (TPC-H's flags) is found by comparing views, no hashing.
    few: Vec<(u128, u32)>,
    /// Ids of the other short strings by their view: with `few`, a cache of `by_bytes`,
    /// which holds every string.
    by_view: HashMap<u128, u32, BuildHasherDefault<WordHasher>>,
    /// Ids of the strings by their bytes.
    by_bytes: HashMap<Box<[u8]>, u32, BuildHasherDefault<WordHasher>>,
    values: Vec<Box<str>>,
    bytes: usize,
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
        self.bytes
    }

    fn encode_views(&mut self, strings: &StringViewArray) -> UInt32Array {
        let views = strings.views();
        if strings.null_count() == 0 {
            // No validity to build: ids straight into a vector.
            let ids: Vec<u32> = (0..strings.len())
                .map(|row| self.id_of_view(strings, views[row], row))
                .collect();
            return UInt32Array::from(ids);
        }
        let ids = (0..strings.len())
            .map(|row| (!strings.is_null(row)).then(|| self.id_of_view(strings, views[row], row)));
        ids.collect()
    }

    fn id_of_view(&mut self, strings: &StringViewArray, view: u128, row: usize) -> u32 {
        if (view as u32) > 12 {
            return self.id_of_bytes(strings.value(row));
        }
        if let Some(&(_, id)) = self.few.iter().find(|(v, _)| *v == view) {
            return id;
        }
        if let Some(&id) = self.by_view.get(&view) {
            return id;
        }
        let id = self.id_of_bytes(strings.value(row));
        if self.few.len() < FEW {
            self.few.push((view, id));
        } else {
            self.by_view.insert(view, id);
        }
        self.bytes += 32;
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
    fn many_short_strings_past_the_few_keep_their_ids() {
        let mut dictionary = Dictionary::default();
        let strings: Vec<String> = (0..3 * FEW).map(|i| format!("k{i}")).collect();
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
        assert_eq!(dictionary.few.len(), FEW);
    }
}
