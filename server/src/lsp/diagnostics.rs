//! Diagnostics: the DOC checks on every open document, on open and after changes with a short
//! debounce, published with the document version they were computed from.
//!
//! The text-sync handlers only bump a per-document generation and spawn a timer task; the task
//! gives up if another change came in meanwhile, runs the checks on the blocking pool on a
//! snapshot, and publishes only if the document is still at that snapshot's version.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::convert;
use super::server::ServerState;
use crate::analysis::docstring::checks::{
    check_source_deferred, resolve_mentions, DocCheckOptions,
};
use crate::analysis::finding::{Finding, Severity};
use crate::session::position::LineIndex;

/// How long typing must pause before the checks run.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Per document, the generation of the latest change (a change makes earlier timers moot).
#[derive(Debug, Default)]
pub struct DiagnosticGenerations {
    generations: dashmap::DashMap<String, Arc<AtomicU64>>,
}

/// Called from `didOpen`/`didChange` after the document was updated; awaits nothing.
pub(super) fn schedule(client: &Client, state: &Arc<ServerState>, uri: Uri) {
    let key = convert::document_key(&uri);
    let counter = state
        .diagnostic_generations
        .generations
        .entry(key.clone())
        .or_default()
        .clone();
    let generation = counter.fetch_add(1, Ordering::SeqCst) + 1;
    let client = client.clone();
    let state = state.clone();
    let scheduled = std::time::Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(DEBOUNCE).await;
        if counter.load(Ordering::SeqCst) != generation {
            return;
        }
        let fired = scheduled.elapsed();
        let Some(snapshot) = state.documents.snapshot(&key) else {
            return;
        };
        let version = snapshot.version;
        let checks_state = state.clone();
        let computed = tokio::task::spawn_blocking(move || {
            let began = scheduled.elapsed();
            let text = snapshot.text();
            // The project rules read the index while the file's own rules walk its tree.
            let runtime = tokio::runtime::Handle::current();
            let (project, mut findings) = side_by_side(
                "project-rules",
                || {
                    // Lets the usage facts be rebuilt on the blocking pool from there.
                    let _runtime = runtime.enter();
                    project_findings(&checks_state, &snapshot.uri, &text, &snapshot.tree)
                },
                || file_findings(&checks_state, &snapshot.uri, &text, &snapshot.tree),
            );
            findings.extend(project);
            findings.extend(twin_notes(
                &checks_state,
                &snapshot.uri,
                &text,
                &snapshot.tree,
            ));
            let lines = LineIndex::new(&text);
            let encoding = checks_state.encoding();
            let mut diagnostics = findings
                .iter()
                .map(|f| to_diagnostic(f, &lines, encoding))
                .collect::<Vec<_>>();
            diagnostics.extend(super::review::diagnostics(
                &checks_state,
                &snapshot.uri,
                &text,
                version,
                &findings,
                &lines,
                encoding,
            ));
            (diagnostics, began)
        })
        .await;
        let (diagnostics, began) = match computed {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("checks of {key} failed: {e}");
                return;
            }
        };
        // Stale results are dropped: the document moved on while they were computed.
        if state.documents.version(&key) != Some(version) {
            return;
        }
        let computed = scheduled.elapsed();
        let count = diagnostics.len();
        client
            .publish_diagnostics(uri, diagnostics, Some(version))
            .await;
        tracing::debug!(
            "diagnostics of {key} v{version}: {count} published {:.1} ms after the change \
             (timer fired at {:.1} ms, checks began at {:.1} ms, done at {:.1} ms)",
            scheduled.elapsed().as_secs_f64() * 1e3,
            fired.as_secs_f64() * 1e3,
            began.as_secs_f64() * 1e3,
            computed.as_secs_f64() * 1e3,
        );
    });
}

/// Schedules diagnostics for every open document.
pub(super) fn schedule_all(client: &Client, state: &Arc<ServerState>) {
    for key in state.documents.uris() {
        if let Ok(uri) = Uri::from_str(&key) {
            schedule(client, state, uri);
        }
    }
}

/// Forgets a closed document and clears its diagnostics.
pub(super) fn clear(client: &Client, state: &ServerState, uri: Uri) {
    let key = convert::document_key(&uri);
    if let Some((_, counter)) = state.diagnostic_generations.generations.remove(&key) {
        counter.fetch_add(1, Ordering::SeqCst);
    }
    super::review::forget(state, &key);
    state.awaiting_index.remove(&key);
    let client = client.clone();
    tokio::spawn(async move { client.publish_diagnostics(uri, Vec::new(), None).await });
}

/// The open documents waiting for the index (`awaiting_index`) whose current text it now
/// holds, taken out of the set: the index worker schedules their diagnostics again after every
/// update, whatever brought the index up to date (an edit, a file found on disk, a save). Hashes
/// the waiting documents' texts: call it on the blocking pool.
pub(super) fn caught_up(state: &ServerState) -> Vec<Uri> {
    if state.awaiting_index.is_empty() {
        return Vec::new();
    }
    let index = state.index.lock().unwrap_or_else(|e| e.into_inner());
    let waiting: Vec<String> = state.awaiting_index.iter().map(|k| k.clone()).collect();
    waiting
        .into_iter()
        .filter(|key| {
            let indexed = file_path(key).and_then(|path| index.file(&path).map(|f| f.content_hash));
            let holds_text = indexed.is_some_and(|hash| {
                state.documents.snapshot(key).is_some_and(|snapshot| {
                    crate::analysis::index::content_hash(&snapshot.text()) == hash
                })
            });
            holds_text && state.awaiting_index.remove(key).is_some()
        })
        .filter_map(|key| Uri::from_str(&key).ok())
        .collect()
}

/// How stale the project-wide usage facts may get before they are rebuilt.
const USAGE_MAX_AGE: Duration = Duration::from_secs(5);

/// The file path of a document key, for looking it up in the project index.
fn file_path(key: &str) -> Option<std::path::PathBuf> {
    Uri::from_str(key)
        .ok()
        .and_then(|u| u.to_file_path().map(|p| p.into_owned()))
}

/// TDM020 and TDM021 for the document, from the project index, when the index holds exactly
/// this text (otherwise its byte ranges would point elsewhere). When it does not (the worker
/// has not analysed this text yet, or the file is not in the index yet: created since the
/// index was built), the document is noted in `awaiting_index`, and the index worker schedules
/// its diagnostics again once the index holds its text (`caught_up`).
/// The document's calls are read from `tree` (a tree of `text`) instead of being parsed again.
pub(super) fn project_findings(
    state: &Arc<ServerState>,
    key: &str,
    text: &str,
    tree: &tree_sitter::Tree,
) -> Vec<Finding> {
    let Some(path) = file_path(key) else {
        return Vec::new();
    };
    let index = state.index.lock().unwrap_or_else(|e| e.into_inner());
    let hash = crate::analysis::index::content_hash(text);
    let Some(file) = index.file(&path).filter(|f| f.content_hash == hash) else {
        // Noted while the index is locked: the worker's check after its next update, which
        // locks the index too, cannot miss it.
        state.awaiting_index.insert(key.to_string());
        return Vec::new();
    };
    state.awaiting_index.remove(key);
    let usage = usage(state, &index);
    let module = file.module.clone();
    let mut out: Vec<Finding> =
        crate::analysis::project_rules::unused_definitions_in(&index, &usage, &[], Some(&path))
            .into_iter()
            .map(|(_, f)| f)
            .collect();
    let calls = crate::analysis::project_rules::FileCalls::of(text, tree);
    let symbols = project_symbols(state, &index);
    out.extend(
        crate::analysis::project_rules::bad_calls_using(&index, &symbols, Some(&module), &|p| {
            (p == path).then_some(&calls)
        })
        .into_iter()
        .filter(|(p, _)| p == &path)
        .map(|(_, f)| f),
    );
    out
}

/// The project's symbols for TDM021: the kept ones while no definition's name changed since
/// they were built, else built again here (they must be exact: a stale one could report a
/// call through a class name as unbound).
fn project_symbols(
    state: &ServerState,
    index: &crate::analysis::index::ProjectIndex,
) -> Arc<crate::analysis::project_rules::ProjectSymbols> {
    let mut cache = state
        .project_symbols
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let generation = index.names_generation();
    match cache.as_ref() {
        Some((built_at, symbols)) if *built_at == generation => symbols.clone(),
        _ => {
            let symbols = Arc::new(crate::analysis::project_rules::ProjectSymbols::of(index));
            *cache = Some((generation, symbols.clone()));
            symbols
        }
    }
}

/// The project-wide usage facts for TDM020. Built here the first time; afterwards a stale one
/// (the index moved on, and it is older than `USAGE_MAX_AGE`) is still used while a rebuild
/// runs on the blocking pool, so that no publish waits for a pass over the whole project.
fn usage(
    state: &Arc<ServerState>,
    index: &crate::analysis::index::ProjectIndex,
) -> Arc<crate::analysis::project_rules::Usage> {
    use crate::analysis::project_rules::Usage;
    let mut cache = state.usage.lock().unwrap_or_else(|e| e.into_inner());
    let (usage, stale) = match cache.as_mut() {
        Some((generation, built, usage)) => {
            let stale = *generation != index.generation() && built.elapsed() >= USAGE_MAX_AGE;
            if stale {
                // Counts as fresh until the rebuild below replaces it.
                *built = std::time::Instant::now();
            }
            (usage.clone(), stale)
        }
        None => {
            let usage = Arc::new(Usage::of(index));
            *cache = Some((index.generation(), std::time::Instant::now(), usage.clone()));
            return usage;
        }
    };
    drop(cache);
    if stale {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let state = state.clone();
            runtime.spawn_blocking(move || {
                let index = state.index.lock().unwrap_or_else(|e| e.into_inner());
                let usage = Arc::new(Usage::of(&index));
                let generation = index.generation();
                drop(index);
                *state.usage.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((generation, std::time::Instant::now(), usage));
            });
        }
    }
    usage
}

/// Twin-mode notes whose docstrings still stand as they were applied, at the symbol's name.
fn twin_notes(
    state: &ServerState,
    key: &str,
    text: &str,
    tree: &tree_sitter::Tree,
) -> Vec<Finding> {
    let Some(notes) = state.doc_notes.get(key).map(|n| n.clone()) else {
        return Vec::new();
    };
    let outline = crate::analysis::outline::outline(tree, text, "");
    let mut stack: Vec<&crate::analysis::outline::Symbol> = outline.symbols.iter().collect();
    let mut out = Vec::new();
    while let Some(s) = stack.pop() {
        for (path, applied, note) in &notes {
            if &s.qualified_name == path
                && s.docstring
                    .as_ref()
                    .is_some_and(|d| d.text.trim() == applied.trim())
            {
                out.push(Finding::new(
                    "TWIN",
                    Severity::Information,
                    note.clone(),
                    s.name_range.clone(),
                ));
            }
        }
        stack.extend(s.children.iter());
    }
    out
}

/// The built-in rules (TDM001-TDM013) and the DOC checks of a document, as the configuration
/// selects them (`review.select`/`review.ignore`), with `# noqa` applied. The DOC part reads
/// the project index (DOC701 names): call it on the blocking pool.
pub fn file_findings(
    state: &ServerState,
    key: &str,
    text: &str,
    tree: &tree_sitter::Tree,
) -> Vec<Finding> {
    let selection = review_selection(state);
    let rules = || rule_findings(state, key, text, tree);
    if !selection.wants_family("DOC") {
        return rules();
    }
    // The two families walk the tree independently.
    let (mut doc, mut findings) =
        side_by_side("doc-checks", || doc_findings(state, text, tree), rules);
    doc.retain(|f| selection.is_selected(&f.code));
    crate::analysis::finding::apply_noqa(text, &mut doc);
    findings.extend(doc);
    findings
}

/// Runs `aside` on a thread of its own (named `name`) while `here` runs on this one, and
/// returns both results: a publish then waits for the longer of the two, not their sum. When no
/// thread can be had, `aside` runs here afterwards; a panic in it is resumed here.
fn side_by_side<A: Send, B>(
    name: &str,
    aside: impl Fn() -> A + Sync,
    here: impl FnOnce() -> B,
) -> (A, B) {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn_scoped(scope, &aside);
        let b = here();
        let a = match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => aside(),
        };
        (a, b)
    })
}

/// The configured code selection (`review.select`/`review.ignore`).
fn review_selection(state: &ServerState) -> crate::analysis::finding::CodeSelection {
    state
        .config
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .config
        .review
        .selection()
        .unwrap_or_default()
}

/// The built-in rules (TDM001-TDM013) of a document as the configuration selects them, with
/// `# noqa` applied. Pure analysis of the text: no index, so a request handler may call it.
pub fn rule_findings(
    state: &ServerState,
    key: &str,
    text: &str,
    tree: &tree_sitter::Tree,
) -> Vec<Finding> {
    let review = state
        .config
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .config
        .review
        .clone();
    let path = tower_lsp_server::ls_types::Uri::from_str(key)
        .ok()
        .map(|u| u.path().as_str().to_string())
        .unwrap_or_default();
    let options = crate::analysis::rules::RuleOptions {
        max_complexity: review.max_complexity,
        max_statements: review.max_statements,
        selection: review.selection().unwrap_or_default(),
        test_file: crate::analysis::rules::is_test_path(&path),
    };
    // `check_file` applies `# noqa` itself.
    crate::analysis::rules::check_file(text, tree, &options)
}

/// The DOC findings of a text, with DOC701 names looked up in the project index.
pub fn doc_findings(state: &ServerState, text: &str, tree: &tree_sitter::Tree) -> Vec<Finding> {
    let opts = DocCheckOptions {
        style: state.docs_style(),
        ..DocCheckOptions::default()
    };
    let (mut findings, mentions) = check_source_deferred(text, tree, &opts);
    if !mentions.is_empty() {
        let local = crate::analysis::outline::outline(tree, text, "");
        // Unpacked once for all the mentions (the index keeps outlines packed).
        let outlines: Vec<_> = {
            let index = state.index.lock().unwrap_or_else(|e| e.into_inner());
            index.files().map(|(_, file)| file.outline()).collect()
        };
        let defined = |name: &str| -> bool {
            let matches = |s: &crate::analysis::outline::Symbol| {
                s.name == name || s.qualified_name.ends_with(&format!(".{name}"))
            };
            let mut stack: Vec<&crate::analysis::outline::Symbol> = local.symbols.iter().collect();
            for outline in &outlines {
                stack.extend(outline.symbols.iter());
            }
            while let Some(s) = stack.pop() {
                if matches(s) {
                    return true;
                }
                stack.extend(s.children.iter());
            }
            false
        };
        findings.extend(resolve_mentions(mentions, &defined));
    }
    findings.sort_by(|a, b| (a.range.start, &a.code).cmp(&(b.range.start, &b.code)));
    findings
}

fn to_diagnostic(
    f: &Finding,
    lines: &LineIndex<'_>,
    encoding: crate::session::position::PositionEncoding,
) -> Diagnostic {
    Diagnostic {
        range: convert::lsp_range(lines, f.range.clone(), encoding),
        severity: Some(match f.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Information => DiagnosticSeverity::INFORMATION,
            Severity::Hint => DiagnosticSeverity::HINT,
        }),
        code: Some(NumberOrString::String(f.code.clone())),
        source: Some("tandem".to_string()),
        message: f.message.clone(),
        ..Diagnostic::default()
    }
}
