//! The table a grouping kernel folds into: open addressing with linear probing, one slot
//! per group, which the caller keeps across a partition's batches and which every renderer
//! reads and writes the same way.
//!
//! A slot is `stride` 64-bit words: a *header* (0 for an empty slot, else 1 with bit `k + 1`
//! set where key `k` is NULL), then each key's value sign- or zero-extended to 64 bits (0
//! where NULL), then the group's aggregate slots ([`crate::aggregate`]). A group is found
//! by [`hash`] of its header and keys. Before each run the caller reserves room for every
//! row to start a group of its own ([`GroupTable::reserve`]), so a kernel never grows the
//! table: the load stays at most one half.
//!
//! A table over one integer key whose values lie in a known range (a Parquet column's
//! least and greatest, H2O's `id6` in 1‥100 000) is *dense* ([`GroupTable::with_dense_keys`]):
//! it has at least as many slots as the range has values, and a group starts its probe at
//! its key less the range's least value instead of at a mixed hash. The range's groups
//! then never collide and lie side by side, in key order, where a mixed hash scatters them
//! over twice the memory. A key outside the range (the range was an estimate) probes on
//! from where it lands, as any colliding group does: slower, never wrong.

use crate::aggregate::{initial_slots, slots_len};
use crate::interp::V;
use crate::ir::{Kernel, ScalarType};

/// Words of a table's descriptor, which compiled kernels read and update: the slots'
/// address, the slot mask (capacity − 1), the number of groups, 1 for a dense table (else
/// 0) and a dense table's least key word.
pub const DESCRIPTOR: usize = 5;

/// Fewest slots a table has.
const MIN_CAPACITY: usize = 16;

/// The groups of one partition and their aggregates.
#[derive(Debug, Clone)]
pub struct GroupTable {
    slots: Vec<u64>,
    capacity: usize,
    stride: usize,
    keys: usize,
    groups: usize,
    /// A new group's aggregate slots.
    init: Vec<u64>,
    /// A dense table's least key word (see the module's notes).
    dense_base: Option<u64>,
    descriptor: [u64; DESCRIPTOR],
}

/// The hash of a group: its header and keys, mixed word by word.
pub fn hash(header: u64, keys: &[u64]) -> u64 {
    keys.iter().fold(mix(header), |h, k| mix(h ^ k))
}

/// Where the group of `header` and `keys` starts its probe in a table with `dense_base`
/// (see the module's notes), before the slot mask: the JIT's `find_group` computes the same.
pub fn probe_start(dense_base: Option<u64>, header: u64, keys: &[u64]) -> u64 {
    match (dense_base, keys) {
        (Some(base), [key]) => key.wrapping_sub(base),
        _ => hash(header, keys),
    }
}

/// One round of the mix (multiply by the golden ratio, fold the high bits down).
pub fn mix(x: u64) -> u64 {
    let m = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    m ^ (m >> 29)
}

/// A key's value as the table holds it: sign- or zero-extended, 0 for NULL.
pub fn key_word(ty: ScalarType, v: Option<V>) -> u64 {
    match v {
        None => 0,
        Some(V::B(b)) => b as u64,
        Some(V::I(i)) if ty.is_unsigned_int() => i as u64,
        Some(V::I(i)) => i as i64 as u64,
        Some(other) => unreachable!("validated: a {ty} key is not {other:?}"),
    }
}

impl GroupTable {
    /// An empty table for `kernel`'s keys and aggregates.
    pub fn new(kernel: &Kernel) -> Self {
        let keys = kernel.group_keys.len();
        let stride = 1 + keys + slots_len(kernel.aggregates.len());
        GroupTable {
            slots: vec![0; MIN_CAPACITY * stride],
            capacity: MIN_CAPACITY,
            stride,
            keys,
            groups: 0,
            init: initial_slots(kernel),
            dense_base: None,
            descriptor: [0; DESCRIPTOR],
        }
    }

    /// The same (empty) table made dense for one integer key whose values are expected
    /// from the one whose key word ([`key_word`]) is `least` to `range - 1` above it: at
    /// least `range` slots, and each group's probe starting at its key word less `least`.
    /// A table with other keys stays as it is.
    pub fn with_dense_keys(mut self, least: u64, range: u64) -> Self {
        if self.keys != 1 || self.groups != 0 {
            return self;
        }
        let capacity = usize::try_from(range)
            .unwrap_or(usize::MAX)
            .checked_next_power_of_two()
            .unwrap_or(self.capacity)
            .max(self.capacity);
        self.slots = vec![0; capacity * self.stride];
        self.capacity = capacity;
        self.dense_base = Some(least);
        self
    }

    /// Whether the table is dense (see [`GroupTable::with_dense_keys`]).
    pub fn is_dense(&self) -> bool {
        self.dense_base.is_some()
    }

    /// The slots the table has.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Words per slot.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Bytes the table holds (for the memory pool).
    pub fn bytes(&self) -> usize {
        self.slots.len() * 8
    }

    /// Whether `rows` new groups fit with the table at most half full.
    pub fn has_room(&self, rows: usize) -> bool {
        (self.groups + rows) * 2 <= self.capacity
    }

    /// Bytes the table holds once [`GroupTable::reserve`] made room for `rows` more
    /// groups: what a memory pool must grant before it grows.
    pub fn bytes_for(&self, rows: usize) -> usize {
        let capacity = if self.has_room(rows) {
            self.capacity
        } else {
            ((self.groups + rows) * 2)
                .next_power_of_two()
                .max(MIN_CAPACITY)
        };
        capacity * self.stride * 8
    }

    /// Makes room for `rows` new groups (the table stays at most half full).
    pub fn reserve(&mut self, rows: usize) {
        if self.has_room(rows) {
            return;
        }
        let needed = (self.groups + rows) * 2;
        let capacity = needed.next_power_of_two().max(MIN_CAPACITY);
        let old = std::mem::replace(&mut self.slots, vec![0; capacity * self.stride]);
        self.capacity = capacity;
        for slot in old.chunks_exact(self.stride) {
            if slot[0] != 0 {
                let at = self.probe(slot[0], &slot[1..1 + self.keys]);
                let start = at * self.stride;
                self.slots[start..start + self.stride].copy_from_slice(slot);
            }
        }
    }

    /// The slot of the group with `header` and `keys`, or the empty slot where it goes.
    fn probe(&self, header: u64, keys: &[u64]) -> usize {
        let mask = self.capacity - 1;
        let mut at = probe_start(self.dense_base, header, keys) as usize & mask;
        loop {
            let slot = &self.slots[at * self.stride..(at + 1) * self.stride];
            if slot[0] == 0 || (slot[0] == header && &slot[1..1 + self.keys] == keys) {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// The aggregate slots of the group with `header` and `keys`, started if new. The
    /// caller has reserved room for it.
    pub fn group_mut(&mut self, header: u64, keys: &[u64]) -> &mut [u64] {
        let at = self.probe(header, keys);
        let start = at * self.stride;
        if self.slots[start] == 0 {
            assert!(self.groups * 2 < self.capacity, "room reserved");
            self.slots[start] = header;
            self.slots[start + 1..start + 1 + self.keys].copy_from_slice(keys);
            let aggregates = start + 1 + self.keys;
            self.slots[aggregates..start + self.stride].copy_from_slice(&self.init);
            self.groups += 1;
        }
        &mut self.slots[start + 1 + self.keys..start + self.stride]
    }

    /// Every group: its header, keys and aggregate slots, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u64], &[u64])> + '_ {
        self.slots
            .chunks_exact(self.stride)
            .filter(|slot| slot[0] != 0)
            .map(|slot| (slot[0], &slot[1..1 + self.keys], &slot[1 + self.keys..]))
    }

    /// The descriptor a compiled kernel runs with (valid until the table changes).
    pub fn descriptor_mut(&mut self) -> &mut [u64; DESCRIPTOR] {
        self.descriptor = [
            self.slots.as_mut_ptr() as u64,
            (self.capacity - 1) as u64,
            self.groups as u64,
            u64::from(self.dense_base.is_some()),
            self.dense_base.unwrap_or(0),
        ];
        &mut self.descriptor
    }

    /// Takes the group count a compiled kernel left in the descriptor.
    pub fn after_run(&mut self) {
        self.groups = self.descriptor[2] as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{AggFunc, Aggregate};

    fn kernel() -> Kernel {
        let mut k = Kernel::rows();
        let key = k.input(ScalarType::I32);
        let x = k.input(ScalarType::I64);
        k.group_keys.push(key);
        k.aggregates.push(Aggregate {
            func: AggFunc::Sum,
            arg: Some(x),
        });
        k
    }

    #[test]
    fn groups_survive_growth_and_a_null_key_is_a_group_apart_from_zero() {
        let k = kernel();
        let mut table = GroupTable::new(&k);
        for round in 0..3 {
            table.reserve(1000);
            for key in 0..1000u64 {
                let slots = table.group_mut(1, &[key]);
                slots[crate::aggregate::ROWS] += 1;
                assert!(round < 3);
            }
        }
        table.reserve(2);
        table.group_mut(1 | 0b10, &[0]);
        assert_eq!(table.groups(), 1001);
        assert!(table
            .iter()
            .all(|(header, _, slots)| header == 0b11 || slots[0] == 3));
    }
}
