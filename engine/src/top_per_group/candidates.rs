//! The rows that entered a heap and their order keys.

use datafusion::arrow::array::RecordBatch;
use datafusion::common::{DataFusionError, Result};

/// The order keys of the candidates, in Arrow's row format: bytes that compare as the
/// `ORDER BY` orders rows.
pub(super) enum Keys {
    /// Keys of one fixed length of at most 15 bytes (one or two numeric or temporal
    /// columns), each packed big-endian into the high bytes of a `u128`, so that keys
    /// compare as integers. The low byte stays 0, which leaves `u128::MAX` above every key.
    Packed { len: usize, keys: Vec<u128> },
    /// Any other keys, back to back; candidate `c`'s ends at `ends[c]`.
    Bytes { data: Vec<u8>, ends: Vec<usize> },
}

impl Keys {
    /// Packed keys when every key is `len` bytes long and `len` fits, bytes otherwise.
    pub(super) fn for_length(len: Option<usize>) -> Self {
        match len {
            Some(len) if len < 16 => Keys::Packed {
                len,
                keys: Vec::new(),
            },
            _ => Keys::Bytes {
                data: Vec::new(),
                ends: Vec::new(),
            },
        }
    }

    pub(super) fn emptied(&self) -> Self {
        match self {
            Keys::Packed { len, .. } => Keys::for_length(Some(*len)),
            Keys::Bytes { .. } => Keys::for_length(None),
        }
    }

    pub(super) fn bytes<'a>(data: &'a [u8], ends: &[usize], id: usize) -> &'a [u8] {
        let start = if id == 0 { 0 } else { ends[id - 1] };
        &data[start..ends[id]]
    }

    pub(super) fn cmp(&self, a: u32, b: u32) -> std::cmp::Ordering {
        let (a, b) = (a as usize, b as usize);
        match self {
            Keys::Packed { keys, .. } => keys[a].cmp(&keys[b]),
            Keys::Bytes { data, ends } => {
                Self::bytes(data, ends, a).cmp(Self::bytes(data, ends, b))
            }
        }
    }

    /// Appends candidate `id`'s key of `other` (of the same kind).
    pub(super) fn push_from(&mut self, other: &Keys, id: u32) {
        match (self, other) {
            (Keys::Packed { keys, .. }, Keys::Packed { keys: from, .. }) => {
                keys.push(from[id as usize])
            }
            (
                Keys::Bytes { data, ends },
                Keys::Bytes {
                    data: from,
                    ends: from_ends,
                },
            ) => {
                data.extend_from_slice(Self::bytes(from, from_ends, id as usize));
                ends.push(data.len());
            }
            _ => unreachable!("keys of one kind per operator"),
        }
    }

    pub(super) fn size(&self) -> usize {
        match self {
            Keys::Packed { keys, .. } => keys.capacity() * 16,
            Keys::Bytes { data, ends } => data.capacity() + ends.capacity() * 8,
        }
    }
}

/// `key` (row-format bytes, shorter than 16) packed as [`Keys::Packed`] says.
pub(super) fn packed(key: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[..key.len()].copy_from_slice(key);
    u128::from_be_bytes(bytes)
}

/// Rows that entered a heap: their columns, copied out of their batches, and their order
/// keys. A candidate's id is its place in arrival order.
pub(super) struct Candidates {
    pub(super) batches: Vec<RecordBatch>,
    pub(super) batch_bytes: usize,
    pub(super) keys: Keys,
    /// Candidate `c` is row `places[c].1` of `batches[places[c].0]`.
    pub(super) places: Vec<(usize, usize)>,
    /// Candidates pushed out of their heap.
    pub(super) dead: usize,
}

impl Candidates {
    pub(super) fn new(keys: Keys) -> Self {
        Self {
            batches: Vec::new(),
            batch_bytes: 0,
            keys,
            places: Vec::new(),
            dead: 0,
        }
    }

    /// A new candidate at `place`; the caller appends its key.
    pub(super) fn push(&mut self, place: (usize, usize)) -> Result<u32> {
        add_place(&mut self.places, place)
    }

    pub(super) fn size(&self) -> usize {
        self.batch_bytes + self.keys.size() + self.places.capacity() * 16
    }
}

/// Appends a candidate's place; its id. (A free function, so that callers can hold the
/// keys mutably at the same time.)
pub(super) fn add_place(places: &mut Vec<(usize, usize)>, place: (usize, usize)) -> Result<u32> {
    let id = u32::try_from(places.len()).map_err(|_| {
        DataFusionError::ResourcesExhausted(
            "TopPerGroupExec: more than 2^32 rows kept in one partition".into(),
        )
    })?;
    places.push(place);
    Ok(id)
}
