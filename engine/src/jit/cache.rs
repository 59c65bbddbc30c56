//! The kernel cache: compiled kernels keyed by their IR (which includes the input types),
//! bounded in size. An evicted kernel's machine code is freed as soon as no running query
//! holds it (the cache hands out `Arc`s; the last one dropped frees the module).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use corepy_codegen::ir::Kernel;
use corepy_codegen::jit::{compile, JitKernel};
use parking_lot::Mutex;

/// Kernels kept at most.
pub const CAPACITY: usize = 512;

struct Entry {
    kernel: Arc<JitKernel>,
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

    /// The compiled kernel for `kernel`, compiling it on a miss. Compilation runs under
    /// the lock: Cranelift modules are not `Sync`, and two queries wanting the same kernel
    /// should compile it once.
    pub fn get_or_compile(&self, kernel: &Kernel) -> Result<CachedKernel, String> {
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.entries.lock();
        if let Some(entry) = entries.get_mut(kernel) {
            entry.last_used = now;
            return Ok(CachedKernel {
                kernel: Arc::clone(&entry.kernel),
                compiled_now: None,
            });
        }
        let compiled = Arc::new(compile(kernel)?);
        self.compiles.fetch_add(1, Ordering::Relaxed);
        if entries.len() >= self.capacity {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            kernel.clone(),
            Entry {
                kernel: Arc::clone(&compiled),
                last_used: now,
            },
        );
        Ok(CachedKernel {
            compiled_now: Some(compiled.compile_time()),
            kernel: compiled,
        })
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
