//! Tensor data: an immutable buffer of elements and how a tensor lays itself out in it.

use std::any::Any;
use std::sync::Arc;

use super::dtype::DType;
pub use crate::memory::ALIGNMENT;
use crate::memory::{Allocation, FreedOnDrop};

/// Immutable bytes with an owner that keeps them alive: memory corepy allocated (64-byte
/// aligned) or memory of another library (a NumPy array, a DLPack tensor) read in place.
#[derive(Clone)]
pub struct Buffer {
    ptr: *const u8,
    len: usize,
    _owner: Arc<dyn Any + Send + Sync>,
}

// SAFETY: the bytes are never written through a `Buffer` (only while a fresh allocation is
// filled, before it is shared), and the owner keeps them alive.
unsafe impl Send for Buffer {}
unsafe impl Sync for Buffer {}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buffer({} bytes at {:p})", self.len, self.ptr)
    }
}

impl Buffer {
    /// `len` zero bytes, 64-byte aligned, and a mutable view of them to fill before the
    /// buffer is shared.
    pub fn zeroed(len: usize) -> (Buffer, BufferWriter) {
        Buffer::own(Allocation::zeroed(len), len)
    }

    /// `len` bytes that the writer will overwrite, all of them, before the buffer is read:
    /// zeros or an earlier buffer's bytes (large outputs reuse freed memory).
    pub fn for_overwrite(len: usize) -> (Buffer, BufferWriter) {
        Buffer::own(Allocation::for_overwrite(len), len)
    }

    fn own(allocation: Allocation, len: usize) -> (Buffer, BufferWriter) {
        let ptr = allocation.ptr();
        let owner = Arc::new(FreedOnDrop::new(allocation));
        let writer = BufferWriter {
            ptr,
            len,
            _owner: owner.clone(),
        };
        (
            Buffer {
                ptr,
                len,
                _owner: owner,
            },
            writer,
        )
    }

    /// A copy of `bytes` in corepy's own aligned memory.
    pub fn copy_of(bytes: &[u8]) -> Buffer {
        let (buffer, mut writer) = Buffer::for_overwrite(bytes.len());
        writer.as_mut_slice().copy_from_slice(bytes);
        buffer
    }

    /// Memory of another library, read in place for as long as `owner` lives.
    ///
    /// # Safety
    /// `ptr` must be valid for reads of `len` bytes while `owner` is alive.
    pub unsafe fn foreign(ptr: *const u8, len: usize, owner: Arc<dyn Any + Send + Sync>) -> Buffer {
        Buffer {
            ptr,
            len,
            _owner: owner,
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: valid for `len` bytes while the owner lives (constructors).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn address(&self) -> usize {
        self.ptr as usize
    }
}

/// Write access to a fresh buffer, for the kernel or copy that fills it.
pub struct BufferWriter {
    ptr: *mut u8,
    len: usize,
    _owner: Arc<FreedOnDrop>,
}

// SAFETY: one writer per fresh buffer; the buffer is not read until the writer is done.
unsafe impl Send for BufferWriter {}

impl BufferWriter {
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: the allocation holds `len` bytes and this writer is its only writer.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// A realized tensor: a buffer, and the tensor's shape, strides (in elements, may be
/// negative or 0) and offset (the element index of index zero) in it.
#[derive(Debug, Clone)]
pub struct TensorData {
    pub buffer: Buffer,
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub strides: Vec<i64>,
    pub offset: usize,
}

impl TensorData {
    /// A dense row-major tensor over `buffer`.
    pub fn dense(buffer: Buffer, dtype: DType, shape: Vec<usize>) -> TensorData {
        let strides = corepy_codegen::tensor_abi::row_major_strides(&shape);
        TensorData {
            buffer,
            dtype,
            shape,
            strides,
            offset: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the elements are dense and row-major from the offset on.
    pub fn is_contiguous(&self) -> bool {
        super::view::is_row_major(&self.shape, &self.strides)
    }
}
