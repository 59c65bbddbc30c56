//! The stream of one partition of a `JitExec`: each input batch through the stage, and a
//! filtering stage's small outputs gathered into batches of the session's batch size.
//!
//! Why gather: a 1 % filter over 64 Ki-row batches yields batches of ~650 rows, and every
//! operator above (and the hand-over to Python) pays per batch. DataFusion's own FilterExec
//! gathers its output the same way, so with the JIT on or off the operators above see
//! batches of the same size.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream};
use datafusion::physical_plan::coalesce::LimitedBatchCoalescer;
use datafusion::physical_plan::metrics::{BaselineMetrics, Count, Time};
use futures::{Stream, StreamExt};

use super::exec::JitExec;

/// Counters of one partition's run.
pub struct PartitionMetrics {
    pub baseline: BaselineMetrics,
    pub input_rows: Count,
    pub kernel_time: Time,
    /// A GPU stage's copies: bytes each way and their time.
    pub to_device_bytes: Count,
    pub to_host_bytes: Count,
    pub copy_time: Time,
}

pub struct JitStream {
    stage: Arc<JitExec>,
    input: Option<SendableRecordBatchStream>,
    metrics: PartitionMetrics,
    /// Gathers a filtering stage's output; `None` for a projecting stage, which maps each
    /// batch to one batch (as ProjectionExec: operators above may rely on it).
    gather: Option<LimitedBatchCoalescer>,
}

impl JitStream {
    pub fn new(
        stage: Arc<JitExec>,
        input: SendableRecordBatchStream,
        metrics: PartitionMetrics,
        batch_size: usize,
    ) -> Self {
        let gather = stage
            .filters()
            .then(|| LimitedBatchCoalescer::new(stage.schema_ref(), batch_size, None));
        JitStream {
            stage,
            input: Some(input),
            metrics,
            gather,
        }
    }

    fn run(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let _compute = self.metrics.baseline.elapsed_compute().timer();
        self.metrics.input_rows.add(batch.num_rows());
        self.stage.process(batch, &self.metrics)
    }

    /// The next batch of a filtering stage: gathered outputs, never an empty batch.
    fn poll_gathered(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RecordBatch>>> {
        loop {
            let gather = self.gather.as_mut().expect("a filtering stage gathers");
            if let Some(batch) = gather.next_completed_batch() {
                return Poll::Ready(Some(Ok(batch)));
            }
            let Some(input) = self.input.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(input.poll_next_unpin(cx)) {
                Some(Ok(batch)) => {
                    let out = self.run(&batch)?;
                    let _compute = self.metrics.baseline.elapsed_compute().timer();
                    let gather = self.gather.as_mut().expect("a filtering stage gathers");
                    if out.num_rows() > 0 {
                        gather.push_batch(out)?;
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    // Release the input's resources, then drain what is gathered.
                    self.input = None;
                    self.gather
                        .as_mut()
                        .expect("a filtering stage gathers")
                        .finish()?;
                }
            }
        }
    }

    /// The next batch of a projecting stage: one output batch per input batch, empty
    /// ones too (operators above evaluate constants per batch, as after ProjectionExec).
    fn poll_mapped(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<RecordBatch>>> {
        let Some(input) = self.input.as_mut() else {
            return Poll::Ready(None);
        };
        let next = ready!(input.poll_next_unpin(cx));
        Poll::Ready(next.map(|batch| batch.and_then(|b| self.run(&b))))
    }
}

impl Stream for JitStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let poll = if self.gather.is_some() {
            self.poll_gathered(cx)
        } else {
            self.poll_mapped(cx)
        };
        self.metrics.baseline.record_poll(poll)
    }
}

impl RecordBatchStream for JitStream {
    fn schema(&self) -> SchemaRef {
        self.stage.schema_ref()
    }
}
