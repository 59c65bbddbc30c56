//! Running one tensor kernel: compiled by Cranelift (cached by its IR, as the frames'
//! kernels are) or, when the JIT is off or does not handle it yet, by the interpreter.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use corepy_codegen::abi::RunError;
use corepy_codegen::interp::run_tensor;
use corepy_codegen::ir::Kernel;
use corepy_codegen::jit::{compile_tensor, JitTensorKernel};
use corepy_codegen::tensor_abi::{TensorIn, TensorOut};
use parking_lot::Mutex;

/// Compiled kernels kept at most (the map is emptied when full: tensor programs reuse a
/// few kernels many times, so a simple bound serves).
const CAPACITY: usize = 256;

type Compiled = Result<Arc<JitTensorKernel>, String>;

static CACHE: LazyLock<Mutex<HashMap<Kernel, Compiled>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The compiled kernel, or why it is not compiled.
pub fn compiled(kernel: &Kernel) -> Compiled {
    if let Some(hit) = CACHE.lock().get(kernel) {
        return hit.clone();
    }
    let made = compile_tensor(kernel).map(Arc::new);
    let mut cache = CACHE.lock();
    if cache.len() >= CAPACITY {
        cache.clear();
    }
    cache.insert(kernel.clone(), made.clone());
    made
}

/// Runs `kernel`, through the JIT when `jit` and it compiles.
pub fn run(
    kernel: &Kernel,
    inputs: &[TensorIn<'_>],
    outputs: &mut [TensorOut<'_>],
    jit: bool,
) -> Result<(), RunError> {
    if jit {
        if let Ok(compiled) = compiled(kernel) {
            return compiled.run(inputs, outputs);
        }
    }
    run_tensor(kernel, inputs, outputs)
}
