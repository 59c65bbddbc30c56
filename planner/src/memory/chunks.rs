//! Arrow buffers carved from per-thread chunks of pooled memory.
//!
//! Why: a fused stage writes one output column per batch — 64 KiB for 8 Ki f64 rows —
//! and a query over 2e7 rows writes 2 440 of them. From the heap, each is fresh memory
//! often enough (the allocator gives freed memory back to the system between queries) that
//! page faults cost half as much as the kernel that fills them (≈ 17 ms of a 51 ms query,
//! 2e7 rows, 2 cores). Carved from chunks, a freed chunk goes to the pool of
//! [`super::allocation`], and the next query reuses it without faulting at all; and
//! carving is a pointer bump where the heap took ≈ 5% of the query in `malloc` and `free`.
//!
//! Chunks are on the system's default pages, not huge pages: on this project's virtual
//! machines a huge page the host has not backed yet costs ≈ 10× more on its first fault
//! (see [`Pages`]), and with the pool the faults are paid once either way.
//!
//! Each buffer holds its chunk (an `Arc`), so a chunk returns to the pool when the last
//! buffer carved from it is dropped; a thread's current chunk is also held until it is
//! full. So a small buffer kept long would keep its whole chunk: buffers under
//! [`CARVED_FROM`] are better left to the heap, and one over [`CARVED_UP_TO`] gets an
//! allocation of its own.

use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::Arc;

use datafusion::arrow::buffer::Buffer;

use super::allocation::{Allocation, FreedOnDrop, Pages, ALIGNMENT};

/// The size of a chunk.
pub const CHUNK: usize = 2 << 20;

/// The smallest buffer worth carving: 2 Ki f64 values. Smaller ones fault little on the
/// heap, and would keep a whole chunk alive.
pub const CARVED_FROM: usize = 16 << 10;

/// The largest buffer carved from a chunk; larger ones get their own allocation (a chunk
/// would be mostly wasted on them).
pub const CARVED_UP_TO: usize = CHUNK / 4;

/// Memory some buffers were carved from, given back when the last of them is dropped.
type Chunk = FreedOnDrop;

/// This thread's chunk and how much of it is taken.
struct Current {
    chunk: Arc<Chunk>,
    used: usize,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// `capacity` bytes to write, then to hand to Arrow as a [`Buffer`]. Their contents are
/// zeros or an earlier buffer's bytes (never uninitialized memory): the writer writes
/// every byte it later reports.
pub struct CarvedBuffer {
    ptr: NonNull<u8>,
    capacity: usize,
    owner: Arc<Chunk>,
}

// SAFETY: the bytes belong to this buffer alone until `into_buffer` shares them, and its
// owner keeps them alive.
unsafe impl Send for CarvedBuffer {}

impl CarvedBuffer {
    /// `capacity` bytes, 64-byte aligned: carved from this thread's chunk, or (over
    /// [`CARVED_UP_TO`]) an allocation of their own.
    pub fn new(capacity: usize) -> CarvedBuffer {
        let capacity = capacity.max(1);
        if capacity > CARVED_UP_TO {
            let allocation = Allocation::for_overwrite_on(capacity, Pages::Base);
            let ptr = allocation.ptr();
            return CarvedBuffer::at(ptr, capacity, Arc::new(FreedOnDrop::new(allocation)));
        }
        CURRENT.with_borrow_mut(|current| {
            let fits = current.as_ref().is_some_and(|c| c.used + capacity <= CHUNK);
            if !fits {
                let allocation = Allocation::for_overwrite_on(CHUNK, Pages::Base);
                *current = Some(Current {
                    chunk: Arc::new(FreedOnDrop::new(allocation)),
                    used: 0,
                });
            }
            let c = current
                .as_mut()
                .expect("a chunk with room was just ensured");
            // SAFETY: `used + capacity <= CHUNK`, within the chunk's allocation.
            let ptr = unsafe { c.chunk.ptr().add(c.used) };
            c.used = (c.used + capacity).next_multiple_of(ALIGNMENT);
            CarvedBuffer::at(ptr, capacity, Arc::clone(&c.chunk))
        })
    }

    fn at(ptr: *mut u8, capacity: usize, owner: Arc<Chunk>) -> CarvedBuffer {
        let ptr = NonNull::new(ptr).expect("allocations are never null");
        CarvedBuffer {
            ptr,
            capacity,
            owner,
        }
    }

    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The first `len` bytes as an Arrow buffer, which keeps the chunk alive.
    ///
    /// # Safety
    /// The caller has written those `len` bytes (at most the capacity).
    pub unsafe fn into_buffer(self, len: usize) -> Buffer {
        assert!(
            len <= self.capacity,
            "{len} bytes of a {}-byte buffer",
            self.capacity
        );
        // SAFETY: `len` bytes at `ptr` lie in the chunk, which the owner keeps alive for
        // as long as the buffer lives; the caller wrote them.
        unsafe { Buffer::from_custom_allocation(self.ptr, len, self.owner) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(capacity: usize, byte: u8) -> Buffer {
        let mut carved = CarvedBuffer::new(capacity);
        // SAFETY: `capacity` bytes of the buffer.
        unsafe {
            std::ptr::write_bytes(carved.as_mut_ptr(), byte, capacity);
            carved.into_buffer(capacity)
        }
    }

    #[test]
    fn buffers_of_one_chunk_are_aligned_and_do_not_overlap() {
        let buffers: Vec<Buffer> = (0..200u8).map(|i| filled(65_536 + 8, i)).collect();
        for (i, b) in buffers.iter().enumerate() {
            assert_eq!(b.as_ptr() as usize % ALIGNMENT, 0);
            assert!(
                b.as_slice().iter().all(|&x| x == i as u8),
                "buffer {i} overwritten"
            );
        }
    }

    #[test]
    fn a_buffer_keeps_its_chunk_after_the_others_are_dropped() {
        let kept = filled(1000, 7);
        let others: Vec<Buffer> = (0..300).map(|_| filled(65_536, 9)).collect();
        drop(others);
        let more: Vec<Buffer> = (0..300).map(|_| filled(65_536, 3)).collect();
        assert!(kept.as_slice().iter().all(|&x| x == 7));
        drop(more);
    }

    #[test]
    fn large_buffers_get_their_own_memory() {
        let big = filled(CARVED_UP_TO + 1, 5);
        assert_eq!(big.len(), CARVED_UP_TO + 1);
        assert!(big.as_slice().iter().all(|&x| x == 5));
        let empty = filled(0, 0);
        assert_eq!(empty.len(), 0);
    }
}
