//! Running plans in the editor: `tandem.executePlan {planId}`, `tandem.resumeRun {runId}`,
//! `tandem.cancelRun {runId}` and `tandem.implement {uri, range}` (the "Implement `name` with
//! AI" code action on a stub function or a `# TODO` inside one).
//!
//! Each command answers at once and works in a spawned task: the items are read (the plan file
//! as the user left it, or the run's pending items, or one generated item), the run is recorded
//! in the `RunStore`, the coder contexts are read from the index on the blocking pool, and
//! `agent::execute` runs with a cancellable `$/progress` ("item k of n, attempt a"), its token
//! also registered under the run id for `tandem.cancelRun`. The changes of the succeeded items
//! go to the editor as ONE `workspace/applyEdit` with `documentChanges`: `CreateFile` then its
//! content for new files, and for modified files a `TextDocumentEdit` with the open document's
//! version (its text must still be the text the run used) or `version: null` after checking
//! the file on disk still has the content hash the run started from. Anything changed refuses
//! the whole apply. A client without `documentChanges` or `create` gets the files that are not
//! open written on disk (atomically, `edits::apply`) and plain `changes` for the open ones.
//! What happened to the edits is recorded as an `apply` event of the run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::commands::{command_args, spawn_reported};
use super::convert;
use super::progress::{forward_reports, JobProgress};
use super::server::ServerState;
use crate::agent::execute::{execute as run_items, item_contexts, ExecEvent, ExecSettings};
use crate::agent::execute::{ItemStatus, RunOutcome};
use crate::agent::plan::{parse_plan, store::plan_path, PlanItem, PlanItemKind};
use crate::analysis::outline::{Symbol, SymbolKind};
use crate::edits::{content_hash, ChangeKind, FileChange, ResolvedEdits};
use crate::runs::{NewRun, RunStatus, RunStore};
use crate::session::position::LineIndex;

/// Runs a plan file.
pub const EXECUTE_COMMAND: &str = "tandem.executePlan";
/// Cancels a running run.
pub const CANCEL_COMMAND: &str = "tandem.cancelRun";
/// Finishes the items of a run not yet done.
pub const RESUME_COMMAND: &str = "tandem.resumeRun";
/// The run history, as the command's result.
pub const RUNS_COMMAND: &str = "tandem.runs";
/// Cancels every run of this editor (the editors' "Cancel Run" without a run id).
pub const CANCEL_ALL_COMMAND: &str = "tandem.cancel";
/// Implements a stub function with a one-item run.
pub const IMPLEMENT_COMMAND: &str = "tandem.implement";

/// How long a whole run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(1800);
/// How long the editor may take to answer `workspace/applyEdit`.
const APPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a run waits for the workspace's first index.
const INDEX_WAIT: Duration = Duration::from_secs(120);
/// How long the test command may take in each attempt.
const TEST_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlanArgs {
    plan_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunArgs {
    run_id: String,
}

#[derive(Debug, Deserialize)]
struct ImplementArgs {
    uri: Uri,
    range: Range,
}

fn root_of(state: &ServerState, command: &str) -> Result<PathBuf> {
    state
        .folders()
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid_params(format!("{command} needs a workspace folder")))
}

/// `tandem.executePlan {planId}`.
pub(super) fn execute_plan(
    client: &Client,
    state: &Arc<ServerState>,
    arguments: Vec<Value>,
) -> Result<Option<Value>> {
    let args: PlanArgs = command_args(EXECUTE_COMMAND, "{planId}", arguments)?;
    let root = root_of(state, EXECUTE_COMMAND)?;
    let path = plan_path(&root, &args.plan_id);
    if !path.is_file() {
        return Err(Error::invalid_params(format!(
            "{EXECUTE_COMMAND}: no plan file {}",
            path.display()
        )));
    }
    let (c, s) = (client.clone(), state.clone());
    spawn_reported(client, EXECUTE_COMMAND, async move {
        let job = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || prepare_plan(&root, &path, None))
                .await
                .map_err(|e| format!("the run failed: {e}"))??
        };
        run_and_apply(&c, &s, &root, job).await
    });
    Ok(None)
}

/// `tandem.resumeRun {runId}`: the items of the run not yet done, from its plan file.
pub(super) fn resume_run(
    client: &Client,
    state: &Arc<ServerState>,
    arguments: Vec<Value>,
) -> Result<Option<Value>> {
    let args: RunArgs = command_args(RESUME_COMMAND, "{runId}", arguments)?;
    let root = root_of(state, RESUME_COMMAND)?;
    if state.runs.contains_key(&args.run_id) {
        return Err(Error::invalid_params(format!(
            "run {} is running; cancel it first",
            args.run_id
        )));
    }
    let (c, s) = (client.clone(), state.clone());
    spawn_reported(client, RESUME_COMMAND, async move {
        let job = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || {
                let store = RunStore::open(&root).map_err(|e| format!("run store: {e}"))?;
                let details = store
                    .show_run(&args.run_id)
                    .map_err(|e| format!("cannot resume: {e}"))?;
                let plan_id = details
                    .run
                    .plan_id
                    .clone()
                    .ok_or_else(|| format!("run {} has no plan to resume", details.run.id))?;
                prepare_plan(
                    &root,
                    &plan_path(&root, &plan_id),
                    Some((store, details.run.id)),
                )
            })
            .await
            .map_err(|e| format!("the run failed: {e}"))??
        };
        run_and_apply(&c, &s, &root, job).await
    });
    Ok(None)
}

/// `tandem.cancelRun {runId}`.
pub(super) fn cancel_run(state: &Arc<ServerState>, arguments: Vec<Value>) -> Result<Option<Value>> {
    // Without a run id (`tandem.cancel`, or `{}`): every run of this editor is cancelled.
    let wanted: Option<String> = arguments
        .first()
        .filter(|v| v.get("runId").is_some())
        .map(|_| command_args::<RunArgs>(CANCEL_COMMAND, "{runId}", arguments.clone()))
        .transpose()?
        .map(|a| a.run_id);
    let Some(run_id) = wanted else {
        let ids: Vec<String> = state.runs.iter().map(|e| e.key().clone()).collect();
        for id in &ids {
            if let Some(token) = state.runs.get(id) {
                token.cancel();
            }
        }
        tracing::info!("cancelling every run: {ids:?}");
        return Ok(Some(json!({"cancelled": ids})));
    };
    let args = RunArgs { run_id };
    match state.runs.get(&args.run_id) {
        Some(token) => {
            tracing::info!("cancelling run {}", args.run_id);
            token.cancel();
            Ok(Some(json!({"cancelled": true})))
        }
        None => Err(Error::invalid_params(format!(
            "run {} is not running in this editor",
            args.run_id
        ))),
    }
}

/// `tandem.runs {limit?}`: the run history of the workspace, newest first (what `tandem runs
/// --format json` prints), as the command's result.
pub(super) fn list_runs(state: &Arc<ServerState>, arguments: Vec<Value>) -> Result<Option<Value>> {
    let limit = arguments
        .first()
        .and_then(|a| a.get("limit"))
        .and_then(Value::as_u64)
        .unwrap_or(50) as usize;
    let root = root_of(state, RUNS_COMMAND)?;
    let Some(store) = RunStore::open_existing(&root).map_err(store_error)? else {
        return Ok(Some(json!([])));
    };
    let runs = store.list_runs(limit).map_err(store_error)?;
    Ok(Some(serde_json::to_value(runs).unwrap_or(Value::Null)))
}

/// Records every run of this editor still going as `interrupted`, as the server stops (the
/// editor exited or went away). Done before the runtime drops the runs' tasks: their model
/// connections close first, and a run would otherwise record the closed connection as its
/// failure. The store refuses any later failure of an interrupted run, and the run can be
/// resumed.
pub(super) async fn interrupt_runs(state: &Arc<ServerState>) {
    let ids: Vec<String> = state.runs.iter().map(|e| e.key().clone()).collect();
    let Some(root) = state.folders().into_iter().next() else {
        return;
    };
    if ids.is_empty() {
        return;
    }
    let marking = tokio::task::spawn_blocking(move || {
        let store = RunStore::open(&root).map_err(|e| e.to_string())?;
        for id in &ids {
            match store.interrupt_run(id, "the server stopped (the editor closed the connection)") {
                Ok(()) => tracing::warn!("run {id} interrupted: the server is stopping"),
                Err(e) => tracing::warn!("cannot mark run {id} interrupted: {e}"),
            }
        }
        Ok::<(), String>(())
    });
    match tokio::time::timeout(Duration::from_secs(5), marking).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("cannot mark the runs interrupted: run store: {e}"),
        Ok(Err(e)) => tracing::warn!("cannot mark the runs interrupted: {e}"),
        Err(_) => tracing::warn!("marking the runs interrupted took too long"),
    }
}

fn store_error(e: impl std::fmt::Display) -> Error {
    Error {
        code: tower_lsp_server::jsonrpc::ErrorCode::InternalError,
        message: format!("run store: {e}").into(),
        data: None,
    }
}

/// A run ready to go: the items still to do, recorded in the store.
struct Job {
    store: RunStore,
    run_id: String,
    items: Vec<PlanItem>,
    max_attempts: u32,
    title: String,
}

/// Reads the plan file (the user's edits included) and records a new run, or takes the
/// pending items of `resume`.
fn prepare_plan(
    root: &Path,
    path: &Path,
    resume: Option<(RunStore, String)>,
) -> std::result::Result<Job, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the plan {}: {e}", path.display()))?;
    let parsed =
        parse_plan(&text).map_err(|e| format!("{}: {}", path.display(), e.problems.join("; ")))?;
    let plan = parsed.plan;
    let (mut items, _notes) = plan.runnable();
    let (store, run_id) = match resume {
        Some((store, id)) => {
            let pending = store.pending_items(&id).map_err(|e| e.to_string())?;
            items.retain(|i| pending.contains(&i.id));
            (store, id)
        }
        None => {
            let store = RunStore::open(root).map_err(|e| format!("run store: {e}"))?;
            let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
            let id = store
                .create_run(&NewRun {
                    kind: "execute",
                    request: &plan.request,
                    plan_id: Some(&plan.id),
                    items: &ids,
                })
                .map_err(|e| format!("run store: {e}"))?;
            (store, id)
        }
    };
    Ok(Job {
        store,
        run_id,
        items,
        max_attempts: plan.estimate.iterations.max(1),
        title: format!("Running plan {}", plan.id),
    })
}

/// Carries out `job` and sends its changes to the editor; the message to show.
async fn run_and_apply(
    client: &Client,
    state: &Arc<ServerState>,
    root: &Path,
    job: Job,
) -> std::result::Result<String, String> {
    let waited = std::time::Instant::now();
    while !state.index_ready.load(Ordering::SeqCst) {
        if waited.elapsed() > INDEX_WAIT {
            return Err("the workspace is still being indexed; run again when it is done".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Job {
        store,
        run_id,
        items,
        max_attempts,
        title,
    } = job;
    let contexts = {
        let state = state.clone();
        let items = items.clone();
        let root = root.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut index = state.index.lock().unwrap_or_else(|e| e.into_inner());
            item_contexts(&items, &mut index, &root)
        })
        .await
        .map_err(|e| format!("the run failed: {e}"))?
    };
    let settings = {
        let loaded = state.config.read().unwrap_or_else(|e| e.into_inner());
        let config = &loaded.config;
        ExecSettings {
            max_attempts: max_attempts.min(config.run.max_iterations).max(1),
            concurrency: config.run.concurrency.max(1),
            quality_threshold: config.run.quality_threshold,
            test_command: config.run.test_command.clone(),
            test_timeout: TEST_TIMEOUT,
            review: config.review.clone(),
        }
    };
    let router = state.router();
    let cancel = CancellationToken::new();
    state.runs.insert(run_id.clone(), cancel.clone());
    let progress = JobProgress::begin(
        client,
        state,
        &cancel,
        "run",
        &title,
        format!("run {run_id}: starting"),
    )
    .await;
    let (tx, forward) = forward_reports(&progress, |message: String| (message, 0, 0));
    let on_event = move |event: ExecEvent| {
        let _ = tx.send(event.describe(false));
    };
    let outcome = tokio::time::timeout(
        RUN_TIMEOUT,
        run_items(
            &items,
            root,
            &contexts,
            &router,
            &store,
            &run_id,
            &settings,
            cancel.clone(),
            &on_event,
        ),
    )
    .await;
    drop(on_event);
    if let Some(forward) = forward {
        let _ = forward.await;
    }
    state.runs.remove(&run_id);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(_) => {
            cancel.cancel();
            let _ = store.cancel_run(&run_id, Some("took too long"));
            let message = format!(
                "run {run_id} took longer than {}s and was stopped; nothing was applied",
                RUN_TIMEOUT.as_secs()
            );
            if let Some(p) = progress {
                p.end(state, message.clone()).await;
            }
            return Err(message);
        }
    };
    let result = finish(client, state, root, &store, &outcome).await;
    if let Some(p) = progress {
        let message = match &result {
            Ok(m) | Err(m) => m.clone(),
        };
        p.end(state, message).await;
    }
    result
}

/// Reports the outcome and applies its changes.
async fn finish(
    client: &Client,
    state: &Arc<ServerState>,
    root: &Path,
    store: &RunStore,
    outcome: &RunOutcome,
) -> std::result::Result<String, String> {
    let run_id = &outcome.run_id;
    let failures: Vec<String> = outcome
        .items
        .iter()
        .filter_map(|i| match &i.status {
            ItemStatus::Failed(e) => Some(format!("{} failed: {e}", i.id)),
            ItemStatus::Blocked(e) => Some(format!("{} not run: {e}", i.id)),
            _ => None,
        })
        .collect();
    let failed = if failures.is_empty() {
        String::new()
    } else {
        format!("; {}", failures.join("; "))
    };
    if outcome.status == RunStatus::Cancelled {
        return Err(format!("run {run_id} was cancelled; nothing was applied"));
    }
    if outcome.changes.is_empty() {
        let message = format!("run {run_id}: {}; no changes{failed}", outcome.status);
        return if outcome.status == RunStatus::Succeeded {
            Ok(message)
        } else {
            Err(message)
        };
    }
    let record = |payload: Value| {
        if let Err(e) = store.record_event(run_id, "apply", &payload) {
            tracing::warn!("cannot record the apply of run {run_id}: {e}");
        }
    };
    let files: Vec<&str> = outcome
        .changes
        .files
        .iter()
        .map(|f| f.path.relative())
        .collect();
    match apply_changes(client, state, root, &outcome.changes).await {
        Ok(how) => {
            record(json!({"applied": true, "files": files, "how": how}));
            let message = format!(
                "run {run_id}: {}; applied changes to {}{failed}",
                outcome.status,
                files.join(", ")
            );
            if outcome.status == RunStatus::Succeeded {
                Ok(message)
            } else {
                Err(message)
            }
        }
        Err(reason) => {
            record(json!({"applied": false, "files": files, "reason": reason}));
            Err(format!(
                "run {run_id}: {}; {reason}; nothing was applied{failed}",
                outcome.status
            ))
        }
    }
}

/// The open documents by canonical path: (URI, version, text).
fn open_documents(state: &ServerState) -> HashMap<PathBuf, (Uri, i32, String)> {
    let mut out = HashMap::new();
    for key in state.documents.uris() {
        let Ok(uri) = key.parse::<Uri>() else {
            continue;
        };
        let Some(path) = uri.to_file_path().map(|p| p.into_owned()) else {
            continue;
        };
        let Some(snapshot) = state.documents.snapshot(&key) else {
            continue;
        };
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        out.insert(path, (uri, snapshot.version, snapshot.text()));
    }
    out
}

fn text_edits(
    change: &FileChange,
    encoding: crate::session::position::PositionEncoding,
) -> Vec<OneOf<TextEdit, AnnotatedTextEdit>> {
    let original = change.original.as_deref().unwrap_or("");
    let lines = LineIndex::new(original);
    change
        .edits
        .iter()
        .map(|e| {
            OneOf::Left(TextEdit {
                range: convert::lsp_range(&lines, e.range.clone(), encoding),
                new_text: e.new_text.clone(),
            })
        })
        .collect()
}

fn uri_of(change: &FileChange) -> std::result::Result<Uri, String> {
    Uri::from_file_path(change.path.absolute())
        .ok_or_else(|| format!("no URI for {}", change.path.relative()))
}

/// Sends (or, without client support, writes) the changes; how they were applied, or why
/// nothing was.
async fn apply_changes(
    client: &Client,
    state: &Arc<ServerState>,
    root: &Path,
    changes: &ResolvedEdits,
) -> std::result::Result<&'static str, String> {
    let open = open_documents(state);
    let encoding = state.encoding();
    // Every file must still hold the text the run used.
    let mut on_disk = Vec::new();
    let mut in_editor = Vec::new();
    for change in &changes.files {
        let path = change.path.absolute();
        match change.kind {
            ChangeKind::Create => {
                if path.exists() || open.contains_key(path) {
                    return Err(format!("{} exists already", change.path.relative()));
                }
                on_disk.push(change);
            }
            ChangeKind::Modify => {
                let expected = change.original_hash;
                if let Some((uri, version, text)) = open.get(path) {
                    if Some(content_hash(text.as_bytes())) != expected {
                        return Err(format!(
                            "{} changed in the editor since the run read it (save it and run again)",
                            change.path.relative()
                        ));
                    }
                    in_editor.push((change, uri.clone(), *version));
                } else {
                    let bytes = std::fs::read(path)
                        .map_err(|e| format!("cannot read {}: {e}", change.path.relative()))?;
                    if Some(content_hash(&bytes)) != expected {
                        return Err(format!(
                            "{} changed on disk since the run read it",
                            change.path.relative()
                        ));
                    }
                    on_disk.push(change);
                }
            }
        }
    }
    let versioned = state.client_document_changes.load(Ordering::SeqCst);
    let creates = state.client_creates_files.load(Ordering::SeqCst);
    let has_create = changes.files.iter().any(|c| c.kind == ChangeKind::Create);
    if versioned && (creates || !has_create) {
        let mut operations = Vec::new();
        for change in &changes.files {
            let uri = uri_of(change)?;
            let version = in_editor
                .iter()
                .find(|(c, _, _)| std::ptr::eq(*c, change))
                .map(|(_, _, v)| *v);
            if change.kind == ChangeKind::Create {
                operations.push(DocumentChangeOperation::Op(ResourceOp::Create(
                    CreateFile {
                        uri: uri.clone(),
                        options: Some(CreateFileOptions {
                            overwrite: Some(false),
                            ignore_if_exists: Some(false),
                        }),
                        annotation_id: None,
                    },
                )));
            }
            operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier { uri, version },
                edits: text_edits(change, encoding),
            }));
        }
        let edit = WorkspaceEdit {
            document_changes: Some(DocumentChanges::Operations(operations)),
            ..WorkspaceEdit::default()
        };
        return send(client, edit).await.map(|()| "editor");
    }
    // Fallback: open documents through plain `changes`, the other files written here.
    if !in_editor.is_empty() {
        let mut map = HashMap::new();
        for (change, uri, _) in &in_editor {
            map.insert(
                uri.clone(),
                text_edits(change, encoding)
                    .into_iter()
                    .map(|e| match e {
                        OneOf::Left(e) => e,
                        OneOf::Right(a) => a.text_edit,
                    })
                    .collect(),
            );
        }
        send(
            client,
            WorkspaceEdit {
                changes: Some(map),
                ..WorkspaceEdit::default()
            },
        )
        .await?;
    }
    if !on_disk.is_empty() {
        let rest = ResolvedEdits {
            files: on_disk.into_iter().cloned().collect(),
        };
        let root = root.to_path_buf();
        tokio::task::spawn_blocking(move || crate::edits::apply(&root, &rest))
            .await
            .map_err(|e| format!("writing failed: {e}"))?
            .map_err(|e| {
                if in_editor.is_empty() {
                    e.to_string()
                } else {
                    format!("{e} (the open documents were changed in the editor)")
                }
            })?;
    }
    Ok("disk")
}

async fn send(client: &Client, edit: WorkspaceEdit) -> std::result::Result<(), String> {
    match tokio::time::timeout(APPLY_TIMEOUT, client.apply_edit(edit)).await {
        Ok(Ok(response)) if response.applied => Ok(()),
        Ok(Ok(response)) => Err(format!(
            "the editor did not apply the edit ({})",
            response
                .failure_reason
                .unwrap_or_else(|| "no reason given".to_string())
        )),
        Ok(Err(e)) => Err(format!("the editor could not apply the edit: {e}")),
        Err(_) => Err(format!(
            "the editor did not answer workspace/applyEdit within {}s",
            APPLY_TIMEOUT.as_secs()
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Implement

/// The function at `offset` that can be implemented: a stub, or one with a `# TODO` line.
fn implementable(symbols: &[Symbol], text: &str, offset: usize) -> Option<Symbol> {
    let symbol = symbols
        .iter()
        .find(|s| s.range.start <= offset && offset < s.range.end)?;
    if let Some(inner) = implementable(&symbol.children, text, offset) {
        return Some(inner);
    }
    if symbol.kind == SymbolKind::Class {
        return None;
    }
    let body = text.get(symbol.body_range.clone()).unwrap_or("");
    let todo = body
        .lines()
        .any(|l| l.trim_start().starts_with('#') && l.contains("TODO"));
    (symbol.is_stub || todo).then(|| symbol.clone())
}

/// The stub function at `range` of the open document `uri`: its symbol and module.
fn stub_at(state: &ServerState, uri: &Uri, range: Range) -> Option<(Symbol, String)> {
    let key = convert::document_key(uri);
    let snapshot = state.documents.snapshot(&key)?;
    let text = snapshot.shared_text();
    let lines = LineIndex::new(&text);
    let offset = lines.offset_of(convert::text_position(range.start), state.encoding());
    let outline = snapshot.outline();
    let mut stub = implementable(&outline.symbols, &text, offset)?;
    let path = uri.to_file_path()?.into_owned();
    let module = state
        .source_roots
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .module_of(&path)
        .name;
    // The shared outline's names start at the file's top level; the run wants them dotted
    // from the module.
    if !module.is_empty() {
        stub.qualified_name = format!("{module}.{}", stub.qualified_name);
    }
    Some((stub, module))
}

/// "Implement `name` with AI" on a stub function.
pub(super) fn code_actions(
    state: &ServerState,
    params: &CodeActionParams,
) -> Vec<CodeActionOrCommand> {
    let kind = CodeActionKind::REFACTOR_REWRITE;
    let wanted = params.context.only.as_ref().is_none_or(|only| {
        only.iter().any(|o| {
            kind.as_str() == o.as_str() || kind.as_str().starts_with(&format!("{}.", o.as_str()))
        })
    });
    if !wanted || state.folders().is_empty() {
        return Vec::new();
    }
    let Some((symbol, _)) = stub_at(state, &params.text_document.uri, params.range) else {
        return Vec::new();
    };
    let title = format!("Implement `{}` with AI", symbol.name);
    vec![CodeActionOrCommand::CodeAction(CodeAction {
        title: title.clone(),
        kind: Some(kind),
        command: Some(Command {
            title,
            command: IMPLEMENT_COMMAND.to_string(),
            arguments: Some(vec![json!({
                "uri": params.text_document.uri.as_str(),
                "range": params.range,
            })]),
        }),
        ..CodeAction::default()
    })]
}

/// `tandem.implement {uri, range}`: a one-item run on the stub there.
pub(super) fn implement(
    client: &Client,
    state: &Arc<ServerState>,
    arguments: Vec<Value>,
) -> Result<Option<Value>> {
    let args: ImplementArgs = command_args(IMPLEMENT_COMMAND, "{uri, range}", arguments)?;
    let root = root_of(state, IMPLEMENT_COMMAND)?;
    let (symbol, _module) = stub_at(state, &args.uri, args.range).ok_or_else(|| {
        Error::invalid_params(format!(
            "{IMPLEMENT_COMMAND}: no stub function at that place in an open document"
        ))
    })?;
    let path = args
        .uri
        .to_file_path()
        .map(|p| p.into_owned())
        .ok_or_else(|| Error::invalid_params("tandem.implement needs a file URI"))?;
    let file = crate::session::project_files::relative_path(&root, &path);
    let short = symbol
        .qualified_name
        .rsplit('.')
        .take(if symbol.kind == SymbolKind::Method {
            2
        } else {
            1
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(".");
    let description = format!(
        "Implement `{short}`: replace the stub with a working implementation; keep the signature and docstring"
    );
    let item = PlanItem {
        id: "implement".to_string(),
        title: format!("Implement `{short}`"),
        kind: PlanItemKind::Modify,
        file,
        symbols: vec![symbol.qualified_name.clone()],
        description: description.clone(),
        depends_on: Vec::new(),
        enabled: true,
    };
    let (c, s) = (client.clone(), state.clone());
    spawn_reported(client, IMPLEMENT_COMMAND, async move {
        let job = {
            let root = root.clone();
            tokio::task::spawn_blocking(move || {
                let store = RunStore::open(&root).map_err(|e| format!("run store: {e}"))?;
                let run_id = store
                    .create_run(&NewRun {
                        kind: "implement",
                        request: &description,
                        plan_id: None,
                        items: std::slice::from_ref(&item.id),
                    })
                    .map_err(|e| format!("run store: {e}"))?;
                Ok::<_, String>(Job {
                    store,
                    run_id,
                    items: vec![item],
                    max_attempts: u32::MAX,
                    title: format!("Implementing `{short}`"),
                })
            })
            .await
            .map_err(|e| format!("the run failed: {e}"))??
        };
        run_and_apply(&c, &s, &root, job).await
    });
    Ok(None)
}
