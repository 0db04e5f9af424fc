//! Logging: always to stderr (stdout carries the protocol), optionally also to a file, filtered
//! by `TANDEM_LOG` in tracing's env-filter syntax (default `info`).
//!
//! Whatever the filter says, the libraries that would log whole messages are capped at `debug`
//! ([`CAPPED_TARGETS`]): at `trace`, tower-lsp-server logs every JSON-RPC message in full (the
//! text of every open document, with whatever secrets the user's files hold) and the HTTP
//! stack can log request bodies (prompts). Tandem's own logs never carry document text,
//! prompts or API keys.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Targets whose `trace` output carries message or request bodies; capped at `debug`.
pub const CAPPED_TARGETS: &[&str] = &[
    "tower_lsp_server",
    // The modules that log messages, named too: a directive for a more specific target than a
    // cap would otherwise win over it.
    "tower_lsp_server::codec",
    "tower_lsp_server::service::client",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
];

/// The filter from `TANDEM_LOG` (or `default_level`), with [`CAPPED_TARGETS`] capped.
fn log_filter(spec: Option<&str>, default_level: &str) -> EnvFilter {
    let mut filter = spec
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    for target in CAPPED_TARGETS {
        if let Ok(directive) = format!("{target}=debug").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber. Calling it twice is harmless (the second call does nothing).
pub fn init(log_file: Option<&Path>, default_level: &str) -> anyhow::Result<()> {
    let spec = std::env::var("TANDEM_LOG").ok();
    let filter = || log_filter(spec.as_deref(), default_level);
    let stderr_layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_filter(filter());
    let file_layer = match log_file {
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("cannot open log file {}: {e}", path.display()))?;
            Some(
                fmt::layer()
                    .with_writer(Mutex::new(file))
                    .with_ansi(false)
                    .with_filter(filter()),
            )
        }
        None => None,
    };
    let _ = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What the filter of `spec` lets through of a few events.
    fn logged(spec: &str) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(log_filter(Some(spec), "info"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "tower_lsp_server::codec", "<- didOpen SECRET-TEXT");
            tracing::trace!(target: "tower_lsp_server::service::client", "suppressing SECRET-TEXT");
            tracing::trace!(target: "hyper::proto::h1::role", "body SECRET-TEXT");
            tracing::debug!(target: "tower_lsp_server::service::pending", "request cancelled");
            tracing::trace!(target: "tandem::lsp::docs", "tandem trace");
        });
        let out = buffer.0.lock().unwrap().clone();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn message_bodies_stay_out_of_the_log_even_at_trace() {
        for spec in [
            "trace",
            "tower_lsp_server=trace,trace",
            "tower_lsp_server::codec=trace,tower_lsp_server::service::client=trace,hyper=trace",
        ] {
            let out = logged(spec);
            assert!(!out.contains("SECRET-TEXT"), "{spec}: {out}");
        }
        let out = logged("trace");
        assert!(out.contains("tandem trace"), "{out}");
        assert!(out.contains("request cancelled"), "{out}");
    }
}
