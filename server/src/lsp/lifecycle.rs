//! `initialize` and `initialized`: negotiation, capabilities, configuration, workspace scan.

use std::path::PathBuf;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use super::convert;
use super::server::TandemServer;
use crate::session::config::{apply_client_settings, load_workspace_config, LoadedConfig};
use crate::session::position::PositionEncoding;

pub(super) fn initialize(
    server: &TandemServer,
    params: InitializeParams,
) -> Result<InitializeResult> {
    let offered = convert::offered_encodings(&params.capabilities);
    let encoding = PositionEncoding::negotiate(offered.iter().map(String::as_str));
    *server
        .state
        .encoding
        .write()
        .unwrap_or_else(|e| e.into_inner()) = encoding;

    let pulls = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.configuration)
        .unwrap_or(false);
    server
        .state
        .client_pulls_configuration
        .store(pulls, std::sync::atomic::Ordering::SeqCst);

    let progress = params
        .capabilities
        .window
        .as_ref()
        .and_then(|w| w.work_done_progress)
        .unwrap_or(false);
    server
        .state
        .client_supports_progress
        .store(progress, std::sync::atomic::Ordering::SeqCst);
    let shows = params
        .capabilities
        .window
        .as_ref()
        .and_then(|w| w.show_document.as_ref())
        .is_some_and(|s| s.support);
    server
        .state
        .client_shows_documents
        .store(shows, std::sync::atomic::Ordering::SeqCst);
    let workspace_edit = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.workspace_edit.as_ref());
    server.state.client_document_changes.store(
        workspace_edit
            .and_then(|w| w.document_changes)
            .unwrap_or(false),
        std::sync::atomic::Ordering::SeqCst,
    );
    server.state.client_creates_files.store(
        workspace_edit
            .and_then(|w| w.resource_operations.as_ref())
            .is_some_and(|ops| ops.contains(&ResourceOperationKind::Create)),
        std::sync::atomic::Ordering::SeqCst,
    );
    let watches = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    server
        .state
        .client_watches_files
        .store(watches, std::sync::atomic::Ordering::SeqCst);

    let roots = workspace_roots(&params);
    let mut config = match roots.first() {
        Some(root) => load_workspace_config(root),
        None => LoadedConfig::default(),
    };
    if let Some(options) = params.initialization_options.as_ref() {
        config = apply_client_settings(&config, options);
    }
    tracing::info!(
        "initialize: client {}, position encoding {}, workspace {:?}",
        params
            .client_info
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or("unknown"),
        encoding.as_str(),
        roots
    );
    *server
        .state
        .roots
        .write()
        .unwrap_or_else(|e| e.into_inner()) = roots;
    *server
        .state
        .config
        .write()
        .unwrap_or_else(|e| e.into_inner()) = config;

    Ok(InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "tandem".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
        offset_encoding: None,
    })
}

/// What the server really does; grows with each feature.
fn capabilities(encoding: PositionEncoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(convert::encoding_kind(encoding)),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            },
        )),
        document_symbol_provider: Some(OneOf::Left(true)),
        call_hierarchy_provider: Some(CallHierarchyServerCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::REFACTOR_REWRITE,
                CodeActionKind::new(super::docs::DOCUMENT_FILE_KIND),
                CodeActionKind::new(super::review::REVIEW_KIND),
            ]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
            resolve_provider: Some(false),
        })),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: super::commands::COMMANDS
                .iter()
                .map(|c| c.to_string())
                .collect(),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        ..ServerCapabilities::default()
    }
}

fn workspace_roots(params: &InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = params.workspace_folders.as_ref().filter(|f| !f.is_empty()) {
        return folders
            .iter()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
    }
    #[allow(deprecated)]
    if let Some(uri) = params.root_uri.as_ref() {
        return uri
            .to_file_path()
            .map(|p| vec![p.into_owned()])
            .unwrap_or_default();
    }
    #[allow(deprecated)]
    params
        .root_path
        .as_ref()
        .map(|p| vec![PathBuf::from(p)])
        .unwrap_or_default()
}

pub(super) fn initialized(server: &TandemServer) {
    let problems = server
        .state
        .config
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .problems
        .clone();
    super::workspace_config::report_problems(&server.client, problems);

    // The index is built on the blocking pool from a spawned task, never in a handler slot.
    super::project::start(server.client.clone(), server.state.clone());
}
