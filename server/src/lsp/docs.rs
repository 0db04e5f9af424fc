//! Documentation in the editor: the code actions that offer it and the `tandem.document`
//! command that does it.
//!
//! Code actions only describe what can be done (they carry the command, no edit), so the menu
//! opens at once; nothing here calls a model in a handler. The command answers immediately and
//! works in a spawned task: it documents one version of the text, sends the result as one
//! versioned `workspace/applyEdit`, and, when the editor rejects it because the user kept
//! typing, recomputes once on the new text and tries again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::commands::{open_document, spawn_reported, DocumentArgs};
use super::convert;
use super::progress::{forward_reports, JobProgress};
use super::server::ServerState;
use crate::agent::document::{
    document_offline, document_with_model, DocAnchor, DocContext, DocError, DocFile, DocOutcome,
    DocProgress, DocScope, DocSettings, Origin,
};
use crate::analysis::outline::Symbol;
use crate::session::documents::DocumentSnapshot;
use crate::session::position::LineIndex;

/// The command that documents a symbol (with a range) or a whole file (without).
pub const DOCUMENT_COMMAND: &str = "tandem.document";
/// The source action's kind.
pub const DOCUMENT_FILE_KIND: &str = "source.tandem.documentFile";

/// How long the editor may take to answer `workspace/applyEdit`.
const APPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a whole documentation run with a model may take.
const MODEL_RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// The documentation code actions at `range`: generate (or update) the docstring of the
/// symbol there, and document the whole file.
pub(super) fn code_actions(
    state: &ServerState,
    params: &CodeActionParams,
) -> Result<Vec<CodeActionOrCommand>> {
    let uri = &params.text_document.uri;
    let key = convert::document_key(uri);
    let Some(snapshot) = state.documents.snapshot(&key) else {
        return Err(super::document_symbol::unknown_document(state, &key));
    };
    let wants = |kind: &CodeActionKind| match &params.context.only {
        None => true,
        Some(only) => only.iter().any(|o| {
            kind.as_str() == o.as_str() || kind.as_str().starts_with(&format!("{}.", o.as_str()))
        }),
    };
    let text = snapshot.shared_text();
    let lines = LineIndex::new(&text);
    let offset = lines.offset_of(convert::text_position(params.range.start), state.encoding());
    let outline = snapshot.outline();
    let mut actions = Vec::new();
    let rewrite = CodeActionKind::REFACTOR_REWRITE;
    if wants(&rewrite) {
        let (title, range) = match innermost(&outline.symbols, offset) {
            Some(symbol) => {
                let title = if symbol.docstring.is_none() {
                    Some(format!("Generate docstring for `{}`", symbol.name))
                } else if docstring_fails_checks(&text, &snapshot.tree, symbol) {
                    Some(format!("Update docstring of `{}`", symbol.name))
                } else {
                    None
                };
                (title, Some(params.range))
            }
            None if outline.docstring.is_none() && !text.trim().is_empty() => (
                Some("Generate docstring for this module".to_string()),
                Some(params.range),
            ),
            None => (None, None),
        };
        if let Some(title) = title {
            actions.push(action(title.clone(), rewrite, uri, range));
        }
    }
    if wants(&CodeActionKind::QUICKFIX) {
        actions.extend(quick_fixes(state, params, &snapshot, &text, &lines));
    }
    let file_kind = CodeActionKind::new(DOCUMENT_FILE_KIND);
    if wants(&file_kind) || wants(&CodeActionKind::SOURCE) {
        actions.push(action(
            "Document all undocumented symbols in file".to_string(),
            file_kind,
            uri,
            None,
        ));
    }
    Ok(actions)
}

/// "Update docstring to match signature" for each DOC diagnostic of the request: the edit is
/// computed now (static analysis only, no model) on this version of the text, so it carries
/// that version.
fn quick_fixes(
    state: &ServerState,
    params: &CodeActionParams,
    snapshot: &crate::session::documents::DocumentSnapshot,
    text: &str,
    lines: &LineIndex<'_>,
) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    let mut done: Vec<usize> = Vec::new();
    for diagnostic in &params.context.diagnostics {
        let is_doc = diagnostic.source.as_deref() == Some("tandem")
            && matches!(&diagnostic.code, Some(NumberOrString::String(c)) if c.starts_with("DOC"));
        if !is_doc {
            continue;
        }
        let offset = lines.offset_of(
            convert::text_position(diagnostic.range.start),
            state.encoding(),
        );
        let file = DocFile {
            path: PathBuf::from(params.text_document.uri.path().as_str()),
            module: String::new(),
            source: Arc::from(text),
        };
        let Ok(outcome) = document_offline(&file, &DocScope::At(offset), &DocSettings::default())
        else {
            continue;
        };
        let Some(edit) = outcome.edits.first() else {
            continue;
        };
        if done.contains(&edit.range.start) {
            // One fix per docstring, linked to each of its diagnostics.
            if let Some(CodeActionOrCommand::CodeAction(a)) = out.last_mut() {
                if let Some(d) = a.diagnostics.as_mut() {
                    d.push(diagnostic.clone());
                }
            }
            continue;
        }
        done.push(edit.range.start);
        let workspace_edit = convert::versioned_edit(
            &params.text_document.uri,
            snapshot.version,
            [(edit.range.clone(), edit.new_text.clone())],
            lines,
            state.encoding(),
        );
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: "Update docstring to match signature".to_string(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic.clone()]),
            edit: Some(workspace_edit),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    out
}

fn action(
    title: String,
    kind: CodeActionKind,
    uri: &Uri,
    range: Option<Range>,
) -> CodeActionOrCommand {
    let mut args = serde_json::json!({ "uri": uri.as_str() });
    if let Some(range) = range {
        args["range"] = serde_json::to_value(range).unwrap_or(Value::Null);
    }
    CodeActionOrCommand::CodeAction(CodeAction {
        title: title.clone(),
        kind: Some(kind),
        command: Some(Command {
            title,
            command: DOCUMENT_COMMAND.to_string(),
            arguments: Some(vec![args]),
        }),
        ..CodeAction::default()
    })
}

fn innermost(symbols: &[Symbol], offset: usize) -> Option<&Symbol> {
    let symbol = symbols
        .iter()
        .find(|s| s.range.start <= offset && offset < s.range.end)?;
    innermost(&symbol.children, offset).or(Some(symbol))
}

/// Whether the DOC checks find something wrong with `symbol`'s docstring.
fn docstring_fails_checks(text: &str, tree: &tree_sitter::Tree, symbol: &Symbol) -> bool {
    let style = symbol
        .docstring
        .as_ref()
        .and_then(|d| crate::context::profile::detect_docstring_style(&d.text))
        .unwrap_or_default();
    !crate::agent::oracle::doc_check_findings(text, tree, symbol.range.clone(), style).is_empty()
}

/// `workspace/executeCommand tandem.document`: checks the arguments, starts the work in a
/// spawned task and answers at once.
pub(super) fn execute(
    client: &Client,
    state: &Arc<ServerState>,
    arguments: Vec<Value>,
) -> Result<Option<Value>> {
    // The document as it is when the command arrives, which is the text its range was given
    // in: taken here, before answering, so that a change sent after the command is not
    // documented with it (the spawned task may start after that change has landed).
    let (args, snapshot) = open_document(state, DOCUMENT_COMMAND, arguments)?;
    let state = state.clone();
    let task_client = client.clone();
    spawn_reported(client, DOCUMENT_COMMAND, async move {
        document_and_apply(&task_client, &state, &args, snapshot).await
    });
    Ok(None)
}

/// Documents the document named by `args`, from `first` (its snapshot when the command
/// arrived), applies the result, and when the editor rejects it recomputes once on the text as
/// it is then, for the same symbol (found again by name: typing may have moved it); returns
/// what to tell the user.
async fn document_and_apply(
    client: &Client,
    state: &Arc<ServerState>,
    args: &DocumentArgs,
    first: DocumentSnapshot,
) -> std::result::Result<String, String> {
    let key = convert::document_key(&args.uri);
    let mut last_failure = String::new();
    let mut first = Some(first);
    // What the range of `args` named in the first text.
    let mut anchor: Option<DocAnchor> = None;
    for attempt in 0..2 {
        let snapshot = match first.take() {
            Some(snapshot) => snapshot,
            None => state
                .documents
                .snapshot(&key)
                .ok_or_else(|| format!("{key} was closed before it could be documented"))?,
        };
        let text: Arc<str> = snapshot.shared_text();
        let version = snapshot.version;
        let path = args
            .uri
            .to_file_path()
            .map(|p| p.into_owned())
            .unwrap_or_else(|| PathBuf::from(args.uri.path().as_str()));
        let module = state
            .source_roots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .module_of(&path)
            .name;
        let display = state
            .folders()
            .iter()
            .find_map(|root| path.strip_prefix(root).ok().map(|p| p.to_path_buf()))
            .unwrap_or_else(|| path.clone());
        let scope = match (args.range, &anchor) {
            (None, _) => DocScope::File,
            (Some(range), None) => {
                let lines = LineIndex::new(&text);
                let offset = lines.offset_of(convert::text_position(range.start), state.encoding());
                anchor = Some(DocAnchor::at(&snapshot.outline(), offset));
                DocScope::At(offset)
            }
            (Some(_), Some(anchor)) => anchor.scope_in(&snapshot.outline()).ok_or_else(|| {
                format!("docstrings not applied: {anchor} is no longer in the document")
            })?,
        };
        let module_prefix = format!("{module}.");
        let file = DocFile {
            path: display,
            module,
            source: text.clone(),
        };
        let outcome = compute(client, state, file, scope).await?;

        // Typing went on while the docstrings were written: the edit would be rejected.
        if state.documents.version(&key) != Some(version) {
            last_failure = "the document changed while the docstrings were written".to_string();
            continue;
        }
        let lines = LineIndex::new(&text);
        let encoding = state.encoding();
        let edit = convert::versioned_edit(
            &args.uri,
            version,
            outcome
                .edits
                .iter()
                .map(|e| (e.range.clone(), e.new_text.clone())),
            &lines,
            encoding,
        );
        match tokio::time::timeout(APPLY_TIMEOUT, client.apply_edit(edit)).await {
            Ok(Ok(response)) if response.applied => {
                remember_twin_notes(state, &key, &module_prefix, &outcome);
                return Ok(summary(&outcome));
            }
            Ok(Ok(response)) => {
                last_failure = response
                    .failure_reason
                    .unwrap_or_else(|| "the editor rejected the edit".to_string());
                tracing::info!("docstring edit rejected (attempt {}): {last_failure}", attempt + 1);
                // A rejection usually means the user typed: the change notification may still
                // be on its way (handlers run concurrently), so give it a moment to land
                // before recomputing on the text as it is then.
                for _ in 0..50 {
                    if state.documents.version(&key) != Some(version) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Ok(Err(e)) => return Err(format!("the editor could not apply the docstrings: {e}")),
            Err(_) => {
                return Err(format!(
                    "the editor did not answer workspace/applyEdit within {}s; nothing was applied by Tandem",
                    APPLY_TIMEOUT.as_secs()
                ))
            }
        }
    }
    Err(format!(
        "docstrings not applied: {last_failure} (tried twice; run the action again)"
    ))
}

/// Runs the engine: the documenter model when one is configured, else the built-in engine on
/// the blocking pool.
async fn compute(
    client: &Client,
    state: &Arc<ServerState>,
    file: DocFile,
    scope: DocScope,
) -> std::result::Result<DocOutcome, String> {
    // The majority style reads the index, whose lock a re-solve may hold: not on this thread.
    let settings = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.doc_settings())
            .await
            .unwrap_or_default()
    };
    let router = state.router();
    let uses_model = router
        .chain(crate::models::Role::Documenter)
        .iter()
        .any(|m| m != crate::session::config::BUILTIN_MODEL);
    let result = if uses_model {
        // The call graph and the profile give the prompts their context; read on the blocking
        // pool, where waiting for the index lock is allowed.
        let context = {
            let state = state.clone();
            let module = file.module.clone();
            tokio::task::spawn_blocking(move || {
                let root = state.folders().into_iter().next();
                let index = state.index.lock().unwrap_or_else(|e| e.into_inner());
                let display = |p: &std::path::Path| match &root {
                    Some(r) => crate::session::project_files::relative_path(r, p),
                    None => p.display().to_string(),
                };
                let mut context = DocContext::from_index(&index, &module, &display);
                if let Some(root) = &root {
                    context.profile =
                        crate::session::project_files::profile_of(root, &index).render();
                }
                context
            })
            .await
            .unwrap_or_default()
        };
        let cancel = tokio_util::sync::CancellationToken::new();
        let progress = JobProgress::begin(
            client,
            state,
            &cancel,
            "document",
            "Documenting",
            file.path.display().to_string(),
        )
        .await;
        let (tx, forward) = forward_reports(&progress, |d: DocProgress| {
            (
                format!("{}/{} {}", d.done, d.total, d.symbol),
                d.done,
                d.total,
            )
        });
        let run = tokio::time::timeout(
            MODEL_RUN_TIMEOUT,
            document_with_model(
                &file,
                &scope,
                &settings,
                &router,
                &context,
                cancel.clone(),
                &move |d| {
                    let _ = tx.send(d);
                },
            ),
        )
        .await;
        if let Some(forward) = forward {
            let _ = forward.await;
        }
        let result = match run {
            Ok(result) => result,
            Err(_) => {
                cancel.cancel();
                Err(DocError::Placement(format!(
                    "the documentation run took longer than {}s and was stopped; nothing was applied",
                    MODEL_RUN_TIMEOUT.as_secs()
                )))
            }
        };
        if let Some(p) = progress {
            let message = match &result {
                Ok(o) => format!("documented {} symbols", o.documented.len()),
                Err(e) => e.to_string(),
            };
            p.end(state, message).await;
        }
        result
    } else {
        tokio::task::spawn_blocking(move || document_offline(&file, &scope, &settings))
            .await
            .map_err(|e| format!("documentation failed: {e}"))?
    };
    result.map_err(|e| e.to_string())
}

/// Keeps the twin-mode disagreements of an applied run for the document's diagnostics.
fn remember_twin_notes(state: &ServerState, key: &str, module_prefix: &str, outcome: &DocOutcome) {
    let notes: Vec<(String, String, String)> = outcome
        .documented
        .iter()
        .flat_map(|d| {
            let path = d
                .qualified_name
                .strip_prefix(module_prefix)
                .unwrap_or(&d.qualified_name)
                .to_string();
            d.disagreements
                .iter()
                .map(move |n| (path.clone(), d.text.clone(), n.clone()))
        })
        .collect();
    if !notes.is_empty() {
        state
            .doc_notes
            .entry(key.to_string())
            .or_default()
            .extend(notes);
    }
}

fn summary(outcome: &DocOutcome) -> String {
    let n = outcome.documented.len();
    let fallbacks = outcome
        .documented
        .iter()
        .filter(|d| matches!(d.origin, Origin::BuiltinAfterModel { .. }))
        .count();
    let mut s = format!("documented {n} symbol{}", if n == 1 { "" } else { "s" });
    if fallbacks > 0 {
        // Why: a model that cannot be reached is not an answer that failed the checks.
        s.push_str(&format!(
            " ({fallbacks} with the built-in docstring instead of the model's: {})",
            outcome.fallback_reasons().join("; ")
        ));
    }
    if !outcome.skipped.is_empty() {
        s.push_str(&format!(
            "; {} skipped: {}",
            outcome.skipped.len(),
            outcome
                .skipped
                .iter()
                .map(|(sym, why)| format!("{sym} ({why})"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s
}
