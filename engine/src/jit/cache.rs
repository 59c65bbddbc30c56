//! The kernel cache: compiled kernels keyed by their IR (which includes the input types),
//! bounded in size. An evicted kernel's machine code is freed as soon as no running query
//! holds it (the cache hands out `Arc`s; the last one dropped frees the module).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use corepy_codegen::ir::Kernel;
use corepy_codegen::jit::{compile, JitKernel};
use corepy_planner::fusion::NotFused;
use parking_lot::Mutex;

/// Kernels kept at most.
pub const CAPACITY: usize = 512;

/// A kernel's compiled code, or why it did not compile: filled once, by the first query
/// that asks; a second query asking meanwhile waits for that compile instead of repeating it.
type Slot = Arc<OnceLock<Result<Arc<JitKernel>, NotFused>>>;

struct Entry {
    slot: Slot,
    last_used: u64,
}

/// A bounded least-recently-used map from kernel IR to compiled code.
pub struct KernelCache {
    entries: Mutex<HashMap<Kernel, Entry>>,
    capacity: usize,
    clock: AtomicU64,
    compiles: AtomicU64,
}

/// The kernel a query got: compiled now (with its compile time) or found in the cache.
pub struct CachedKernel {
    pub kernel: Arc<JitKernel>,
    pub compiled_now: Option<Duration>,
}

impl KernelCache {
    pub fn new(capacity: usize) -> Self {
        KernelCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            clock: AtomicU64::new(0),
            compiles: AtomicU64::new(0),
        }
    }

    /// The compiled kernel for `kernel`, compiling it on a miss. The lock is held only to
    /// find or make the kernel's slot: compiles of different kernels run at the same time
    /// (each in a Cranelift module of its own), and two queries wanting the same kernel
    /// compile it once.
    pub fn get_or_compile(&self, kernel: &Kernel) -> Result<CachedKernel, NotFused> {
        let slot = self.slot(kernel);
        let mut compiled_now = false;
        let result = slot.get_or_init(|| {
            compiled_now = true;
            self.compiles.fetch_add(1, Ordering::Relaxed);
            compile(kernel)
                .map(Arc::new)
                .map_err(NotFused::CompileFailed)
        });
        let kernel = Arc::clone(result.as_ref().map_err(Clone::clone)?);
        Ok(CachedKernel {
            compiled_now: compiled_now.then(|| kernel.compile_time()),
            kernel,
        })
    }

    /// The slot of `kernel`, made (and the least recently used evicted) on a miss.
    fn slot(&self, kernel: &Kernel) -> Slot {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.entries.lock();
        if let Some(entry) = entries.get_mut(kernel) {
            entry.last_used = now;
            return Arc::clone(&entry.slot);
        }
        if entries.len() >= self.capacity {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        let slot = Slot::default();
        entries.insert(
            kernel.clone(),
            Entry {
                slot: Arc::clone(&slot),
                last_used: now,
            },
        );
        slot
    }

    /// Kernels compiled since the process started.
    pub fn compiles(&self) -> u64 {
        self.compiles.load(Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The process-wide cache.
pub fn kernel_cache() -> &'static KernelCache {
    static CACHE: LazyLock<KernelCache> = LazyLock::new(|| KernelCache::new(CAPACITY));
    &CACHE
}

#[cfg(test)]
mod tests {
    use super::*;
    use corepy_codegen::ir::{Literal, Op, ScalarType};

    fn kernel(constant: i64) -> Kernel {
        let mut k = Kernel::rows();
        let a = k.input(ScalarType::I64);
        let c = k.push(Op::Const(Literal::Int(constant as i128)), ScalarType::I64);
        let sum = k.push(
            Op::Binary(corepy_codegen::ir::BinaryOp::Add, a, c),
            ScalarType::I64,
        );
        k.outputs.push(sum);
        k
    }

    #[test]
    fn a_second_request_compiles_nothing_and_the_cache_stays_bounded() {
        let cache = KernelCache::new(4);
        assert!(cache
            .get_or_compile(&kernel(1))
            .unwrap()
            .compiled_now
            .is_some());
        assert!(cache
            .get_or_compile(&kernel(1))
            .unwrap()
            .compiled_now
            .is_none());
        assert_eq!(cache.compiles(), 1);
        for c in 2..20 {
            cache.get_or_compile(&kernel(c)).unwrap();
        }
        assert_eq!(cache.len(), 4);
        // The most recent ones stayed; the first was evicted and compiles again.
        assert!(cache
            .get_or_compile(&kernel(19))
            .unwrap()
            .compiled_now
            .is_none());
        assert!(cache
            .get_or_compile(&kernel(1))
            .unwrap()
            .compiled_now
            .is_some());
    }
}
