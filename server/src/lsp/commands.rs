//! `workspace/executeCommand`: one entry per command; each validates its arguments, starts its
//! work in a spawned task and answers at once.

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

use super::server::TandemServer;

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

pub(super) fn execute_command(
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
        super::execute::RUNS_COMMAND => super::execute::list_runs(&server.state, params.arguments),
        super::execute::IMPLEMENT_COMMAND => {
            super::execute::implement(&server.client, &server.state, params.arguments)
        }
        other => Err(Error::invalid_params(format!(
            "unknown command {other}; this server runs {}",
            COMMANDS.join(", ")
        ))),
    }
}
