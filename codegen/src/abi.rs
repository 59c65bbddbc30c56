//! The buffers a kernel reads and writes, shared by every renderer.
//!
//! Inputs and outputs are Arrow buffers: fixed-width values packed densely, booleans and
//! validity as little-endian bitmaps. Every bitmap handed to a kernel starts at bit 0 (the
//! caller realigns sliced arrays). Renderers work a *chunk* of 64 rows at a time — one
//! validity word — so output buffers are sized for [`padded_rows`] rows and zeroed.

use crate::ir::{Kernel, ScalarType, ValueId};

/// Rows per chunk: one 64-bit validity word.
pub const CHUNK: usize = 64;

/// `rows` rounded up to whole chunks: how many rows an output buffer must hold.
pub fn padded_rows(rows: usize) -> usize {
    rows.div_ceil(CHUNK) * CHUNK
}

/// Bytes a values buffer of `rows` elements of `ty` takes (bit-packed for booleans).
pub fn values_bytes(ty: ScalarType, rows: usize) -> usize {
    match ty {
        ScalarType::Bool => rows.div_ceil(8),
        _ => rows * ty.byte_width(),
    }
}

/// Bytes of a bitmap of `rows` bits.
pub fn bitmap_bytes(rows: usize) -> usize {
    rows.div_ceil(8)
}

/// One input array.
#[derive(Debug, Clone, Copy)]
pub struct ColumnIn<'a> {
    pub values: &'a [u8],
    /// `None`: no element is NULL.
    pub validity: Option<&'a [u8]>,
}

/// One output array: a values buffer for [`padded_rows`] elements and a zeroed validity
/// bitmap. The values may be uninitialized memory — renderers only write them — except for
/// boolean outputs, whose bits are OR-ed in and so must start zeroed.
#[derive(Debug)]
pub struct ColumnOut<'a> {
    values: *mut u8,
    values_len: usize,
    pub validity: &'a mut [u8],
    _values: std::marker::PhantomData<&'a mut [u8]>,
}

impl<'a> ColumnOut<'a> {
    pub fn new(values: &'a mut [u8], validity: &'a mut [u8]) -> Self {
        ColumnOut {
            values: values.as_mut_ptr(),
            values_len: values.len(),
            validity,
            _values: std::marker::PhantomData,
        }
    }

    /// An output whose values buffer may be uninitialized (it saves zeroing memory that
    /// the kernel overwrites anyway).
    ///
    /// # Safety
    /// `values` must be valid for writes of `values_len` bytes during `'a`, and nothing else
    /// may access them meanwhile.
    pub unsafe fn from_raw(values: *mut u8, values_len: usize, validity: &'a mut [u8]) -> Self {
        ColumnOut {
            values,
            values_len,
            validity,
            _values: std::marker::PhantomData,
        }
    }

    pub fn values_len(&self) -> usize {
        self.values_len
    }

    /// Where renderers write the values.
    pub fn values_ptr(&mut self) -> *mut u8 {
        self.values
    }

    /// Writes `bytes` at byte `offset` of the values (bounds-checked).
    pub fn write_values(&mut self, offset: usize, bytes: &[u8]) {
        assert!(
            offset + bytes.len() <= self.values_len,
            "output write out of bounds"
        );
        // SAFETY: in bounds (checked above) of a buffer valid for writes (constructors).
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.values.add(offset), bytes.len())
        };
    }

    /// Sets bit `i` of a boolean output's (zeroed) values.
    pub fn set_value_bit(&mut self, i: usize) {
        assert!(i / 8 < self.values_len, "output write out of bounds");
        // SAFETY: in bounds; boolean outputs are zeroed, so reading the byte is defined.
        unsafe { *self.values.add(i / 8) |= 1 << (i % 8) };
    }
}

/// What went wrong at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    DivideByZero,
    /// An integer result does not fit (`i64::MIN / -1`) or a cast's value is out of range.
    Overflow,
    /// The square root of a negative number.
    NegativeSqrt,
}

/// A run-time error: which node failed, on which row of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub node: ValueId,
    pub row: usize,
}

/// Why a kernel could not run or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The data raised an error (as DataFusion would).
    Failed(Failure),
    /// The buffers do not match the kernel (a caller's bug, reported instead of reading or
    /// writing out of bounds).
    BadBuffers(String),
}

/// Checks that the buffers have the shapes the kernel needs for `rows` rows.
pub fn check_buffers(
    kernel: &Kernel,
    inputs: &[ColumnIn<'_>],
    rows: usize,
    outputs: &[ColumnOut<'_>],
    selection: Option<&[u8]>,
) -> Result<(), RunError> {
    let bad = |m: String| Err(RunError::BadBuffers(m));
    // Columns are the rows of a batch, one after another: a kernel over another domain,
    // or reading a strided input, would be run wrongly here, so it is refused.
    if !kernel.domain.is_rows() {
        return bad(format!(
            "a kernel over the domain {:?} cannot run over columns of rows",
            kernel.domain.dims
        ));
    }
    if let Some(i) = kernel
        .inputs
        .iter()
        .position(|input| input.layout != crate::ir::Layout::Contiguous)
    {
        return bad(format!(
            "input {i} is strided; columns of rows are contiguous"
        ));
    }
    if inputs.len() != kernel.inputs.len() {
        return bad(format!(
            "{} inputs for {} declared",
            inputs.len(),
            kernel.inputs.len()
        ));
    }
    for (i, (column, decl)) in inputs.iter().zip(&kernel.inputs).enumerate() {
        if column.values.len() < values_bytes(decl.ty, rows) {
            return bad(format!(
                "input {i}: values buffer too short for {rows} rows"
            ));
        }
        if column
            .validity
            .is_some_and(|v| v.len() < bitmap_bytes(rows))
        {
            return bad(format!(
                "input {i}: validity bitmap too short for {rows} rows"
            ));
        }
    }
    if outputs.len() != kernel.outputs.len() {
        return bad(format!(
            "{} outputs for {} declared",
            outputs.len(),
            kernel.outputs.len()
        ));
    }
    let padded = padded_rows(rows);
    for (i, (column, id)) in outputs.iter().zip(&kernel.outputs).enumerate() {
        if column.values_len() < values_bytes(kernel.ty(*id), padded)
            || column.validity.len() < bitmap_bytes(padded)
        {
            return bad(format!("output {i}: buffers must hold {padded} rows"));
        }
    }
    match (kernel.selection, selection) {
        (Some(_), Some(bits)) if bits.len() < bitmap_bytes(padded) => {
            bad(format!("the selection bitmap must hold {padded} rows"))
        }
        // An aggregating kernel folds the kept rows and writes no selection.
        (Some(_), None) if kernel.aggregates.is_empty() && kernel.group_keys.is_empty() => {
            bad("the kernel filters: a selection bitmap is needed".into())
        }
        _ => Ok(()),
    }
}

/// Reads bit `i` of a bitmap.
pub fn get_bit(bits: &[u8], i: usize) -> bool {
    bits[i / 8] >> (i % 8) & 1 == 1
}

/// Sets bit `i` of a bitmap.
pub fn set_bit(bits: &mut [u8], i: usize) {
    bits[i / 8] |= 1 << (i % 8);
}
