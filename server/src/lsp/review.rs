//! AI review in the editor: the code actions that offer it, the `tandem.review` command that
//! runs it, the findings kept per document and published as diagnostics (source
//! `tandem-review`) until the code they point at changes, and the quick fixes that apply a
//! suggested replacement.
//!
//! The command answers at once and reviews one version of the text in a spawned task (with a
//! cancellable `$/progress` and a time limit when a model is asked). The findings are stored
//! with the text they were computed on; every diagnostics publish re-anchors them to the text
//! being published (`agent::review::reanchor`), so results computed on an older version are
//! never shown at stale positions, findings follow lines moved above them, and findings whose
//! lines were edited or deleted go away.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::commands::{open_document, spawn_reported, DocumentArgs};
use super::convert;
use super::progress::JobProgress;
use super::server::ServerState;
use crate::agent::document::DocContext;
use crate::agent::review::{
    innermost, reanchor, replacement_edit, review, ReviewError, ReviewFile, ReviewFinding,
    ReviewOutcome, ReviewScope, ReviewTarget,
};
use crate::analysis::finding::{Finding, Severity};
use crate::session::documents::DocumentSnapshot;
use crate::session::position::{LineIndex, PositionEncoding};

/// The command that reviews a symbol, a selection or a file.
pub const REVIEW_COMMAND: &str = "tandem.review";
/// The kind of the review code actions.
pub const REVIEW_KIND: &str = "source.tandem.review";
/// The `source` of review diagnostics.
pub const REVIEW_SOURCE: &str = "tandem-review";

/// How long a whole review with a model may take.
const MODEL_RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// The review findings of each open document, anchored to one text of it.
#[derive(Debug, Default)]
pub struct ReviewStore {
    documents: dashmap::DashMap<String, StoredReview>,
}

#[derive(Debug, Clone)]
struct StoredReview {
    /// The text the findings' lines and ranges refer to.
    text: Arc<str>,
    /// Its version.
    version: i32,
    findings: Vec<ReviewFinding>,
}

impl ReviewStore {
    /// Keeps the findings of a finished review of `text`: earlier findings in the reviewed
    /// lines (all of them for a whole-file review) give way to the new ones.
    fn land(
        &self,
        key: &str,
        text: Arc<str>,
        version: i32,
        target: &ReviewTarget,
        findings: Vec<ReviewFinding>,
    ) {
        let mut entry = self
            .documents
            .entry(key.to_string())
            .or_insert_with(|| StoredReview {
                text: text.clone(),
                version,
                findings: Vec::new(),
            });
        let mut kept = if *entry.text == *text {
            entry.findings.clone()
        } else {
            reanchor(&entry.text, &text, &entry.findings)
        };
        kept.retain(|f| {
            !target.is_file()
                && (f.end_line() < target.first_line || f.start_line > target.last_line)
        });
        kept.extend(findings);
        kept.sort_by_key(|f| (f.finding.range.start, f.finding.range.end));
        *entry = StoredReview {
            text,
            version,
            findings: kept,
        };
    }

    /// The findings re-anchored to `text`, without changing what is stored.
    fn findings_on(&self, key: &str, text: &str) -> Vec<ReviewFinding> {
        let Some(stored) = self.documents.get(key) else {
            return Vec::new();
        };
        if *stored.text == *text {
            stored.findings.clone()
        } else {
            reanchor(&stored.text, text, &stored.findings)
        }
    }
}

/// Forgets the review findings of a closed document.
pub(super) fn forget(state: &ServerState, key: &str) {
    state.reviews.documents.remove(key);
}

/// The review diagnostics of a publish of `text` at `version`: the stored findings re-anchored
/// to it (and kept so), leaving out any that repeats a finding of `live` (the built-in ones the
/// offline review answers with are already published).
pub(super) fn diagnostics(
    state: &ServerState,
    key: &str,
    text: &str,
    version: i32,
    live: &[Finding],
    lines: &LineIndex<'_>,
    encoding: PositionEncoding,
) -> Vec<Diagnostic> {
    let Some(mut stored) = state.reviews.documents.get_mut(key) else {
        return Vec::new();
    };
    // An older text than the findings': this publish is stale and will be dropped.
    if version < stored.version {
        return Vec::new();
    }
    if *stored.text != *text {
        let moved = reanchor(&stored.text, text, &stored.findings);
        stored.findings = moved;
        stored.text = Arc::from(text);
    }
    stored.version = version;
    stored
        .findings
        .iter()
        .filter(|f| {
            !live
                .iter()
                .any(|l| l.code == f.finding.code && l.range == f.finding.range)
        })
        .map(|f| to_diagnostic(f, lines, encoding))
        .collect()
}

fn to_diagnostic(
    f: &ReviewFinding,
    lines: &LineIndex<'_>,
    encoding: PositionEncoding,
) -> Diagnostic {
    Diagnostic {
        range: convert::lsp_range(lines, f.finding.range.clone(), encoding),
        severity: Some(match f.finding.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Information => DiagnosticSeverity::INFORMATION,
            Severity::Hint => DiagnosticSeverity::HINT,
        }),
        code: Some(NumberOrString::String(f.finding.code.clone())),
        source: Some(REVIEW_SOURCE.to_string()),
        message: f.finding.message.clone(),
        ..Diagnostic::default()
    }
}

/// Whether the reviewer role has a model besides the built-in engine.
fn reviewer_model_configured(state: &ServerState) -> bool {
    state
        .config
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .config
        .roles
        .reviewer
        .iter()
        .any(|m| m != crate::session::config::BUILTIN_MODEL)
}

/// The review code actions at `range`: review the function or class there (or the selected
/// lines), review the file; and the quick fixes of review diagnostics with a suggested
/// replacement that still applies.
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
    let text = snapshot.text();
    let lines = LineIndex::new(&text);
    let mut actions = Vec::new();
    let kind = CodeActionKind::new(REVIEW_KIND);
    if wants(&kind) {
        let with = if reviewer_model_configured(state) {
            "with AI"
        } else {
            "with the built-in checks"
        };
        let offset = lines.offset_of(convert::text_position(params.range.start), state.encoding());
        let tree_outline = snapshot.outline();
        let cursor = Range::new(params.range.start, params.range.start);
        if params.range.start.line != params.range.end.line {
            actions.push(action(
                format!("Review selection {with}"),
                &kind,
                uri,
                Some(params.range),
            ));
        } else if let Some(symbol) = innermost(&tree_outline.symbols, offset) {
            actions.push(action(
                format!("Review `{}` {with}", symbol.name),
                &kind,
                uri,
                Some(cursor),
            ));
        }
        actions.push(action(format!("Review file {with}"), &kind, uri, None));
    }
    if wants(&CodeActionKind::QUICKFIX) {
        actions.extend(quick_fixes(
            state,
            params,
            &key,
            snapshot.version,
            &text,
            &lines,
        ));
    }
    Ok(actions)
}

fn action(
    title: String,
    kind: &CodeActionKind,
    uri: &Uri,
    range: Option<Range>,
) -> CodeActionOrCommand {
    let mut args = serde_json::json!({ "uri": uri.as_str() });
    if let Some(range) = range {
        args["range"] = serde_json::to_value(range).unwrap_or(Value::Null);
    }
    CodeActionOrCommand::CodeAction(CodeAction {
        title: title.clone(),
        kind: Some(kind.clone()),
        command: Some(Command {
            title,
            command: REVIEW_COMMAND.to_string(),
            arguments: Some(vec![args]),
        }),
        ..CodeAction::default()
    })
}

/// "Apply suggested fix" for each review diagnostic of the request whose finding has a
/// replacement that still applies to this version of the text and keeps it parsing.
fn quick_fixes(
    state: &ServerState,
    params: &CodeActionParams,
    key: &str,
    version: i32,
    text: &str,
    lines: &LineIndex<'_>,
) -> Vec<CodeActionOrCommand> {
    let ours: Vec<&Diagnostic> = params
        .context
        .diagnostics
        .iter()
        .filter(|d| d.source.as_deref() == Some(REVIEW_SOURCE))
        .collect();
    if ours.is_empty() {
        return Vec::new();
    }
    let findings = state.reviews.findings_on(key, text);
    let encoding = state.encoding();
    let mut out = Vec::new();
    for diagnostic in ours {
        let Some(finding) = findings.iter().find(|f| {
            f.replacement.is_some()
                && f.finding.message == diagnostic.message
                && convert::lsp_range(lines, f.finding.range.clone(), encoding)
                    .start
                    .line
                    == diagnostic.range.start.line
        }) else {
            continue;
        };
        let Some((range, new_text)) = replacement_edit(text, finding) else {
            continue;
        };
        let title = finding
            .finding
            .fix
            .as_ref()
            .map_or_else(|| "Apply suggested fix".to_string(), |f| f.title.clone());
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic.clone()]),
            edit: Some(convert::versioned_edit(
                &params.text_document.uri,
                version,
                [(range, new_text)],
                lines,
                encoding,
            )),
            ..CodeAction::default()
        }));
    }
    out
}

/// `workspace/executeCommand tandem.review`: checks the arguments, takes the document as it is
/// now (what the user asked about: a change that arrives after this answer must not be
/// reviewed with it), starts the review in a spawned task and answers at once.
pub(super) fn execute(
    client: &Client,
    state: &Arc<ServerState>,
    arguments: Vec<Value>,
) -> Result<Option<Value>> {
    // No range reviews the file, an empty range the function or class there (the file outside
    // every definition), a range the lines it touches.
    let (args, snapshot) = open_document(state, REVIEW_COMMAND, arguments)?;
    let state = state.clone();
    let task_client = client.clone();
    spawn_reported(client, REVIEW_COMMAND, async move {
        review_and_store(&task_client, &state, &args, snapshot).await
    });
    Ok(None)
}

/// Reviews `snapshot` of the document named by `args`, stores the findings and publishes
/// them; returns what to tell the user.
async fn review_and_store(
    client: &Client,
    state: &Arc<ServerState>,
    args: &DocumentArgs,
    snapshot: DocumentSnapshot,
) -> std::result::Result<String, String> {
    let key = convert::document_key(&args.uri);
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
    let scope = match args.range {
        None => ReviewScope::File,
        Some(range) => {
            let lines = LineIndex::new(&text);
            let offset = |p: Position| lines.offset_of(convert::text_position(p), state.encoding());
            if range.start == range.end {
                ReviewScope::Symbol(offset(range.start))
            } else {
                ReviewScope::Range(offset(range.start)..offset(range.end))
            }
        }
    };
    // The built-in findings (the offline answer, and what the model need not repeat) and the
    // prompt's context read the index: on the blocking pool, where waiting for its lock is
    // allowed.
    let uses_model = reviewer_model_configured(state);
    let (live, context) = {
        let state = state.clone();
        let text = text.clone();
        let tree = snapshot.tree.clone();
        let key = key.clone();
        let module = module.clone();
        tokio::task::spawn_blocking(move || {
            let mut live = super::diagnostics::file_findings(&state, &key, &text, &tree);
            live.extend(super::diagnostics::project_findings(
                &state, &key, &text, &tree,
            ));
            let mut context = DocContext::default();
            if uses_model {
                let root = state.folders().into_iter().next();
                let index = state.index.lock().unwrap_or_else(|e| e.into_inner());
                let display = |p: &std::path::Path| match &root {
                    Some(r) => crate::session::project_files::relative_path(r, p),
                    None => p.display().to_string(),
                };
                context = DocContext::from_index(&index, &module, &display);
                if let Some(root) = &root {
                    context.profile =
                        crate::session::project_files::profile_of(root, &index).render();
                }
            }
            (live, context)
        })
        .await
        .map_err(|e| format!("the review failed: {e}"))?
    };
    // The built-in findings are those published live on every change (checks too slow for
    // that would be added here, and kept like the model's findings).
    let builtin = live.clone();
    let file = ReviewFile {
        path: display,
        module,
        source: text.clone(),
    };
    let router = state.router();
    let cancel = tokio_util::sync::CancellationToken::new();
    let progress = if uses_model {
        JobProgress::begin(
            client,
            state,
            &cancel,
            "review",
            "Reviewing",
            file.path.display().to_string(),
        )
        .await
    } else {
        None
    };
    let run = tokio::time::timeout(
        MODEL_RUN_TIMEOUT,
        review(&file, &scope, &router, &context, &builtin, cancel.clone()),
    )
    .await;
    let result: std::result::Result<ReviewOutcome, ReviewError> = match run {
        Ok(result) => result,
        Err(_) => {
            cancel.cancel();
            Err(ReviewError::Failed(format!(
                "the review took longer than {}s and was stopped",
                MODEL_RUN_TIMEOUT.as_secs()
            )))
        }
    };
    if let Some(p) = progress {
        let message = match &result {
            Ok(o) => format!("{} findings", o.findings.len()),
            Err(e) => e.to_string(),
        };
        p.end(state, message).await;
    }
    let outcome = result.map_err(|e| e.to_string())?;
    if state.documents.version(&key).is_none() {
        return Err(format!("{key} was closed before the review finished"));
    }
    let summary = outcome.summary();
    // Built-in findings that are published live already are not kept: the live checks show
    // them while they hold, and a kept copy would outlive the fix (a docstring finding sits on
    // the `def` line, which the fix does not touch).
    let mut findings = outcome.findings;
    findings.retain(|f| {
        !f.is_builtin()
            || !live
                .iter()
                .any(|l| l.code == f.finding.code && l.range == f.finding.range)
    });
    state
        .reviews
        .land(&key, text, version, &outcome.target, findings);
    super::diagnostics::schedule(client, state, args.uri.clone());
    Ok(summary)
}
