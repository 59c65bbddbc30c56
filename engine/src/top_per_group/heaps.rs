//! One partition's heaps: rows offered to their group's heap, batch by batch.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{interleave_record_batch, take_record_batch};
use datafusion::arrow::datatypes::{
    DataType, Field, Float16Type, Float32Type, Float64Type, Schema, UInt16Type, UInt32Type,
    UInt64Type,
};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::common::{internal_err, Result};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::aggregates::group_values::{new_group_values, GroupValues};
use datafusion::physical_plan::aggregates::order::GroupOrdering;

use super::candidates::{add_place, packed, Candidates, Keys};
use super::TopPerGroupExec;

/// One partition's state: the group table, a heap of at most `k` candidate ids per group
/// (the one ranking last on top), and the candidates.
pub(super) struct Heaps {
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    order_by: Vec<Arc<dyn PhysicalExpr>>,
    /// `None` without partition keys: every row is in group 0.
    groups: Option<Box<dyn GroupValues>>,
    /// `None` without order keys: every key is empty, so the first rows stay.
    order_keys: Option<RowConverter>,
    k: usize,
    pub(super) heaps: Vec<Vec<u32>>,
    /// With packed keys, the key a row must be below to enter each group's heap: its top's
    /// when the heap is full, `u128::MAX` until then.
    bars: Vec<u128>,
    pub(super) candidates: Candidates,
    group_ids: Vec<usize>,
    packed_keys: Vec<u128>,
}

impl Heaps {
    pub(super) fn try_new(exec: &TopPerGroupExec, input: &Schema) -> Result<Self> {
        let groups = if exec.partition_by.is_empty() {
            None
        } else {
            let fields = exec
                .partition_by
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    Ok(Field::new(
                        format!("k{i}"),
                        key_type(&e.data_type(input)?),
                        e.nullable(input)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Some(new_group_values(
                Arc::new(Schema::new(fields)),
                &GroupOrdering::None,
            )?)
        };
        let types = exec
            .order_by
            .iter()
            .map(|sort| Ok((sort.expr.data_type(input)?, sort.options)))
            .collect::<Result<Vec<_>>>()?;
        // Arrow's row format writes a fixed-width value as a validity byte and its bytes.
        let fixed_length: Option<usize> = types
            .iter()
            .map(|(data_type, _)| data_type.primitive_width().map(|width| width + 1))
            .sum();
        let order_keys = if types.is_empty() {
            None
        } else {
            let fields = types
                .into_iter()
                .map(|(data_type, options)| SortField::new_with_options(data_type, options))
                .collect();
            Some(RowConverter::new(fields)?)
        };
        let groups_now = if exec.partition_by.is_empty() { 1 } else { 0 };
        Ok(Self {
            partition_by: exec.partition_by.clone(),
            order_by: exec
                .order_by
                .iter()
                .map(|sort| Arc::clone(&sort.expr))
                .collect(),
            groups,
            order_keys,
            k: exec.k,
            heaps: vec![Vec::new(); groups_now],
            bars: vec![u128::MAX; groups_now],
            candidates: Candidates::new(Keys::for_length(fixed_length)),
            group_ids: Vec::new(),
            packed_keys: Vec::new(),
        })
    }

    pub(super) fn insert(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        if rows == 0 || self.k == 0 {
            return Ok(());
        }
        self.group_ids.clear();
        match &mut self.groups {
            Some(groups) => {
                let keys = evaluate(&self.partition_by, batch)?;
                let keys: Vec<ArrayRef> = keys.iter().map(as_key).collect();
                groups.intern(&keys, &mut self.group_ids)?;
                self.heaps.resize_with(groups.len(), Vec::new);
                self.bars.resize(groups.len(), u128::MAX);
            }
            None => self.group_ids.resize(rows, 0),
        }
        let order: Option<Rows> = match &self.order_keys {
            Some(converter) => Some(converter.convert_columns(&evaluate(&self.order_by, batch)?)?),
            None => None,
        };
        let taken = match self.candidates.keys {
            Keys::Packed { len, .. } => {
                self.packed_keys.clear();
                match &order {
                    Some(order) => {
                        for row in order.iter() {
                            let key = row.data();
                            if key.len() != len {
                                return internal_err!(
                                    "TopPerGroupExec: a key of {} bytes, not {len}",
                                    key.len()
                                );
                            }
                            self.packed_keys.push(packed(key));
                        }
                    }
                    None => self.packed_keys.resize(rows, 0),
                }
                self.insert_packed()?
            }
            Keys::Bytes { .. } => self.insert_bytes(order.as_ref())?,
        };
        let candidates = &mut self.candidates;
        if !taken.is_empty() {
            let kept = take_record_batch(batch, &UInt32Array::from(taken))?;
            candidates.batch_bytes += kept.get_array_memory_size();
            candidates.batches.push(kept);
        }
        let live = candidates.places.len() - candidates.dead;
        if candidates.dead > live.max(1 << 16) {
            self.compact()?;
        }
        Ok(())
    }

    /// Offers each row of the batch to its group's heap; the rows that entered.
    fn insert_packed(&mut self) -> Result<Vec<u32>> {
        let batch_no = self.candidates.batches.len();
        let mut taken: Vec<u32> = Vec::new();
        let candidates = &mut self.candidates;
        let Keys::Packed { keys, .. } = &mut candidates.keys else {
            return internal_err!("TopPerGroupExec: packed keys expected");
        };
        for (row, (&group, &key)) in self.group_ids.iter().zip(&self.packed_keys).enumerate() {
            // Most rows stop here: one comparison with their group's bar.
            if key >= self.bars[group] {
                continue;
            }
            let place = (batch_no, taken.len());
            taken.push(row as u32);
            let id = add_place(&mut candidates.places, place)?;
            keys.push(key);
            let heap = &mut self.heaps[group];
            if heap.len() < self.k {
                heap.push(id);
                sift_up(heap, |a, b| (keys[a as usize], a) > (keys[b as usize], b));
            } else {
                candidates.dead += 1;
                heap[0] = id;
                sift_down(heap, |a, b| (keys[a as usize], a) > (keys[b as usize], b));
            }
            if heap.len() == self.k {
                self.bars[group] = keys[heap[0] as usize];
            }
        }
        Ok(taken)
    }

    /// [`Self::insert_packed`] for keys compared as bytes.
    fn insert_bytes(&mut self, order: Option<&Rows>) -> Result<Vec<u32>> {
        let batch_no = self.candidates.batches.len();
        let mut taken: Vec<u32> = Vec::new();
        let candidates = &mut self.candidates;
        let Keys::Bytes { data, ends } = &mut candidates.keys else {
            return internal_err!("TopPerGroupExec: byte keys expected");
        };
        for (row, &group) in self.group_ids.iter().enumerate() {
            let key: &[u8] = order.map_or(&[], |rows| rows.row(row).data());
            let heap = &mut self.heaps[group];
            let full = heap.len() == self.k;
            if full && key >= Keys::bytes(data, ends, heap[0] as usize) {
                continue;
            }
            let place = (batch_no, taken.len());
            taken.push(row as u32);
            let id = add_place(&mut candidates.places, place)?;
            data.extend_from_slice(key);
            ends.push(data.len());
            let after = |a: u32, b: u32| {
                (Keys::bytes(data, ends, a as usize), a) > (Keys::bytes(data, ends, b as usize), b)
            };
            if full {
                candidates.dead += 1;
                heap[0] = id;
                sift_down(heap, after);
            } else {
                heap.push(id);
                sift_up(heap, after);
            }
        }
        Ok(taken)
    }

    /// Copies the live candidates into one batch and numbers them again, in the same order.
    fn compact(&mut self) -> Result<()> {
        let emptied = Candidates::new(self.candidates.keys.emptied());
        let old = std::mem::replace(&mut self.candidates, emptied);
        let mut live: Vec<u32> = self.heaps.iter().flatten().copied().collect();
        live.sort_unstable();
        let mut renumbered = vec![u32::MAX; old.places.len()];
        let mut places = Vec::with_capacity(live.len());
        for (new, &id) in live.iter().enumerate() {
            renumbered[id as usize] = new as u32;
            places.push(old.places[id as usize]);
            self.candidates.push((0, new))?;
            self.candidates.keys.push_from(&old.keys, id);
        }
        let batches: Vec<&RecordBatch> = old.batches.iter().collect();
        if !live.is_empty() {
            let batch = interleave_record_batch(&batches, &places)?;
            self.candidates.batch_bytes = batch.get_array_memory_size();
            self.candidates.batches.push(batch);
        }
        for id in self.heaps.iter_mut().flatten() {
            *id = renumbered[*id as usize];
        }
        Ok(())
    }

    pub(super) fn size(&self) -> usize {
        let live = self.candidates.places.len() - self.candidates.dead;
        let heaps = self.heaps.capacity() * 24 + self.bars.capacity() * 16 + live * 4;
        let groups = self.groups.as_ref().map_or(0, |g| g.size());
        let buffers = self.group_ids.capacity() * 8 + self.packed_keys.capacity() * 16;
        self.candidates.size() + heaps + groups + buffers
    }
}

/// The type a partition key is grouped as: floats as their bits. The window sorts floats
/// in IEEE total order, where `-0.0` and `0.0` are two partitions and so are NaNs of
/// different bits; DataFusion's float group table would merge them.
fn key_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Float16 => DataType::UInt16,
        DataType::Float32 => DataType::UInt32,
        DataType::Float64 => DataType::UInt64,
        other => other.clone(),
    }
}

/// `key` as [`key_type`] says: floats reinterpreted as unsigned integers of their bits.
fn as_key(key: &ArrayRef) -> ArrayRef {
    match key.data_type() {
        DataType::Float16 => {
            let floats = key.as_primitive::<Float16Type>();
            Arc::new(floats.unary::<_, UInt16Type>(|v| v.to_bits()))
        }
        DataType::Float32 => {
            let floats = key.as_primitive::<Float32Type>();
            Arc::new(floats.unary::<_, UInt32Type>(f32::to_bits))
        }
        DataType::Float64 => {
            let floats = key.as_primitive::<Float64Type>();
            Arc::new(floats.unary::<_, UInt64Type>(f64::to_bits))
        }
        _ => Arc::clone(key),
    }
}

fn evaluate(exprs: &[Arc<dyn PhysicalExpr>], batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
    exprs
        .iter()
        .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
        .collect()
}

/// Restores the heap order after a push at the end; `after(a, b)`: `a` ranks after `b`,
/// and the one ranking last is on top.
fn sift_up(heap: &mut [u32], after: impl Fn(u32, u32) -> bool) {
    let mut at = heap.len() - 1;
    while at > 0 {
        let parent = (at - 1) / 2;
        if !after(heap[at], heap[parent]) {
            break;
        }
        heap.swap(at, parent);
        at = parent;
    }
}

/// Restores the heap order after the top was replaced.
fn sift_down(heap: &mut [u32], after: impl Fn(u32, u32) -> bool) {
    let mut at = 0;
    loop {
        let mut last = at;
        for child in [2 * at + 1, 2 * at + 2] {
            if child < heap.len() && after(heap[child], heap[last]) {
                last = child;
            }
        }
        if last == at {
            return;
        }
        heap.swap(at, last);
        at = last;
    }
}
