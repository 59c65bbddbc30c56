//! Arrow arrays in and out of kernels: the buffers a kernel reads (bitmaps realigned to
//! bit 0 when an array is sliced) and the arrays built from what it wrote.

use corepy_codegen::abi::{bitmap_bytes, padded_rows, values_bytes, ColumnIn, ColumnOut};
use corepy_codegen::ir::ScalarType;
use std::sync::Arc;

use corepy_planner::fusion::StageInput;
use corepy_planner::memory::chunks::CARVED_FROM;
use corepy_planner::memory::CarvedBuffer;
use datafusion::arrow::array::{make_array, Array, ArrayData, ArrayRef, RecordBatch};
use datafusion::arrow::buffer::{BooleanBuffer, Buffer, MutableBuffer, NullBuffer};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};

/// The array a kernel input reads from `batch`: a column as it is, or the result of a
/// test on a string column.
pub fn stage_input(batch: &RecordBatch, input: &StageInput) -> Result<ArrayRef> {
    match input {
        StageInput::Column(i) => Ok(Arc::clone(batch.column(*i))),
        StageInput::Tested(i, test) => test
            .evaluate(batch.column(*i).as_ref())
            .map(|tested| Arc::new(tested) as ArrayRef)
            .map_err(DataFusionError::Internal),
    }
}

/// The buffers of one input array, starting at its first element.
pub struct InputBuffers {
    values: Buffer,
    validity: Option<Buffer>,
}

impl InputBuffers {
    pub fn new(array: &ArrayRef, ty: ScalarType) -> Self {
        let data = array.to_data();
        let (offset, len) = (data.offset(), data.len());
        let values = if ty == ScalarType::Bool {
            BooleanBuffer::new(data.buffers()[0].clone(), offset, len).sliced()
        } else {
            let w = ty.byte_width();
            data.buffers()[0].slice_with_length(offset * w, len * w)
        };
        let validity = data
            .nulls()
            .filter(|n| n.null_count() > 0)
            .map(|n| n.inner().sliced());
        InputBuffers { values, validity }
    }

    pub fn column(&self) -> ColumnIn<'_> {
        ColumnIn {
            values: self.values.as_slice(),
            validity: self.validity.as_ref().map(|v| v.as_slice()),
        }
    }
}

/// The buffers of one output, sized for whole chunks. The values are not zeroed (the
/// kernel writes every element it reports), except a boolean output's bits. Values of
/// [`CARVED_FROM`] bytes and more are carved from huge-page chunks (`planner::memory`):
/// from the heap, a fresh output per batch costs about as much in page faults as the
/// kernel that fills it.
pub struct OutputBuffers {
    values: Values,
    validity: MutableBuffer,
    ty: ScalarType,
}

enum Values {
    Heap(MutableBuffer),
    Carved(CarvedBuffer),
}

impl OutputBuffers {
    pub fn new(ty: ScalarType, rows: usize) -> Self {
        let padded = padded_rows(rows);
        let bytes = values_bytes(ty, padded);
        let values = if ty == ScalarType::Bool {
            Values::Heap(MutableBuffer::from_len_zeroed(bytes))
        } else if bytes >= CARVED_FROM {
            Values::Carved(CarvedBuffer::new(bytes))
        } else {
            Values::Heap(MutableBuffer::with_capacity(bytes))
        };
        OutputBuffers {
            values,
            validity: MutableBuffer::from_len_zeroed(bitmap_bytes(padded)),
            ty,
        }
    }

    /// The kernel's view of these buffers.
    pub fn column(&mut self) -> ColumnOut<'_> {
        let (values, capacity) = match &mut self.values {
            Values::Heap(buffer) => (buffer.as_mut_ptr(), buffer.capacity()),
            Values::Carved(buffer) => (buffer.as_mut_ptr(), buffer.capacity()),
        };
        // SAFETY: the buffer holds `capacity` bytes (at least the bytes asked for in `new`),
        // and the returned value borrows `self` mutably, so nothing else touches them while
        // it lives.
        unsafe { ColumnOut::from_raw(values, capacity, self.validity.as_slice_mut()) }
    }

    /// The array of the first `rows` elements (all written by the kernel), of Arrow type
    /// `data_type`.
    pub fn into_array(self, data_type: &DataType, rows: usize) -> Result<ArrayRef> {
        let written = values_bytes(self.ty, rows);
        let values: Buffer = match self.values {
            // A boolean output's bits were zeroed: the whole buffer is its value.
            Values::Heap(buffer) if self.ty == ScalarType::Bool => buffer.into(),
            Values::Heap(mut buffer) => {
                // SAFETY: the kernel wrote every element before `rows` (renderers write
                // each row they report, NULL or not), within the capacity.
                unsafe { buffer.set_len(written) };
                buffer.into()
            }
            // SAFETY: as above (booleans are never carved).
            Values::Carved(buffer) => unsafe { buffer.into_buffer(written) },
        };
        let nulls = NullBuffer::new(BooleanBuffer::new(self.validity.into(), 0, rows));
        let data = ArrayData::builder(data_type.clone())
            .len(rows)
            .add_buffer(values)
            .nulls((nulls.null_count() > 0).then_some(nulls))
            .build()?;
        Ok(make_array(data))
    }
}
