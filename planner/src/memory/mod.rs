//! Where corepy's own large buffers come from: tensors' data and fused stages' output
//! columns.
//!
//! * [`allocation`] — large buffers as mappings (tensors' on transparent huge pages), and a
//!   bounded pool of freed mappings for the next buffer of the same size;
//! * [`chunks`] — Arrow buffers carved from per-thread chunks of pooled memory, so that
//!   the many small outputs of a fused stage (one per batch) are reused across queries too.

mod allocation;
pub mod chunks;

pub use allocation::{Allocation, FreedOnDrop, Pages, ALIGNMENT, LARGE, POOL_BYTES, POOL_ENTRIES};
pub use chunks::CarvedBuffer;
