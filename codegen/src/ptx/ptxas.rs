//! `ptxas`, NVIDIA's PTX assembler, run on rendered modules where it is installed (the PyPI
//! wheel `nvidia-cuda-nvcc-cu12` ships it; no GPU is needed): the tests assemble every
//! generated module with it, as LLVM's NVPTX tests do.

use std::path::PathBuf;

/// `ptxas` from the CUDA wheel on PyPI (`nvidia-cuda-nvcc-cu12`, in the test extras): the
/// path in `COREPY_PTXAS`, else the one in the project's `.venv`.
pub fn ptxas() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("COREPY_PTXAS") {
        return Some(PathBuf::from(path));
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let lib = root.join(".venv/lib");
    for python in std::fs::read_dir(lib).ok()?.flatten() {
        let candidate = python
            .path()
            .join("site-packages/nvidia/cuda_nvcc/bin/ptxas");
        if candidate.exists() {
            return Some(candidate);
        }
    }
    None
}

/// Assembles PTX text for sm_90 (the H100/H200), or says why not.
pub fn assemble(text: &str, tag: &str) -> Result<(), String> {
    let Some(ptxas) = ptxas() else {
        if std::env::var("COREPY_REQUIRE_PTXAS").is_ok_and(|v| v == "1") {
            return Err("ptxas not found (set COREPY_PTXAS or install the test extras)".into());
        }
        eprintln!("ptxas not found: PTX not assembled (CI sets COREPY_REQUIRE_PTXAS=1)");
        return Ok(());
    };
    let dir = std::env::temp_dir().join(format!("corepy-ptx-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("module.ptx");
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let output = std::process::Command::new(&ptxas)
        .args(["-arch=sm_90", "-o"])
        .arg(dir.join("module.cubin"))
        .arg(&file)
        .output()
        .map_err(|e| format!("running {}: {e}", ptxas.display()))?;
    if !output.status.success() {
        return Err(format!(
            "ptxas refused the module ({}):\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
