//! A folded partition's state as DataFusion's partial-aggregate batches: the grouping keys'
//! columns (if any), then each aggregate's state columns, one row per group.

use std::sync::Arc;

use corepy_codegen::aggregate::{moments_of, rows_of, value_bytes_of, AggregateState};
use corepy_codegen::groups::GroupTable;
use datafusion::arrow::array::{make_array, ArrayData, ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::buffer::{Buffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::Result;

use super::dictionary::Dictionary;
use super::plan::{FoldPlan, Source};

/// One cell: the element's little-endian bytes (the first `width` count), or NULL.
type Cell = Option<[u8; 16]>;

/// The single row of an ungrouped fold.
pub fn ungrouped_batch(
    plan: &FoldPlan,
    state: &AggregateState,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let columns = plan
        .columns
        .iter()
        .map(|c| array(c.field.data_type(), &[state_cell(state.slots(), c.source)]))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// The groups of a grouped fold, `batch_size` to a batch.
pub fn grouped_batches(
    plan: &FoldPlan,
    table: &GroupTable,
    dictionaries: &[Dictionary],
    schema: &SchemaRef,
    batch_size: usize,
) -> Result<Vec<RecordBatch>> {
    let groups: Vec<(u64, &[u64], &[u64])> = table.iter().collect();
    groups
        .chunks(batch_size.max(1))
        .map(|chunk| {
            let mut columns = Vec::with_capacity(plan.keys.len() + plan.columns.len());
            for (k, field) in plan.keys.iter().enumerate() {
                let words = chunk.iter().map(|(header, keys, _)| {
                    let null = header & (1 << (k + 1)) != 0;
                    (!null).then_some(keys[k])
                });
                columns.push(match plan.key_dictionaries[k] {
                    Some(d) => {
                        let ids: Vec<Option<u32>> = words.map(|w| w.map(|w| w as u32)).collect();
                        dictionaries[d].decode(&ids, field.data_type())?
                    }
                    None => {
                        let cells: Vec<Cell> =
                            words.map(|w| w.map(|w| widen(w.to_le_bytes()))).collect();
                        array(field.data_type(), &cells)?
                    }
                });
            }
            for c in &plan.columns {
                let cells: Vec<Cell> = chunk
                    .iter()
                    .map(|(_, _, slots)| state_cell(slots, c.source))
                    .collect();
                columns.push(array(c.field.data_type(), &cells)?);
            }
            Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
        })
        .collect()
}

fn widen(bytes: [u8; 8]) -> [u8; 16] {
    let mut wide = [0u8; 16];
    wide[..8].copy_from_slice(&bytes);
    wide
}

/// One state column's cell from an aggregate's slots.
fn state_cell(slots: &[u64], source: Source) -> Cell {
    match source {
        Source::Rows(i) => Some(widen(rows_of(slots, i).to_le_bytes())),
        Source::SeenRows(i) => {
            let rows = rows_of(slots, i);
            (rows > 0).then(|| widen(rows.to_le_bytes()))
        }
        Source::Value(i) => (rows_of(slots, i) > 0).then(|| value_bytes_of(slots, i)),
        Source::Mean(i) => Some(widen(moments_of(slots, i).0.to_le_bytes())),
        Source::SquaredDeviations(i) => Some(widen(moments_of(slots, i).1.to_le_bytes())),
        Source::DividedSum(i, scale) => (rows_of(slots, i) > 0).then(|| {
            let sum = f64::from_le_bytes(value_bytes_of(slots, i)[..8].try_into().expect("8"));
            widen((sum / 10f64.powi(i32::from(scale))).to_le_bytes())
        }),
    }
}

/// An array of `data_type` (a fixed-width type or Boolean) holding `cells`.
fn array(data_type: &DataType, cells: &[Cell]) -> Result<ArrayRef> {
    if *data_type == DataType::Boolean {
        let values = cells.iter().map(|c| c.map(|bytes| bytes[0] != 0));
        return Ok(Arc::new(values.collect::<BooleanArray>()));
    }
    let width = data_type.primitive_width().unwrap_or(8);
    let mut values = Vec::with_capacity(cells.len() * width);
    for cell in cells {
        values.extend_from_slice(&cell.unwrap_or([0; 16])[..width]);
    }
    let nulls = NullBuffer::from_iter(cells.iter().map(Option::is_some));
    let data = ArrayData::builder(data_type.clone())
        .len(cells.len())
        .add_buffer(Buffer::from_vec(values))
        .nulls((nulls.null_count() > 0).then_some(nulls))
        .build()?;
    Ok(make_array(data))
}
