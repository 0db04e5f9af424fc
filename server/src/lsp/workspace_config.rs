//! `workspace/didChangeConfiguration`, and showing configuration problems to the user.
//!
//! Clients either push the new settings in the notification, or send `null` and expect the
//! server to pull them with `workspace/configuration` (section `tandem`). The pull is a request
//! to the client, so it runs in a spawned task with a timeout, never in the handler.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::convert;
use super::server::{ServerState, TandemServer};
use crate::session::config::{apply_client_settings, ConfigProblem};

const PULL_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn did_change_configuration(
    server: &TandemServer,
    params: DidChangeConfigurationParams,
) {
    let pushed =
        !params.settings.is_null() && params.settings.as_object().is_none_or(|o| !o.is_empty());
    if pushed {
        let problems = apply_settings(&server.state, &params.settings);
        report_problems(&server.client, problems);
        return;
    }
    if !server
        .state
        .client_pulls_configuration
        .load(Ordering::SeqCst)
    {
        return;
    }
    let client = server.client.clone();
    let state = server.state.clone();
    tokio::spawn(async move { pull_settings(client, state).await });
}

async fn pull_settings(client: Client, state: Arc<ServerState>) {
    let item = ConfigurationItem {
        scope_uri: None,
        section: Some("tandem".to_string()),
    };
    match tokio::time::timeout(PULL_TIMEOUT, client.configuration(vec![item])).await {
        Ok(Ok(values)) => {
            let settings = values.into_iter().next().unwrap_or(Value::Null);
            let problems = apply_settings(&state, &settings);
            report_problems(&client, problems);
        }
        Ok(Err(e)) => tracing::warn!("workspace/configuration failed: {e}"),
        Err(_) => tracing::warn!(
            "workspace/configuration got no answer within {}s; keeping the current settings",
            PULL_TIMEOUT.as_secs()
        ),
    }
}

/// Applies the client's settings over the file layer and returns the problems they caused.
fn apply_settings(state: &ServerState, settings: &Value) -> Vec<ConfigProblem> {
    let mut config = state.config.write().unwrap_or_else(|e| e.into_inner());
    *config = apply_client_settings(&config, settings);
    *state.router.write().unwrap_or_else(|e| e.into_inner()) = None;
    tracing::info!("configuration changed by the client");
    // The file's own problems were shown at start; show only what the new settings caused.
    config
        .problems
        .get(config.file.problems.len()..)
        .unwrap_or_default()
        .to_vec()
}

/// Shows each problem in the editor from a spawned task, and logs it.
pub(super) fn report_problems(client: &Client, problems: Vec<ConfigProblem>) {
    if problems.is_empty() {
        return;
    }
    let client = client.clone();
    tokio::spawn(async move {
        for problem in &problems {
            let (kind, message) = convert::config_message(problem);
            tracing::warn!("{message}");
            client.show_message(kind, message).await;
        }
    });
}
