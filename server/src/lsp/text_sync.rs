//! `didOpen`, `didChange`, `didClose`: the only handlers that change documents.
//!
//! Each one updates the store synchronously and awaits nothing, so the update is done before any
//! later message is handled, whatever order the server runs handlers in. Keeping the project
//! index current is queued for its worker (a non-blocking send), never done here.

use tower_lsp_server::ls_types::*;

use super::convert;
use super::project::{self, IndexJob};
use super::server::TandemServer;
use crate::session::documents::ChangeOutcome;

pub(super) fn did_open(server: &TandemServer, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    let key = convert::document_key(&doc.uri);
    let limit = server.state.max_file_size();
    if let Err(refused) =
        server
            .state
            .documents
            .open_within(&key, doc.version, &doc.language_id, &doc.text, limit)
    {
        refuse_too_large(server, &key, refused);
        return;
    }
    tracing::debug!("opened {key} at version {}", doc.version);
    if let Some(path) = project::indexable_path(&server.state, &doc.uri) {
        project::queue(&server.state, IndexJob::Document { key, path });
    }
    super::diagnostics::schedule(&server.client, &server.state, doc.uri);
}

pub(super) fn did_change(server: &TandemServer, params: DidChangeTextDocumentParams) {
    let key = convert::document_key(&params.text_document.uri);
    let version = params.text_document.version;
    let changes: Vec<_> = params
        .content_changes
        .into_iter()
        .map(convert::text_change)
        .collect();
    let encoding = server.state.encoding();
    let limit = server.state.max_file_size();
    match server
        .state
        .documents
        .change_within(&key, version, &changes, encoding, limit)
    {
        ChangeOutcome::Applied => {
            if let Some(path) = project::indexable_path(&server.state, &params.text_document.uri) {
                project::queue(&server.state, IndexJob::Document { key, path });
            }
            super::diagnostics::schedule(&server.client, &server.state, params.text_document.uri);
        }
        ChangeOutcome::Stale { current, received } => tracing::warn!(
            "dropping out-of-order change to {key}: version {received} arrived after {current}"
        ),
        ChangeOutcome::UnknownDocument if server.state.documents.too_large(&key).is_some() => {
            tracing::debug!("ignoring change to {key}, which is too large to analyse")
        }
        ChangeOutcome::UnknownDocument => {
            tracing::warn!("ignoring change to {key}, which is not open")
        }
        ChangeOutcome::TooLarge(refused) => {
            refuse_too_large(server, &key, refused);
            super::diagnostics::clear(&server.client, &server.state, params.text_document.uri);
        }
    }
}

/// A document over `workspace.max_file_size` is not analysed: say so once in the log and to
/// the user (from a spawned task: handlers of notifications await nothing). Requests about it
/// get an error naming the limit (`document_symbol::unknown_document`).
fn refuse_too_large(
    server: &TandemServer,
    key: &str,
    refused: crate::session::documents::TooLarge,
) {
    let message = format!("Tandem: {key}: {refused}; raise the limit to analyse it");
    tracing::warn!("{message}");
    let client = server.client.clone();
    tokio::spawn(async move {
        client.show_message(MessageType::WARNING, message).await;
    });
}

/// A save changes nothing the index does not already know from the edits, but a client that
/// sends the text on save may hold a newer text than its last change: re-index from the
/// document (a no-op when the text is unchanged).
pub(super) fn did_save(server: &TandemServer, params: DidSaveTextDocumentParams) {
    let key = convert::document_key(&params.text_document.uri);
    if let Some(path) = project::indexable_path(&server.state, &params.text_document.uri) {
        project::queue(&server.state, IndexJob::Document { key, path });
    }
}

pub(super) fn did_close(server: &TandemServer, params: DidCloseTextDocumentParams) {
    let key = convert::document_key(&params.text_document.uri);
    if !server.state.documents.close(&key) {
        tracing::warn!("close of {key}, which was not open");
    }
    // Unsaved edits are gone with the document: the file on disk is the truth again.
    if let Some(path) = project::indexable_path(&server.state, &params.text_document.uri) {
        project::queue(&server.state, IndexJob::Disk { path });
    }
    super::diagnostics::clear(&server.client, &server.state, params.text_document.uri);
}
