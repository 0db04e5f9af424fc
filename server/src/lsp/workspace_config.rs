//! `workspace/didChangeConfiguration`, and showing configuration problems to the user.

use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::convert;
use super::server::TandemServer;
use crate::session::config::{apply_client_settings, ConfigProblem};

pub(super) fn did_change_configuration(
    server: &TandemServer,
    params: DidChangeConfigurationParams,
) {
    let problems = {
        let mut config = server
            .state
            .config
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let updated = apply_client_settings(&config, &params.settings);
        *config = updated;
        // The file's own problems were shown at start; show only what the new settings caused.
        config
            .problems
            .get(config.file.problems.len()..)
            .unwrap_or_default()
            .to_vec()
    };
    tracing::info!("configuration changed by the client");
    report_problems(&server.client, problems);
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
