//! Dense group tables: a fold grouped by one integer column whose statistics bound it to
//! at most [`DENSE_KEYS`] values folds into a table laid out by key
//! ([`GroupTable::with_dense_keys`]), and keeps folding up to that many groups before it
//! goes back to DataFusion.
//!
//! H2O's `GROUP BY id6` meets 100 000 keys between 1 and 100 000 in every partition. A
//! hashed table past a few thousand groups scatters them over twice their memory, and the
//! fold measured slower than DataFusion's aggregation there; laid out by key, each group
//! sits at its key's place, neighbours beside it. The range comes from the input's
//! statistics (a Parquet footer's least and greatest values), exact or estimated: a key
//! outside it still folds correctly (see `codegen/src/groups.rs`), so a wrong estimate
//! costs time, never an answer.

use std::sync::Arc;

use corepy_codegen::groups::GroupTable;
use corepy_codegen::ir::Kernel;
use corepy_planner::fusion::StageOutput;
use corepy_planner::scalar::integer_value;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::stats::Precision;
use datafusion::common::ScalarValue;
use datafusion::execution::memory_pool::{MemoryLimit, MemoryPool};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};

use super::fallback::MAX_FOLDED_GROUPS;
use crate::jit::JitExec;

/// The widest key range a table is laid out by: 2^17 keys (12 MiB of slots for a key
/// and three sums).
pub const DENSE_KEYS: u64 = 1 << 17;

/// The range of key values a fold's table is laid out by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DenseKeys {
    /// The least value's key word (sign- or zero-extended to 64 bits, as the table holds it).
    pub least: u64,
    /// How many values, from the least to the greatest.
    pub range: u64,
}

impl DenseKeys {
    /// The range of the one grouping key `keys` has, when it is an integer column the
    /// stage passes on whose least and greatest values its input's statistics know, at
    /// most [`DENSE_KEYS`] apart.
    pub fn of(stage: &JitExec, keys: &[(Arc<dyn PhysicalExpr>, String)]) -> Option<DenseKeys> {
        let [(key, _)] = keys else {
            return None;
        };
        let column = key.downcast_ref::<Column>()?;
        let StageOutput::Pass(i) = stage.lowered().outputs.get(column.index())? else {
            return None;
        };
        let input = stage.stage_input();
        let signed = match input.schema().field(*i).data_type() {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => true,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => false,
            _ => return None,
        };
        let stats = StatisticsContext::new()
            .compute(input.as_ref(), &StatisticsArgs::new())
            .ok()?;
        let column = stats.column_statistics.get(*i)?;
        let bound = |p: &Precision<ScalarValue>| p.get_value().and_then(integer_value);
        let (least, greatest) = (bound(&column.min_value)?, bound(&column.max_value)?);
        let range = u64::try_from(greatest.checked_sub(least)?.checked_add(1)?).ok()?;
        if range == 0 || range > DENSE_KEYS {
            return None;
        }
        // The key word of the least value, as `corepy_codegen::groups::key_word` makes it.
        let least = match signed {
            true => i64::try_from(least).ok()? as u64,
            false => u64::try_from(least).ok()?,
        };
        Some(DenseKeys { least, range })
    }

    /// Groups a partition folds into a table laid out by this range before it goes back
    /// to DataFusion: the range's, or the hashed table's limit where that is more.
    pub fn group_limit(&self) -> usize {
        MAX_FOLDED_GROUPS.max(usize::try_from(self.range).unwrap_or(usize::MAX))
    }
}

impl DenseKeys {
    /// Bytes of a table laid out by this range for `kernel` (before it grows).
    pub fn bytes(&self, kernel: &Kernel) -> usize {
        let slots = usize::try_from(self.range)
            .unwrap_or(usize::MAX)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX);
        GroupTable::new(kernel).stride() * 8 * slots
    }

    /// Whether `partitions` tables laid out by this range for `kernel` take at most a
    /// quarter of `pool`: such a table cannot give memory back until its partition ends,
    /// where a hashed one gives its groups out early and DataFusion's aggregation spills,
    /// so under a tight limit it would starve the operators that can.
    pub fn fit(&self, kernel: &Kernel, pool: &dyn MemoryPool, partitions: usize) -> bool {
        match pool.memory_limit() {
            MemoryLimit::Finite(limit) => {
                self.bytes(kernel)
                    .saturating_mul(partitions)
                    .saturating_mul(4)
                    <= limit
            }
            MemoryLimit::Infinite | MemoryLimit::Unknown => true,
        }
    }
}

/// A new table for `kernel`, laid out by `dense` when given.
pub fn new_table(kernel: &Kernel, dense: Option<DenseKeys>) -> GroupTable {
    let table = GroupTable::new(kernel);
    match dense {
        Some(d) => table.with_dense_keys(d.least, d.range),
        None => table,
    }
}
