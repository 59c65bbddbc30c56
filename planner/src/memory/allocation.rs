//! Where large buffers come from. Small buffers are ordinary heap allocations. Large ones
//! are anonymous mappings on transparent huge pages, and freed ones wait in a small pool for
//! the next buffer of the same size.
//!
//! Why: a fresh 200 MB output on 4 KiB pages costs more in page faults than the kernel that
//! fills it (`DESIGN.md`: ≈ 31 ms of faults for a 160 MB buffer, 2.5× the kernel), and
//! programs allocate the same sizes again and again (every call of a preprocessing step,
//! every chunk of fused outputs).
//! Huge pages make the faults 512× fewer; the pool removes them for repeated sizes. The pool
//! is bounded ([`POOL_BYTES`], [`POOL_ENTRIES`]) so that idle memory stays small.

use std::alloc::{alloc_zeroed, dealloc, Layout};

use parking_lot::Mutex;

/// Where corepy's own buffers start: a cache line (and an AVX-512 vector).
pub const ALIGNMENT: usize = 64;

/// Buffers from this size up are mapped on huge pages and pooled.
pub const LARGE: usize = 1 << 20;

/// A transparent huge page on x86-64 and aarch64 Linux.
const HUGE_PAGE: usize = 2 << 20;

/// The freed memory the pool keeps at most.
pub const POOL_BYTES: usize = 1 << 30;

/// The freed buffers the pool keeps at most.
pub const POOL_ENTRIES: usize = 128;

/// The pages a fresh mapping asks for.
///
/// Huge pages fault 512× less often and, on memory the host has backed before, fill ≈ 5×
/// faster than 4 KiB pages; but on a virtual machine whose host backs memory lazily, the
/// first fault on a huge page never touched before costs ≈ 10× more (measured here: 320 MB
/// in 2.6 s against 0.19 s on 4 KiB pages, then 0.035 s once backed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pages {
    /// Advised onto transparent huge pages (`MADV_HUGEPAGE`).
    Huge,
    /// The system's default pages.
    Base,
}

/// Memory corepy allocated: `capacity` bytes at `ptr`, of which a buffer uses a prefix.
/// Not freed on drop: its owner calls [`Allocation::free`].
pub struct Allocation {
    ptr: *mut u8,
    capacity: usize,
    mapped: bool,
}

// SAFETY: plain memory, owned by this value and freed once in `Drop`.
unsafe impl Send for Allocation {}
unsafe impl Sync for Allocation {}

impl Allocation {
    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> Allocation {
        if len < LARGE {
            return Allocation::heap(len);
        }
        match POOL.lock().take(mapped_size(len)) {
            Some(reused) => {
                // SAFETY: the pool's memory is a live mapping of `capacity` bytes.
                unsafe { std::ptr::write_bytes(reused.ptr, 0, len) };
                reused
            }
            None => Allocation::map_on(len, Pages::Huge),
        }
    }

    /// `len` bytes to overwrite: zeros, or an earlier buffer's bytes (never uninitialized
    /// memory). Every caller writes all `len` bytes before the buffer is read.
    pub fn for_overwrite(len: usize) -> Allocation {
        Allocation::for_overwrite_on(len, Pages::Huge)
    }

    /// [`Allocation::for_overwrite`], a fresh mapping advised onto `pages`.
    pub fn for_overwrite_on(len: usize, pages: Pages) -> Allocation {
        if len < LARGE {
            return Allocation::heap(len);
        }
        let reused = POOL.lock().take(mapped_size(len));
        reused.unwrap_or_else(|| Allocation::map_on(len, pages))
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    fn heap(len: usize) -> Allocation {
        let layout = heap_layout(len);
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Allocation {
            ptr,
            capacity: layout.size(),
            mapped: false,
        }
    }

    /// A fresh mapping (zeros, from the kernel), 2 MiB aligned, advised onto `pages`.
    #[cfg(unix)]
    fn map_on(len: usize, pages: Pages) -> Allocation {
        let capacity = mapped_size(len);
        // Map one huge page more, then unmap the unaligned head and the tail.
        let span = capacity + HUGE_PAGE;
        // SAFETY: an anonymous private mapping; the arguments are valid.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                span,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            std::alloc::handle_alloc_error(heap_layout(len));
        }
        let start = raw as usize;
        let aligned = start.next_multiple_of(HUGE_PAGE);
        // SAFETY: both ranges lie in the mapping made above and are page aligned.
        unsafe {
            if aligned > start {
                libc::munmap(raw, aligned - start);
            }
            let tail = start + span - (aligned + capacity);
            if tail > 0 {
                libc::munmap((aligned + capacity) as *mut libc::c_void, tail);
            }
            #[cfg(target_os = "linux")]
            if pages == Pages::Huge {
                libc::madvise(aligned as *mut libc::c_void, capacity, libc::MADV_HUGEPAGE);
            }
        }
        Allocation {
            ptr: aligned as *mut u8,
            capacity,
            mapped: true,
        }
    }

    #[cfg(not(unix))]
    fn map_on(len: usize, _pages: Pages) -> Allocation {
        Allocation::heap(len)
    }

    /// Gives the memory back: a mapping to the pool, heap memory to the allocator.
    pub fn free(self) {
        if self.mapped {
            POOL.lock().put(self);
        } else {
            self.release();
        }
    }

    fn release(self) {
        if self.mapped {
            #[cfg(unix)]
            // SAFETY: the mapping made in `map`, unmapped once (`self` is consumed).
            unsafe {
                libc::munmap(self.ptr as *mut libc::c_void, self.capacity);
            }
        } else {
            // SAFETY: allocated in `heap` with this layout (`self` is consumed).
            unsafe { dealloc(self.ptr, heap_layout(self.capacity)) }
        }
    }
}

/// An [`Allocation`] given back when dropped: the owner behind buffers that share it.
pub struct FreedOnDrop(Option<Allocation>);

impl FreedOnDrop {
    pub fn new(allocation: Allocation) -> FreedOnDrop {
        FreedOnDrop(Some(allocation))
    }

    pub fn ptr(&self) -> *mut u8 {
        self.0.as_ref().expect("taken only on drop").ptr()
    }
}

impl Drop for FreedOnDrop {
    fn drop(&mut self) {
        if let Some(allocation) = self.0.take() {
            allocation.free();
        }
    }
}

fn heap_layout(len: usize) -> Layout {
    Layout::from_size_align(len.max(1), ALIGNMENT).expect("size fits isize")
}

/// A mapping's size: whole huge pages.
fn mapped_size(len: usize) -> usize {
    len.next_multiple_of(HUGE_PAGE)
}

/// Freed mappings, newest last.
struct Pool {
    free: Vec<Allocation>,
    bytes: usize,
}

// SAFETY: see `Allocation`.
unsafe impl Send for Pool {}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    free: Vec::new(),
    bytes: 0,
});

impl Pool {
    fn take(&mut self, capacity: usize) -> Option<Allocation> {
        let at = self.free.iter().rposition(|a| a.capacity == capacity)?;
        self.bytes -= capacity;
        Some(self.free.remove(at))
    }

    fn put(&mut self, freed: Allocation) {
        if freed.capacity > POOL_BYTES {
            freed.release();
            return;
        }
        while self.free.len() >= POOL_ENTRIES || self.bytes + freed.capacity > POOL_BYTES {
            let oldest = self.free.remove(0);
            self.bytes -= oldest.capacity;
            oldest.release();
        }
        self.bytes += freed.capacity;
        self.free.push(freed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_are_reused_and_zeroed_on_request() {
        let len = LARGE * 3 + 5;
        let first = Allocation::for_overwrite(len);
        let at = first.ptr() as usize;
        assert_eq!(at % HUGE_PAGE, 0);
        // SAFETY: `len` bytes of the allocation.
        unsafe { std::ptr::write_bytes(first.ptr(), 7, len) };
        first.free();
        let again = Allocation::zeroed(len);
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(again.ptr(), len) };
        assert!(bytes.iter().all(|&b| b == 0));
        again.free();
        let small = Allocation::zeroed(100);
        assert_eq!(small.ptr() as usize % ALIGNMENT, 0);
        small.free();
    }

    #[test]
    fn the_pool_stays_bounded() {
        let many: Vec<Allocation> = (0..POOL_ENTRIES + 4)
            .map(|_| Allocation::for_overwrite(LARGE))
            .collect();
        many.into_iter().for_each(Allocation::free);
        let pool = POOL.lock();
        assert!(pool.free.len() <= POOL_ENTRIES);
        assert!(pool.bytes <= POOL_BYTES);
    }
}
