//! The way back to DataFusion's partial aggregation for a fold that meets many groups.
//!
//! The fold's group table is fast for a few groups (TPC-H q1's four) and slower than
//! DataFusion's hash aggregation for many (a partition of 150,000 customer names or
//! order keys). Which one a key has is known only at run time, so a folded partition that passes
//! [`MAX_FOLDED_GROUPS`] gives out the groups it holds as partial states and runs the rest
//! of its input through the partial aggregation that the fold replaced. DataFusion's final
//! aggregation merges a group that comes in two pieces, as it does after an early flush.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{EmptyRecordBatchStream, ExecutionPlan};
use parking_lot::Mutex;

/// Groups a partition folds before it goes back to DataFusion's aggregation.
pub const MAX_FOLDED_GROUPS: usize = 4096;

/// The partial aggregation an operator replaced: DataFusion's `AggregateExec`, to be run
/// over what is left of a partition's input. Its one child is either the fused stage
/// (`JitExec`) that reads that input, or (see [`Fallback::direct`]) that input itself.
#[derive(Debug, Clone)]
pub struct Fallback {
    partial: Arc<dyn ExecutionPlan>,
    through_stage: bool,
}

impl Fallback {
    /// The fallback of a fold: `partial` reads a fused stage, which reads the rest.
    pub fn new(partial: Arc<dyn ExecutionPlan>) -> Self {
        Fallback {
            partial,
            through_stage: true,
        }
    }

    /// `partial` reads the rest itself.
    pub fn direct(partial: Arc<dyn ExecutionPlan>) -> Self {
        Fallback {
            partial,
            through_stage: false,
        }
    }

    /// The partial states of `rest` (batches of the stage's input), by DataFusion.
    pub fn run(
        &self,
        rest: SendableRecordBatchStream,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = rest.schema();
        let source: Arc<dyn ExecutionPlan> = Arc::new(StreamingTableExec::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Rest {
                schema,
                stream: Mutex::new(Some(rest)),
            })],
            None,
            Vec::new(),
            false,
            None,
        )?);
        let recompute = || ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
        let child = match self.through_stage {
            // The partial aggregation's one child is the stage: it now reads the rest.
            true => Arc::clone(self.partial.children()[0])
                .replace_children(vec![source], recompute())?,
            false => source,
        };
        let plan = Arc::clone(&self.partial).replace_children(vec![child], recompute())?;
        plan.execute(0, context)
    }
}

/// A partition's remaining input, handed to the fallback plan once.
struct Rest {
    schema: SchemaRef,
    stream: Mutex<Option<SendableRecordBatchStream>>,
}

impl fmt::Debug for Rest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rest")
    }
}

impl PartitionStream for Rest {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _context: Arc<TaskContext>) -> SendableRecordBatchStream {
        match self.stream.lock().take() {
            Some(stream) => stream,
            // The plan is run once; a second run has nothing left to read.
            None => Box::pin(EmptyRecordBatchStream::new(Arc::clone(&self.schema))),
        }
    }
}
