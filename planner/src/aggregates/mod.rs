//! DataFusion aggregate functions with corepy's own grouped accumulators: the same name,
//! signature, state and answers (the same floating-point operations in the same order), laid
//! out for speed. The session registers them in place of DataFusion's.
//!
//! * [`GroupedCorr`] — `corr(y, x)`: DataFusion keeps each of its six running sums in a
//!   vector of its own and adds a row through a closure; here a group's sums sit together
//!   (one cache line a row instead of six) and the loop has no per-row indirection (H2O q9).

mod corr;

pub use corr::GroupedCorr;
