//! `workspace/executeCommand`: one entry per command; each validates its arguments, starts its
//! work in a spawned task and answers at once.

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::server::TandemServer;
use crate::session::documents::DocumentSnapshot;

/// Every command the server executes.
pub const COMMANDS: &[&str] = &[
    super::docs::DOCUMENT_COMMAND,
    super::review::REVIEW_COMMAND,
    super::plan::PLAN_COMMAND,
    super::execute::EXECUTE_COMMAND,
    super::execute::CANCEL_COMMAND,
    super::execute::RESUME_COMMAND,
    super::execute::IMPLEMENT_COMMAND,
    super::execute::RUNS_COMMAND,
    super::execute::CANCEL_ALL_COMMAND,
];

pub(super) async fn execute_command(
    server: &TandemServer,
    params: ExecuteCommandParams,
) -> Result<Option<Value>> {
    match params.command.as_str() {
        super::docs::DOCUMENT_COMMAND => {
            super::docs::execute(&server.client, &server.state, params.arguments)
        }
        super::review::REVIEW_COMMAND => {
            super::review::execute(&server.client, &server.state, params.arguments)
        }
        super::plan::PLAN_COMMAND => {
            super::plan::execute(&server.client, &server.state, params.arguments)
        }
        super::execute::EXECUTE_COMMAND => {
            super::execute::execute_plan(&server.client, &server.state, params.arguments)
        }
        super::execute::CANCEL_COMMAND | super::execute::CANCEL_ALL_COMMAND => {
            super::execute::cancel_run(&server.state, params.arguments)
        }
        super::execute::RESUME_COMMAND => {
            super::execute::resume_run(&server.client, &server.state, params.arguments)
        }
        // SQLite (with its busy timeout) runs on the blocking pool, not in the handler.
        super::execute::RUNS_COMMAND => {
            let state = server.state.clone();
            tokio::task::spawn_blocking(move || super::execute::list_runs(&state, params.arguments))
                .await
                .unwrap_or_else(|e| {
                    Err(Error {
                        code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
                        message: format!("tandem.runs failed: {e}").into(),
                        data: None,
                    })
                })
        }
        super::execute::IMPLEMENT_COMMAND => {
            super::execute::implement(&server.client, &server.state, params.arguments)
        }
        other => Err(Error::invalid_params(format!(
            "unknown command {other}; this server runs {}",
            COMMANDS.join(", ")
        ))),
    }
}

/// `{uri, range?}`: the arguments of the commands that work on an open document (no range: the
/// whole document).
#[derive(Debug, serde::Deserialize)]
pub(super) struct DocumentArgs {
    pub uri: Uri,
    pub range: Option<Range>,
}

/// The `{uri, range?}` arguments of `command` and the document as it is now, refused unless
/// the document is open.
pub(super) fn open_document(
    state: &super::server::ServerState,
    command: &str,
    arguments: Vec<Value>,
) -> Result<(DocumentArgs, DocumentSnapshot)> {
    let args: DocumentArgs = command_args(command, "{uri, range?}", arguments)?;
    let key = super::convert::document_key(&args.uri);
    match state.documents.snapshot(&key) {
        Some(snapshot) => Ok((args, snapshot)),
        None => Err(super::document_symbol::unknown_document(state, &key)),
    }
}

/// The first argument of `command`, read as `T`; a missing or malformed one is an
/// `InvalidParams` error that says what the command takes (`shape`).
pub(super) fn command_args<T: serde::de::DeserializeOwned>(
    command: &str,
    shape: &str,
    arguments: Vec<Value>,
) -> Result<T> {
    let first = arguments
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid_params(format!("{command} needs {shape}")))?;
    serde_json::from_value(first).map_err(|e| Error::invalid_params(format!("{command}: {e}")))
}

/// Runs a command's work in a spawned task (never in the handler) and shows its outcome with
/// `window/showMessage`: information on success, an error otherwise.
pub(super) fn spawn_reported<F>(client: &Client, command: &'static str, work: F)
where
    F: std::future::Future<Output = std::result::Result<String, String>> + Send + 'static,
{
    let client = client.clone();
    tokio::spawn(async move {
        let (kind, message) = match work.await {
            Ok(message) => (MessageType::INFO, message),
            Err(message) => (MessageType::ERROR, message),
        };
        tracing::info!("{command}: {message}");
        client.show_message(kind, message).await;
    });
}
