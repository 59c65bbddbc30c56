//! Warnings for the user (a stage that fell back from the GPU), kept until the Python layer
//! takes them after a query and issues them as `corepy.GpuFallbackWarning`.

use std::sync::Mutex;

static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a warning (once per distinct message until taken).
pub fn warn(message: String) {
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if !pending.contains(&message) {
        pending.push(message);
    }
}

/// The warnings recorded since the last call.
pub fn take() -> Vec<String> {
    std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()))
}
