//! PTX modules rendered from kernels, cached by entry name (the IR's hash), and written to
//! `COREPY_DUMP_PTX=DIR` as `DIR/<entry>.ptx` when first rendered, as Triton and Numba dump
//! theirs. Rendering needs no GPU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use corepy_codegen::ir::Kernel;
use corepy_codegen::ptx::{entry_name, render, PtxModule};

type Rendered = Result<Arc<PtxModule>, String>;

/// The PTX module of `kernel`, or why it is not rendered.
pub fn ptx_module(kernel: &Kernel) -> Rendered {
    static CACHE: OnceLock<Mutex<HashMap<String, Rendered>>> = OnceLock::new();
    let name = entry_name(kernel);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&name) {
        return found.clone();
    }
    let rendered = render(kernel, &name).map(Arc::new);
    if let Ok(module) = &rendered {
        dump(&name, &module.text);
    }
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name, rendered.clone());
    rendered
}

/// Writes a module to `COREPY_DUMP_PTX` (a directory, created if needed); a failure to
/// write is reported on stderr, never an error of the query.
fn dump(entry: &str, text: &str) {
    let Ok(dir) = std::env::var("COREPY_DUMP_PTX") else {
        return;
    };
    if dir.is_empty() {
        return;
    }
    let path = std::path::Path::new(&dir).join(format!("{entry}.ptx"));
    let written = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, text));
    if let Err(e) = written {
        eprintln!(
            "corepy: COREPY_DUMP_PTX: cannot write {}: {e}",
            path.display()
        );
    }
}
