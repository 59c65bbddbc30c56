//! The heaps emitted group by group, in rank order, with their numbers.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, UInt64Array};
use datafusion::arrow::compute::interleave_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::physical_plan::metrics::{BaselineMetrics, Count, RecordOutput};

use super::candidates::Candidates;
use super::heaps::Heaps;

/// How the heaps are emitted: into batches of about `batch_size` rows (whole groups).
pub(super) struct Emit {
    pub(super) schema: SchemaRef,
    pub(super) batch_size: usize,
    pub(super) baseline: BaselineMetrics,
    pub(super) groups: Count,
}

impl Emit {
    /// The output batches, built as they are read; the memory stays reserved until then.
    pub(super) fn batches(self, heaps: Heaps, reservation: MemoryReservation) -> Ranked {
        self.groups.add(heaps.heaps.len());
        Ranked {
            emit: self,
            heaps: heaps.heaps.into_iter(),
            candidates: heaps.candidates,
            _reservation: reservation,
        }
    }
}

/// The heaps group by group, each in rank order with its numbers.
pub(super) struct Ranked {
    emit: Emit,
    heaps: std::vec::IntoIter<Vec<u32>>,
    candidates: Candidates,
    _reservation: MemoryReservation,
}

impl Iterator for Ranked {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        let _timer = self.emit.baseline.elapsed_compute().timer();
        let candidates = &self.candidates;
        let mut places = Vec::new();
        let mut numbers = Vec::new();
        while places.len() < self.emit.batch_size {
            let Some(mut heap) = self.heaps.next() else {
                break;
            };
            heap.sort_unstable_by(|&a, &b| candidates.keys.cmp(a, b).then(a.cmp(&b)));
            for (id, number) in heap.into_iter().zip(1u64..) {
                places.push(candidates.places[id as usize]);
                numbers.push(number);
            }
        }
        if places.is_empty() {
            return None;
        }
        Some(self.batch(&places, numbers))
    }
}

impl Ranked {
    fn batch(&self, places: &[(usize, usize)], numbers: Vec<u64>) -> Result<RecordBatch> {
        let sources: Vec<&RecordBatch> = self.candidates.batches.iter().collect();
        let rows = interleave_record_batch(&sources, places)?;
        let mut columns = rows.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from(numbers)));
        let batch = RecordBatch::try_new(Arc::clone(&self.emit.schema), columns)?;
        Ok(batch.record_output(&self.emit.baseline))
    }
}
