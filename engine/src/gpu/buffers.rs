//! The device buffers of one run, planned from the kernel alone: which parameter gets which
//! buffer, of what size and with what in it. Planning needs no GPU, so the tests check on
//! any machine that every parameter of every rendered entry has its buffer (the launch code
//! and the renderer agree), and `runtime` only allocates and copies what is planned here.

use corepy_codegen::abi::{bitmap_bytes, padded_rows, values_bytes};
use corepy_codegen::ir::Kernel;
use corepy_codegen::ptx::{slices, EntrySignature, Param, BLOCK};
use corepy_codegen::tensor_abi::{element_bytes, extents, output_shape, reduced_axes};

/// What a planned buffer starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// The bytes of the run's input `i` (values, or its validity bitmap), then zeros.
    InputValues(usize),
    InputValidity(usize),
    /// Zeros (outputs, bitmaps, counters).
    Zeroed,
    /// `u64::MAX`: the failure word no row has lowered.
    NoFailure,
}

/// One buffer: the parameter it is passed as, its size in bytes, what it starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub param: Param,
    pub bytes: usize,
    pub contents: Contents,
}

/// Rows a batch's device buffers hold: whole 64-row words, at least one.
pub fn device_rows(rows: usize) -> usize {
    padded_rows(rows).max(64)
}

/// The buffers of a row kernel over `rows` rows; `has_validity[i]`: whether input `i` has a
/// validity bitmap (an input without one is passed as a null pointer). The tile offsets of a
/// filter are made between its passes and are not planned here.
pub fn row_buffers(kernel: &Kernel, rows: usize, has_validity: &[bool]) -> Vec<Planned> {
    let padded = device_rows(rows);
    let tiles = rows.div_ceil(BLOCK as usize).max(1);
    let planned = |param, bytes: usize, contents| Planned {
        param,
        bytes: bytes.max(8),
        contents,
    };
    let mut plan = Vec::new();
    for (i, input) in kernel.inputs.iter().enumerate() {
        let bytes = values_bytes(input.ty, padded);
        plan.push(planned(
            Param::InputValues(i),
            bytes,
            Contents::InputValues(i),
        ));
        if has_validity.get(i).copied().unwrap_or(false) {
            let bytes = bitmap_bytes(padded);
            plan.push(planned(
                Param::InputValidity(i),
                bytes,
                Contents::InputValidity(i),
            ));
        }
    }
    for (o, id) in kernel.outputs.iter().enumerate() {
        let bytes = values_bytes(kernel.ty(*id), padded);
        plan.push(planned(Param::OutputValues(o), bytes, Contents::Zeroed));
        plan.push(planned(
            Param::OutputValidity(o),
            bitmap_bytes(padded),
            Contents::Zeroed,
        ));
    }
    if kernel.selection.is_some() {
        plan.push(planned(
            Param::Selection,
            bitmap_bytes(padded),
            Contents::Zeroed,
        ));
        plan.push(planned(Param::TileCounts, tiles * 4, Contents::Zeroed));
    }
    plan.push(planned(Param::Failure, 8, Contents::NoFailure));
    plan
}

/// Whether the kernel's outputs are reductions (over any axes, none included), as the
/// renderer decides.
fn reduces(kernel: &Kernel) -> bool {
    kernel
        .outputs
        .iter()
        .any(|o| matches!(kernel.node(*o).op, corepy_codegen::ir::Op::Reduce { .. }))
}

/// The (output element, slice) work items of a tensor reduction (0 without one), and the
/// output elements.
pub fn tensor_work(kernel: &Kernel) -> (usize, usize) {
    let n: usize = output_shape(kernel).iter().product();
    let dims = extents(kernel);
    if !reduces(kernel) {
        return (0, n);
    }
    let reduced = reduced_axes(kernel);
    let reduced_count: usize = reduced.iter().map(|&a| dims[a]).product();
    (n * slices(n, reduced_count), n)
}

/// The buffers of a tensor kernel whose inputs are `input_bytes` long (copied whole).
pub fn tensor_buffers(kernel: &Kernel, input_bytes: &[usize]) -> Vec<Planned> {
    let (work, n) = tensor_work(kernel);
    let mut plan = Vec::new();
    for (i, bytes) in input_bytes.iter().enumerate() {
        plan.push(Planned {
            param: Param::TensorInput(i),
            bytes: (*bytes).max(8),
            contents: Contents::InputValues(i),
        });
    }
    for (j, id) in kernel.outputs.iter().enumerate() {
        let zeroed = |param, bytes: usize| Planned {
            param,
            bytes: bytes.max(8),
            contents: Contents::Zeroed,
        };
        plan.push(zeroed(
            Param::TensorOutput(j),
            n * element_bytes(kernel.ty(*id)),
        ));
        // A reduction's partials, even over no output element (its entries take them).
        if reduces(kernel) {
            plan.push(zeroed(Param::Partials(j), work * 8));
            plan.push(zeroed(Param::PartialPositions(j), work * 8));
        }
    }
    plan
}

/// The blocks' work units of one tensor entry: (element, slice) items for a reduction's
/// slices, tiles of output elements for its finish, tiles of the domain otherwise.
pub fn tensor_units(kernel: &Kernel, signature: &EntrySignature) -> usize {
    let (work, n) = tensor_work(kernel);
    let reads_inputs = signature
        .params
        .iter()
        .any(|p| matches!(p, Param::TensorInput(_)));
    let has_partials = signature
        .params
        .iter()
        .any(|p| matches!(p, Param::Partials(_)));
    let total: usize = extents(kernel).iter().product();
    match (reads_inputs, has_partials) {
        (true, true) => work,
        (false, true) => n.div_ceil(BLOCK as usize),
        _ => total.div_ceil(BLOCK as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corepy_codegen::ptx::render;
    use corepy_codegen::testing::{random_kernel, random_tensor_kernel, Rng};

    /// Every parameter of every entry the renderer declares has a planned buffer (or is the
    /// row count, a filter's offsets made between passes, or a validity bitmap the input
    /// does not have, passed as null), at least as large as the kernel touches.
    #[test]
    fn every_rendered_parameter_has_its_buffer() {
        for seed in 0..400 {
            let mut rng = Rng::new(seed);
            let depth = 1 + rng.below(4);
            let kernel = random_kernel(&mut rng, depth);
            let module = render(&kernel, "k").expect("row kernels render");
            let rows = rng.pick(&[0, 1, 100, 5000]);
            let validity: Vec<bool> = kernel.inputs.iter().map(|_| rng.chance(50)).collect();
            let plan = row_buffers(&kernel, rows, &validity);
            for signature in &module.entries {
                for p in &signature.params {
                    let found = plan.iter().find(|b| b.param == *p);
                    match p {
                        Param::Rows | Param::TileOffsets => assert!(found.is_none()),
                        Param::InputValidity(i) if !validity[*i] => assert!(found.is_none()),
                        _ => assert!(found.is_some(), "seed {seed}: no buffer for {p:?}"),
                    }
                }
            }
            for b in &plan {
                assert!(
                    module.entries.iter().any(|s| s.params.contains(&b.param)),
                    "seed {seed}: {:?} is planned but no entry takes it",
                    b.param
                );
            }
        }
        for seed in 0..300 {
            let mut rng = Rng::new(seed);
            let (kernel, buffers) = random_tensor_kernel(&mut rng, seed.is_multiple_of(3));
            let Ok(module) = render(&kernel, "t") else {
                continue;
            };
            let lens: Vec<usize> = buffers.iter().map(|(b, _)| b.len()).collect();
            let plan = tensor_buffers(&kernel, &lens);
            for signature in &module.entries {
                for p in &signature.params {
                    assert!(
                        plan.iter().any(|b| b.param == *p),
                        "seed {seed}: no buffer for {p:?}"
                    );
                }
                assert!(
                    tensor_units(&kernel, signature)
                        <= tensor_work(&kernel)
                            .0
                            .max(extents(&kernel).iter().product::<usize>())
                );
            }
        }
    }

    #[test]
    fn sizes_cover_the_padded_rows() {
        let mut k = Kernel::rows();
        let x = k.input(corepy_codegen::ir::ScalarType::F64);
        k.outputs.push(x);
        let plan = row_buffers(&k, 65, &[true]);
        let bytes = |p: Param| plan.iter().find(|b| b.param == p).expect("planned").bytes;
        assert_eq!(bytes(Param::InputValues(0)), 128 * 8);
        assert_eq!(bytes(Param::InputValidity(0)), 16);
        assert_eq!(bytes(Param::OutputValues(0)), 128 * 8);
        assert_eq!(bytes(Param::Failure), 8);
    }
}
