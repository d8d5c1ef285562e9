//! What every local server process of this workspace shares: one server per
//! state directory ([`lock`]) and a graceful stop on Ctrl-C or SIGTERM
//! ([`shutdown_signal`]). `sfn-local` and `dynamodb-local` run alone as well as
//! inside `hitl local`; each stops and guards its state the same way.

pub mod lock;

pub use lock::{LockError, StateDirLock};

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, whichever comes first: what `kill`,
/// a terminal and a process supervisor send to stop a server. Where SIGTERM
/// cannot be watched (not Unix, or its handler cannot be installed), Ctrl-C alone.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
