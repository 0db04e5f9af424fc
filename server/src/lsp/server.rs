//! Shared server state and the table that routes each LSP message to its handler.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::analysis::index::ProjectIndex;
use crate::session::config::LoadedConfig;
use crate::session::documents::DocumentStore;
use crate::session::position::PositionEncoding;
use crate::session::workspace::SourceRoots;

use super::project::IndexJob;

use super::panic_guard::CatchPanic;
use super::transport;

/// Everything the handlers share. Documents are changed only by the text-sync handlers, the
/// rest only by `initialize`, configuration changes and the workspace scan.
#[derive(Debug, Default)]
pub struct ServerState {
    pub documents: DocumentStore,
    pub encoding: RwLock<PositionEncoding>,
    pub roots: RwLock<Vec<PathBuf>>,
    pub config: RwLock<LoadedConfig>,
    pub shutdown_requested: AtomicBool,
    /// The client answers `workspace/configuration` requests.
    pub client_pulls_configuration: AtomicBool,
    /// The client accepts `window/workDoneProgress/create`.
    pub client_supports_progress: AtomicBool,
    /// The client can register `workspace/didChangeWatchedFiles` watchers dynamically.
    pub client_watches_files: AtomicBool,
    /// The client answers `window/showDocument`.
    pub client_shows_documents: AtomicBool,
    /// The client takes `documentChanges` in a `WorkspaceEdit` (versioned edits).
    pub client_document_changes: AtomicBool,
    /// The client takes the `create` resource operation in `documentChanges`.
    pub client_creates_files: AtomicBool,
    /// The project index; changed only by `lsp::project` (the cold build, then its worker).
    pub index: Mutex<ProjectIndex>,
    /// Set when the cold build is done (or there is no workspace).
    pub index_ready: AtomicBool,
    /// Where the worker takes its jobs from; set once at start.
    pub index_jobs: OnceLock<tokio::sync::mpsc::UnboundedSender<IndexJob>>,
    /// How module names are derived from paths.
    pub source_roots: RwLock<SourceRoots>,
    /// The model router for the configuration in force; built on first use, dropped when the
    /// configuration changes.
    pub router: RwLock<Option<crate::models::ModelRouter>>,
    /// Twin-mode notes per document: (symbol path in the module, the docstring text applied,
    /// the note), shown as Information diagnostics while that docstring stands unchanged.
    pub doc_notes: dashmap::DashMap<String, Vec<(String, String, String)>>,
    /// Running jobs that show a cancellable `$/progress`, by progress token.
    pub progress_cancels: dashmap::DashMap<String, tokio_util::sync::CancellationToken>,
    /// The project-wide usage facts for TDM020, with the index generation and time they were
    /// built at (rebuilt at most every few seconds: usage changes slowly).
    pub usage: Mutex<
        Option<(
            u64,
            std::time::Instant,
            Arc<crate::analysis::project_rules::Usage>,
        )>,
    >,
    /// The project's symbols for TDM021, with the index's `names_generation` they were built
    /// at: kept across edits that change no definition's name.
    pub project_symbols: Mutex<Option<(u64, Arc<crate::analysis::project_rules::ProjectSymbols>)>>,
    /// Debounce state of the diagnostics of each open document.
    pub diagnostic_generations: super::diagnostics::DiagnosticGenerations,
    /// Open documents whose last diagnostics lacked the project rules because the index did
    /// not hold their text yet: published again when the index worker has analysed them.
    pub awaiting_index: dashmap::DashSet<String>,
    /// Running executor runs (plans, resumes, implementations), by run id.
    pub runs: dashmap::DashMap<String, tokio_util::sync::CancellationToken>,
    /// AI review findings per open document, kept until the code they point at changes.
    pub reviews: super::review::ReviewStore,
}

impl ServerState {
    pub fn encoding(&self) -> PositionEncoding {
        *self.encoding.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The `[workspace]` settings in force now.
    pub fn workspace_config(&self) -> crate::session::config::WorkspaceConfig {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .config
            .workspace
            .clone()
    }

    /// The size limit of files and documents Tandem analyses (`workspace.max_file_size`).
    pub fn max_file_size(&self) -> u64 {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .config
            .workspace
            .max_file_size
    }

    /// The workspace folders.
    pub fn folders(&self) -> Vec<PathBuf> {
        self.roots.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The docstring style the configuration asks for (`docs.style`); `None` means each
    /// docstring is read in the style it shows, and new ones follow the project's majority.
    pub fn docs_style(&self) -> Option<crate::context::profile::DocstringStyle> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .config
            .docs
            .style
            .fixed()
    }

    /// `[docs]` as documentation runs use it: a fixed style, or the majority style of the
    /// project's docstrings (google when there are none).
    pub fn doc_settings(&self) -> crate::agent::document::DocSettings {
        let docs = self
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .config
            .docs
            .clone();
        let style = docs.style.fixed().unwrap_or_else(|| {
            let index = self.index.lock().unwrap_or_else(|e| e.into_inner());
            let outlines: Vec<_> = index.files().map(|(_, f)| f.outline()).collect();
            crate::agent::document::majority_style(outlines.iter()).unwrap_or_default()
        });
        crate::agent::document::DocSettings {
            style,
            concurrency: docs.concurrency.clamp(1, 32),
            streams: if docs.streams == 2 { 2 } else { 1 },
        }
    }

    /// The model router for the current configuration, with the offline engines installed.
    /// A models configuration that cannot be used leaves every role offline (its problems
    /// were shown when it was loaded).
    pub fn router(&self) -> crate::models::ModelRouter {
        if let Some(router) = self
            .router
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return router.clone();
        }
        let root = self.folders().into_iter().next();
        let config = self
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .config
            .clone();
        let router = crate::models::ModelRouter::from_config(&config, root.as_deref())
            .unwrap_or_else(|e| {
                tracing::warn!("models configuration unusable, every role is offline: {e}");
                crate::models::ModelRouter::offline(root.as_deref())
            });
        crate::agent::register_offline_engines(&router);
        *self.router.write().unwrap_or_else(|e| e.into_inner()) = Some(router.clone());
        router
    }
}

/// The `LanguageServer` implementation: a thin table; each method calls the handler in the file
/// named after the message.
pub(super) struct TandemServer {
    pub client: Client,
    pub state: Arc<ServerState>,
}

impl LanguageServer for TandemServer {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        super::lifecycle::initialize(self, params)
    }

    async fn initialized(&self, _: InitializedParams) {
        super::lifecycle::initialized(self);
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shutdown_requested.store(true, Ordering::SeqCst);
        tracing::info!("shutdown requested");
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        super::text_sync::did_open(self, params);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        super::text_sync::did_change(self, params);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        super::text_sync::did_save(self, params);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        super::text_sync::did_close(self, params);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        super::workspace_config::did_change_configuration(self, params);
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        super::project::did_change_watched_files(&self.state, params);
    }

    async fn prepare_call_hierarchy(
        &self,
        params: CallHierarchyPrepareParams,
    ) -> Result<Option<Vec<CallHierarchyItem>>> {
        super::call_hierarchy::run_blocking(self.state.clone(), move |state| {
            super::call_hierarchy::prepare(state, params)
        })
        .await
    }

    async fn incoming_calls(
        &self,
        params: CallHierarchyIncomingCallsParams,
    ) -> Result<Option<Vec<CallHierarchyIncomingCall>>> {
        super::call_hierarchy::run_blocking(self.state.clone(), move |state| {
            super::call_hierarchy::incoming(state, params)
        })
        .await
    }

    async fn outgoing_calls(
        &self,
        params: CallHierarchyOutgoingCallsParams,
    ) -> Result<Option<Vec<CallHierarchyOutgoingCall>>> {
        super::call_hierarchy::run_blocking(self.state.clone(), move |state| {
            super::call_hierarchy::outgoing(state, params)
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        super::code_action::code_action(self, params)
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> Result<Option<serde_json::Value>> {
        super::commands::execute_command(self, params).await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        super::document_symbol::document_symbol(self, params)
    }
}

impl TandemServer {
    /// The user pressed the cancel button of a job's progress.
    async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        let token = match params.token {
            NumberOrString::String(s) => s,
            NumberOrString::Number(n) => n.to_string(),
        };
        match self.state.progress_cancels.get(&token) {
            Some(cancel) => {
                tracing::info!("cancelling {token}");
                cancel.cancel();
            }
            None => tracing::debug!("cancel of {token}, which is not running"),
        }
    }
}

/// Serves LSP over stdin/stdout until `exit`, and returns the process exit code: 0 when the
/// client asked for `shutdown` first, 1 otherwise (as the specification says).
pub async fn serve() -> i32 {
    serve_on(tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves LSP on any byte streams, exactly as `serve` does on stdio (the fuzz targets drive the
/// whole server in process through this).
pub async fn serve_on<I, O>(client_input: I, client_output: O) -> i32
where
    I: tokio::io::AsyncRead + Unpin + Send + 'static,
    O: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::new(ServerState::default());
    let (service, socket) = LspService::build({
        let state = state.clone();
        move |client| TandemServer { client, state }
    })
    // tower-lsp-server does not route this notification itself.
    .custom_method(
        "window/workDoneProgress/cancel",
        TandemServer::work_done_progress_cancel,
    )
    .finish();
    // The server talks to in-memory pipes; `transport` moves frames between them and stdio.
    let (server_in, client_side_in) = tokio::io::duplex(64 * 1024);
    let (client_side_out, server_out) = tokio::io::duplex(64 * 1024);
    let (frames_tx, frames_rx) = tokio::sync::mpsc::channel(64);
    let input = tokio::spawn(transport::pump_input(
        client_input,
        client_side_in,
        frames_tx.clone(),
    ));
    let output = tokio::spawn(transport::pump_server_output(client_side_out, frames_tx));
    let writer = tokio::spawn(transport::write_output(client_output, frames_rx));
    Server::new(server_in, server_out, socket)
        .serve(CatchPanic::new(service))
        .await;
    super::execute::interrupt_runs(&state).await;
    // Stdin may stay open after `exit`; stop reading it, then let the output drain.
    input.abort();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let _ = output.await;
        let _ = writer.await;
    })
    .await;
    if state.shutdown_requested.load(Ordering::SeqCst) {
        0
    } else {
        tracing::warn!("exiting without a shutdown request");
        1
    }
}
