//! What several integration tests share: a small deterministic random source, and running
//! a future on the engine's runtime.
// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

/// xorshift64: the same sequence from the same seed on every machine.
pub struct Rng(pub u64);

impl Rng {
    /// From `seed` spread over the bits (any seed, 0 included).
    pub fn seeded(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// `future`'s output, run on the engine's shared runtime.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    corepy_engine::runtime::runtime().block_on(future)
}
