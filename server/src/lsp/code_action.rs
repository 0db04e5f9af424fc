//! `textDocument/codeAction`: what each feature offers at a place. Actions carry commands, not
//! edits, so the menu opens at once; the work happens when the user picks one.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use super::server::TandemServer;

pub(super) fn code_action(
    server: &TandemServer,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let mut actions = super::docs::code_actions(&server.state, &params)?;
    actions.extend(super::review::code_actions(&server.state, &params)?);
    Ok(Some(actions))
}
