//! `tandem models [--check]`: the configured models and each role's chain; with `--check`,
//! a tiny request to every model, reporting its latency or the exact failure.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::models::{CircuitState, ModelRouter, Role};
use crate::session::config::{LoadedConfig, BUILTIN_MODEL};

/// Prints the listing (and the checks) to `out`. The exit code is 1 when the configuration
/// had errors or a check failed.
pub(super) fn run(
    root: &Path,
    loaded: &LoadedConfig,
    check: bool,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let router = ModelRouter::from_config(&loaded.config, Some(root))
        .map_err(|e| anyhow::anyhow!("the models configuration cannot be used: {e}"))?;
    let config_failed = loaded.problems.iter().any(|p| p.is_error());
    list(&router, root, out)?;
    if !check {
        return Ok(exit_code(config_failed));
    }
    // The listing shows while the checks run.
    out.flush()?;
    let results = check_all(&router)?;
    writeln!(out)?;
    writeln!(out, "Checks")?;
    let width = results
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    let mut failed = false;
    for (name, result) in &results {
        match result {
            Ok(report) => writeln!(
                out,
                "  {name:width$}  ok      {:>6} ms  ({})",
                report.latency.as_millis(),
                report.usage
            )?,
            Err(e) => {
                failed = true;
                writeln!(out, "  {name:width$}  FAILED  {e}")?;
            }
        }
    }
    if results.is_empty() {
        writeln!(
            out,
            "  no models to check: every role uses the offline engine (define models under \
             [models.<name>], see docs/models.md)"
        )?;
    }
    Ok(exit_code(config_failed || failed))
}

fn exit_code(failed: bool) -> ExitCode {
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn list(router: &ModelRouter, root: &Path, out: &mut impl Write) -> Result<()> {
    let models = router.models();
    writeln!(out, "Models")?;
    let width = models
        .iter()
        .map(|m| m.name.len())
        .chain([BUILTIN_MODEL.len()])
        .max()
        .unwrap_or(0);
    let model_width = models.iter().map(|m| m.model.len()).max().unwrap_or(0);
    for m in &models {
        let key = match (&m.key_variable, m.key_set) {
            (None, _) => "no key".to_string(),
            (Some(var), true) => format!("key from {var}"),
            (Some(var), false) => format!("key from {var}, NOT SET: skipped"),
        };
        let circuit = match m.circuit {
            CircuitState::Closed { .. } => String::new(),
            CircuitState::Open { retry_in } => {
                format!(", paused for {} s", retry_in.as_secs())
            }
            CircuitState::HalfOpen => ", on trial".to_string(),
        };
        writeln!(
            out,
            "  {:width$}  {:9}  {:model_width$}  at {}  (context {}, output {}, {key}{circuit})",
            m.name, m.provider, m.model, m.endpoint, m.context_tokens, m.max_output_tokens
        )?;
    }
    writeln!(
        out,
        "  {:width$}  offline    the built-in engine (no network)",
        BUILTIN_MODEL
    )?;
    writeln!(out)?;
    writeln!(out, "Roles")?;
    for role in Role::ALL {
        writeln!(
            out,
            "  {:10}  {}",
            role.as_str(),
            router.chain(role).join(" -> ")
        )?;
    }
    match router.cache_dir() {
        Some(dir) => {
            let shown = dir.strip_prefix(root).unwrap_or(dir);
            writeln!(out, "\nCache: on, in {}", shown.display())?;
        }
        None => writeln!(out, "\nCache: off")?,
    }
    Ok(())
}

/// Checks every model at once, in a small runtime of our own; Ctrl-C cancels the requests.
fn check_all(
    router: &ModelRouter,
) -> Result<
    Vec<(
        String,
        Result<crate::models::CheckReport, crate::models::ModelError>,
    )>,
> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let names: Vec<String> = router.models().into_iter().map(|m| m.name).collect();
    let results = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let on_interrupt = cancel.clone();
        let watcher = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_interrupt.cancel();
            }
        });
        let checks = names.iter().map(|name| {
            let cancel = cancel.clone();
            async move { (name.clone(), router.check_model(name, cancel).await) }
        });
        let results = futures::future::join_all(checks).await;
        watcher.abort();
        results
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(results)
}
