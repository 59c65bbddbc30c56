//! The Tokio runtime every blocking entry point (Python, CLI) runs queries on, and a
//! blocking call that can be cancelled from the caller's thread.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use corepy_planner::{CorepyError, Result};
use tokio::runtime::Runtime;

/// How often a blocked caller checks whether it should cancel (Ctrl-C in Python).
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// The process-wide multi-threaded runtime, one worker per core.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("corepy-worker")
            .enable_all()
            .build()
            .expect("the Tokio runtime cannot be created")
    })
}

/// Runs `work` on the runtime and blocks until it finishes, calling `should_stop` every
/// 50 ms meanwhile. When `should_stop` returns an error, the work is cancelled (its streams
/// are dropped, which stops DataFusion's tasks) and the error is returned as `Err(Err(e))`.
/// A panic in the work becomes `CorepyError::Internal`; it never unwinds into the caller.
pub fn block_on_cancellable<T, E>(
    work: impl Future<Output = Result<T>> + Send + 'static,
    mut should_stop: impl FnMut() -> Result<(), E>,
) -> Result<Result<T>, E>
where
    T: Send + 'static,
{
    let rt = runtime();
    let mut handle = rt.spawn(work);
    rt.block_on(async {
        loop {
            match tokio::time::timeout(CANCEL_POLL, &mut handle).await {
                Ok(Ok(result)) => return Ok(result),
                Ok(Err(join_error)) => return Ok(Err(join_failure(join_error))),
                Err(_elapsed) => {
                    if let Err(stop) = should_stop() {
                        handle.abort();
                        return Err(stop);
                    }
                }
            }
        }
    })
}

/// Like [`block_on_cancellable`], without a way to cancel.
pub fn block_on<T: Send + 'static>(
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    match block_on_cancellable(work, || Ok::<(), ()>(())) {
        Ok(result) => result,
        Err(()) => Err(CorepyError::Cancelled),
    }
}

fn join_failure(error: tokio::task::JoinError) -> CorepyError {
    if error.is_panic() {
        panic_error(error.into_panic())
    } else {
        CorepyError::Cancelled
    }
}

/// A caught panic as `CorepyError::Internal("panic: …")`.
pub fn panic_error(payload: Box<dyn std::any::Any + Send>) -> CorepyError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    CorepyError::internal(format!("panic: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_is_returned() {
        assert_eq!(block_on(async { Ok(7) }).unwrap(), 7);
    }

    #[test]
    fn panic_becomes_an_internal_error() {
        let error = block_on(async {
            if true {
                panic!("boom");
            }
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(error, CorepyError::Internal { ref message } if message.contains("boom")));
    }

    #[test]
    fn stop_request_cancels_the_work() {
        let started = std::time::Instant::now();
        let outcome = block_on_cancellable(
            async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            },
            || Err("stop"),
        );
        assert!(matches!(outcome, Err("stop")));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
