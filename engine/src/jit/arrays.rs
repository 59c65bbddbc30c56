//! Arrow arrays in and out of kernels: the buffers a kernel reads (bitmaps realigned to
//! bit 0 when an array is sliced) and the arrays built from what it wrote.

use corepy_codegen::abi::{bitmap_bytes, padded_rows, values_bytes, ColumnIn};
use corepy_codegen::ir::ScalarType;
use datafusion::arrow::array::{make_array, Array, ArrayData, ArrayRef};
use datafusion::arrow::buffer::{BooleanBuffer, Buffer, MutableBuffer, NullBuffer};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;

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

/// Zeroed buffers for one output, sized for whole chunks.
pub struct OutputBuffers {
    pub values: MutableBuffer,
    pub validity: MutableBuffer,
}

impl OutputBuffers {
    pub fn new(ty: ScalarType, rows: usize) -> Self {
        let padded = padded_rows(rows);
        OutputBuffers {
            values: MutableBuffer::from_len_zeroed(values_bytes(ty, padded)),
            validity: MutableBuffer::from_len_zeroed(bitmap_bytes(padded)),
        }
    }

    /// The array of the first `rows` elements, of Arrow type `data_type`.
    pub fn into_array(self, data_type: &DataType, rows: usize) -> Result<ArrayRef> {
        let nulls = NullBuffer::new(BooleanBuffer::new(self.validity.into(), 0, rows));
        let data = ArrayData::builder(data_type.clone())
            .len(rows)
            .add_buffer(self.values.into())
            .nulls((nulls.null_count() > 0).then_some(nulls))
            .build()?;
        Ok(make_array(data))
    }
}
