//! The executor: a plan's items become checked edits.
//!
//! Items run in dependency order, independent ones concurrently (up to `run.concurrency`, never
//! two on the same file at once). For each item the coder role gets the item, the current text
//! of its file (with the edits of the items already done), and the context of its symbols
//! (callers and callees), and answers `tandem_edits`. The edits are resolved against those
//! texts (paths checked; a refused path fails the item at once) and pass the **quality gate**
//! before they count: no new syntax errors, no new built-in review findings of severity error
//! or warning, no new DOC findings, the optional `run.test_command` in a scratch copy of the
//! workspace, the optional reviewer verdict. A failing gate goes back to the coder as feedback,
//! up to the attempt budget. Every attempt is a step in the `RunStore`.
//!
//! Nothing here writes to the workspace: the outcome carries the combined changes of the
//! succeeded items against the files as they were on disk, for the caller to show and apply.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::agent::plan::PlanItem;
use crate::analysis::finding::{Finding, Severity};
use crate::analysis::index::ProjectIndex;
use crate::analysis::parse::{parse_str, syntax_errors};
use crate::analysis::rules::{check_file, is_test_path, RuleOptions};
use crate::edits::{
    content_hash, resolve_edits, ChangeKind, DiskTexts, EditSet, FileChange, FileTexts,
    ResolvedEdits, WorkspacePath,
};
use crate::models::schema::SchemaName;
use crate::models::{Message, ModelError, ModelRequest, ModelRouter, Role};
use crate::runs::{RunStatus, RunStore, StepOutcome, Tokens};
use crate::session::config::{ReviewConfig, BUILTIN_MODEL};

/// How a run goes.
#[derive(Debug, Clone)]
pub struct ExecSettings {
    /// Attempts per item (the estimate's budget capped by `run.max_iterations`).
    pub max_attempts: u32,
    /// `run.concurrency`.
    pub concurrency: usize,
    /// `run.quality_threshold`, for the reviewer's verdict.
    pub quality_threshold: f64,
    /// `run.test_command`, run with `sh -c` in a scratch copy of the workspace.
    pub test_command: Option<String>,
    pub test_timeout: Duration,
    /// `[review]`: which built-in rules count and their limits.
    pub review: ReviewConfig,
}

impl Default for ExecSettings {
    fn default() -> Self {
        ExecSettings {
            max_attempts: 3,
            concurrency: 2,
            quality_threshold: 0.75,
            test_command: None,
            test_timeout: Duration::from_secs(300),
            review: ReviewConfig::default(),
        }
    }
}

/// What the caller hears while the run goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecEvent {
    /// Attempt `attempt` at item `index` (1-based) of `total` starts.
    Attempt {
        item: String,
        index: usize,
        total: usize,
        attempt: u32,
    },
    /// An item is done.
    Finished { item: String, status: ItemStatus },
}

impl ExecEvent {
    /// One line for the user; with `reasons`, why an item failed or did not run.
    pub fn describe(&self, reasons: bool) -> String {
        match self {
            ExecEvent::Attempt {
                item,
                index,
                total,
                attempt,
            } => format!("item {index} of {total} ({item}), attempt {attempt}"),
            ExecEvent::Finished { item, status } => match status {
                ItemStatus::Succeeded => format!("{item}: succeeded"),
                ItemStatus::Failed(e) if reasons => format!("{item}: failed: {e}"),
                ItemStatus::Failed(_) => format!("{item}: failed"),
                ItemStatus::Blocked(e) if reasons => format!("{item}: not run: {e}"),
                ItemStatus::Blocked(_) => format!("{item}: not run"),
                ItemStatus::Cancelled => format!("{item}: cancelled"),
            },
        }
    }
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemStatus {
    Succeeded,
    /// With its last failures.
    Failed(String),
    /// An item it depends on did not succeed; never started.
    Blocked(String),
    Cancelled,
}

/// One item's result.
#[derive(Debug, Clone)]
pub struct ItemOutcome {
    pub id: String,
    pub status: ItemStatus,
    pub attempts: u32,
    /// The coder's notes of the accepted answer.
    pub notes: Option<String>,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub run_id: String,
    pub status: RunStatus,
    pub items: Vec<ItemOutcome>,
    /// The combined changes of the succeeded items against the files on disk.
    pub changes: ResolvedEdits,
}

/// The context the coder gets for each item (callers, callees, profile), by item id, read from
/// the index before the run so that the model calls do not hold it.
pub fn item_contexts(
    items: &[PlanItem],
    index: &mut ProjectIndex,
    root: &Path,
) -> HashMap<String, String> {
    use crate::agent::document::DocContext;
    use crate::session::project_files::{profile_of, relative_path};

    index.graph();
    let display = |p: &Path| relative_path(root, p);
    let profile = profile_of(root, index).render();
    let mut out = HashMap::new();
    for item in items {
        let mut text = format!("# Project\n{profile}\n");
        let module = index
            .files()
            .find(|(p, _)| display(p) == item.file)
            .map(|(_, f)| f.module.clone());
        if let Some(module) = module {
            let context = DocContext::from_index(index, &module, &display);
            let mut names: Vec<&String> = context.callees.keys().collect();
            names.sort();
            for name in names {
                let wanted = item.symbols.is_empty()
                    || item.symbols.iter().any(|s| {
                        s == name
                            || name.ends_with(&format!(".{s}"))
                            || s.ends_with(&format!(".{name}"))
                    });
                if !wanted {
                    continue;
                }
                let callees = &context.callees[name];
                let callers = context.caller_usage.get(name).cloned().unwrap_or_default();
                if callees.is_empty() && callers.is_empty() {
                    continue;
                }
                text.push_str(&format!("\n## `{name}`\n"));
                if !callees.is_empty() {
                    text.push_str(&format!("calls: {}\n", callees.join(", ")));
                }
                for c in callers {
                    text.push_str(&format!("called at {c}\n"));
                }
            }
        }
        out.insert(item.id.clone(), text);
    }
    out
}

/// The texts the items see: the disk plus what the items done so far changed.
struct Overlay {
    /// Current text by workspace-relative path.
    texts: Mutex<HashMap<String, String>>,
    /// The disk's text of each file first touched (`None`: created), by relative path, in
    /// order of first touch.
    originals: Mutex<Vec<(WorkspacePath, Option<String>)>>,
}

impl FileTexts for Overlay {
    fn text(&self, path: &WorkspacePath) -> Result<Option<String>, String> {
        if let Some(text) = self.texts.lock().unwrap().get(path.relative()) {
            return Ok(Some(text.clone()));
        }
        DiskTexts.text(path)
    }
}

impl Overlay {
    /// Takes an item's accepted changes, unless a file changed under it since they were
    /// computed (another item running at the same time): then says which.
    fn commit(&self, resolved: &ResolvedEdits) -> Result<(), String> {
        let mut texts = self.texts.lock().unwrap();
        for change in &resolved.files {
            let current = match texts.get(change.path.relative()) {
                Some(t) => Some(t.clone()),
                None => DiskTexts.text(&change.path).ok().flatten(),
            };
            if current.as_deref().map(|t| content_hash(t.as_bytes())) != change.original_hash {
                return Err(format!(
                    "`{}` was changed by another item while this one ran; write the change \
                     against its current text",
                    change.path
                ));
            }
        }
        let mut originals = self.originals.lock().unwrap();
        for change in &resolved.files {
            let rel = change.path.relative();
            if !originals.iter().any(|(p, _)| p.relative() == rel) {
                // First touched now: the overlay had no text, so this is the disk's.
                originals.push((change.path.clone(), change.original.clone()));
            }
            texts.insert(rel.to_string(), change.new_text.clone());
        }
        Ok(())
    }

    /// Everything the committed items changed, against the disk.
    fn combined(&self) -> ResolvedEdits {
        let texts = self.texts.lock().unwrap();
        let originals = self.originals.lock().unwrap();
        let mut files = Vec::new();
        for (path, original) in originals.iter() {
            let Some(new_text) = texts.get(path.relative()) else {
                continue;
            };
            if original.as_deref() == Some(new_text.as_str()) {
                continue;
            }
            let base = original.as_deref().unwrap_or("");
            files.push(FileChange {
                path: path.clone(),
                kind: if original.is_some() {
                    ChangeKind::Modify
                } else {
                    ChangeKind::Create
                },
                original_hash: original.as_deref().map(|t| content_hash(t.as_bytes())),
                original: original.clone(),
                new_text: new_text.clone(),
                edits: crate::edits::ops::line_edits(base, new_text),
                operations: Vec::new(),
            });
        }
        ResolvedEdits { files }
    }
}

const SYSTEM_PROMPT: &str = "You are the coder of Tandem, a coding agent for Python projects. \
Carry out one step of a plan by answering with file operations as JSON: create_file {path, \
content} for a new file, replace_symbol {path, symbol, content} to replace a whole function, \
method or class (decorators included), insert_after_symbol {path, symbol, content} to add code \
after a definition, replace_text {path, search, replace} where the search text occurs exactly \
once. Paths are relative to the workspace root with / separators and stay inside it; never \
touch .git/, .tandem/, .vscode/, .idea/, tandem.toml or pyproject.toml. Keep the code \
syntactically valid, follow the project's style, and document new public functions with \
docstrings that match their signatures. For a test step, write pytest tests. Put anything the \
user should know in notes.";

fn prompt(item: &PlanItem, texts: &[(String, Option<String>)], context: &str) -> String {
    let mut p = format!(
        "The step `{}` ({}): {}\n\nFile: {}\n",
        item.id,
        item.kind.as_str(),
        item.title,
        item.file
    );
    if !item.symbols.is_empty() {
        p.push_str(&format!("Symbols: {}\n", item.symbols.join(", ")));
    }
    p.push_str(&format!("\nWhat to do:\n{}\n", item.description.trim()));
    for (path, text) in texts {
        match text {
            Some(text) => p.push_str(&format!(
                "\nThe current text of `{path}`:\n```python\n{text}```\n"
            )),
            None => p.push_str(&format!("\n`{path}` does not exist yet; create it.\n")),
        }
    }
    if !context.trim().is_empty() {
        p.push_str(&format!("\nContext:\n{}\n", context.trim_end()));
    }
    p
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The findings of `after` that `before` does not have, compared by code and message.
fn new_findings(before: Vec<Finding>, after: Vec<Finding>) -> Vec<Finding> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for f in before {
        *seen.entry((f.code, f.message)).or_default() += 1;
    }
    after
        .into_iter()
        .filter(
            |f| match seen.get_mut(&(f.code.clone(), f.message.clone())) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            },
        )
        .collect()
}

/// The static half of the quality gate on one item's changes: syntax, built-in rules (errors
/// and warnings) and DOC checks, each compared with the text before. Returns the failures,
/// one sentence each, written to be fed back to the coder.
pub fn static_gate(resolved: &ResolvedEdits, review: &ReviewConfig) -> Vec<String> {
    use crate::analysis::docstring::checks::{check_source_deferred, DocCheckOptions};

    let selection = review.selection().unwrap_or_default();
    let mut failures = Vec::new();
    for change in &resolved.files {
        let path = change.path.relative();
        if !path.ends_with(".py") && !path.ends_with(".pyi") {
            continue;
        }
        let before = change.original.as_deref().unwrap_or("");
        let after = change.new_text.as_str();
        let old_tree = parse_str(before, None);
        let new_tree = parse_str(after, None);
        let old_errors = syntax_errors(&old_tree).len();
        let new_errors = syntax_errors(&new_tree);
        if new_errors.len() > old_errors {
            let lines: Vec<String> = new_errors
                .iter()
                .map(|r| line_of(after, r.start).to_string())
                .collect();
            failures.push(format!(
                "`{path}`: new syntax error at line {}",
                lines.join(", ")
            ));
            // The other checks mean little on text that does not parse.
            continue;
        }
        let opts = RuleOptions {
            max_complexity: review.max_complexity,
            max_statements: review.max_statements,
            selection: selection.clone(),
            test_file: is_test_path(path),
        };
        let gating = |f: &Finding| matches!(f.severity, Severity::Error | Severity::Warning);
        let old: Vec<Finding> = check_file(before, &old_tree, &opts)
            .into_iter()
            .filter(gating)
            .collect();
        let new: Vec<Finding> = check_file(after, &new_tree, &opts)
            .into_iter()
            .filter(gating)
            .collect();
        for f in new_findings(old, new) {
            failures.push(format!(
                "`{path}` line {}: {} {}",
                line_of(after, f.range.start),
                f.code,
                f.message
            ));
        }
        if selection.wants_family("DOC") {
            let doc_opts = DocCheckOptions::default();
            let (old, _) = check_source_deferred(before, &old_tree, &doc_opts);
            let (new, _) = check_source_deferred(after, &new_tree, &doc_opts);
            let new: Vec<Finding> = new
                .into_iter()
                .filter(|f| selection.is_selected(&f.code))
                .collect();
            for f in new_findings(old, new) {
                failures.push(format!(
                    "`{path}` line {}: {} {}",
                    line_of(after, f.range.start),
                    f.code,
                    f.message
                ));
            }
        }
    }
    failures
}

/// Copies the workspace to `to`, leaving out `.git`, `.tandem` and caches.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if [".git", ".tandem", "__pycache__", ".venv", "node_modules"]
            .iter()
            .any(|n| name == *n)
        {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        } else if kind.is_symlink() {
            // Symlinked files are copied as files; symlinked folders are left out.
            if entry.path().is_file() {
                std::fs::copy(entry.path(), &target)?;
            }
        }
    }
    Ok(())
}

/// Runs `command` with `sh -c` in a scratch copy of `root` with `texts` written over it.
/// `Ok(None)` when it passed, `Ok(Some(failure))` when it did not.
async fn run_test_command(
    root: &Path,
    texts: Vec<(String, String)>,
    command: &str,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Option<String> {
    static SCRATCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SCRATCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = std::env::temp_dir().join(format!("tandem-run-{}-{n}", std::process::id()));
    let root = root.to_path_buf();
    let command = command.to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_task = stop.clone();
    let scratch_task = scratch.clone();
    let task = tokio::task::spawn_blocking(move || -> Option<String> {
        if let Err(e) = copy_tree(&root, &scratch_task) {
            return Some(format!("cannot copy the workspace to run the tests: {e}"));
        }
        for (rel, text) in &texts {
            let target = scratch_task.join(rel);
            if let Some(parent) = target.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            if let Err(e) = std::fs::write(&target, text) {
                return Some(format!("cannot write {rel} in the scratch copy: {e}"));
            }
        }
        let mut child = match std::process::Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(&scratch_task)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return Some(format!("cannot run `{command}`: {e}")),
        };
        // Read output on threads so a chatty command does not block on a full pipe.
        let mut out = child.stdout.take();
        let mut err = child.stderr.take();
        let out_t = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(o) = out.as_mut() {
                let _ = std::io::Read::read_to_string(o, &mut s);
            }
            s
        });
        let err_t = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(e) = err.as_mut() {
                let _ = std::io::Read::read_to_string(e, &mut s);
            }
            s
        });
        let started = std::time::Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if stop_task.load(std::sync::atomic::Ordering::Relaxed) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err("was cancelled".to_string());
                }
                Ok(None) if started.elapsed() > timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!("timed out after {}s", timeout.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => break Err(e.to_string()),
            }
        };
        let stdout = out_t.join().unwrap_or_default();
        let stderr = err_t.join().unwrap_or_default();
        let tail = |s: &str| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        };
        match status {
            Ok(s) if s.success() => None,
            Ok(s) => Some(format!(
                "the test command `{command}` failed ({s}):\n{}\n{}",
                tail(&stdout),
                tail(&stderr)
            )),
            Err(e) => Some(format!("the test command `{command}` {e}")),
        }
    });
    let guard = cancel.clone();
    let result = tokio::select! {
        r = task => r.unwrap_or_else(|e| Some(format!("the test command panicked: {e}"))),
        _ = guard.cancelled() => {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            Some("cancelled".to_string())
        }
    };
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Whether the reviewer role has a model (not only the offline engine).
fn reviewer_configured(router: &ModelRouter) -> bool {
    router
        .chain(Role::Reviewer)
        .iter()
        .any(|m| m != BUILTIN_MODEL)
}

struct Shared<'a> {
    root: &'a Path,
    router: &'a ModelRouter,
    store: &'a RunStore,
    run_id: &'a str,
    settings: &'a ExecSettings,
    cancel: CancellationToken,
    progress: &'a (dyn Fn(ExecEvent) + Send + Sync),
    overlay: Overlay,
    total: usize,
}

fn tokens_of(usage: &crate::models::usage::Usage) -> Tokens {
    Tokens {
        input: usage.input_tokens,
        output: usage.output_tokens,
    }
}

/// Carries out one item: attempts until the gate passes or the budget is spent.
async fn run_item(
    shared: &Shared<'_>,
    item: &PlanItem,
    index: usize,
    context: &str,
) -> ItemOutcome {
    let mut outcome = ItemOutcome {
        id: item.id.clone(),
        status: ItemStatus::Failed("no attempt was made".to_string()),
        attempts: 0,
        notes: None,
    };
    let base_texts: Vec<(String, Option<String>)> =
        match WorkspacePath::resolve(shared.root, &item.file) {
            Ok(path) => vec![(item.file.clone(), shared.overlay.text(&path).ok().flatten())],
            Err(e) => {
                outcome.status = ItemStatus::Failed(e.to_string());
                return outcome;
            }
        };
    let mut request = ModelRequest::new(
        SchemaName::Edits,
        SYSTEM_PROMPT,
        prompt(item, &base_texts, context),
    )
    .with_source(&item.file);
    let max = shared.settings.max_attempts.max(1);
    for attempt in 1..=max {
        if shared.cancel.is_cancelled() {
            outcome.status = ItemStatus::Cancelled;
            return outcome;
        }
        let step = match shared.store.start_step(shared.run_id, &item.id) {
            Ok(s) => s,
            Err(e) => {
                outcome.status = ItemStatus::Failed(format!("run store: {e}"));
                return outcome;
            }
        };
        outcome.attempts = attempt;
        (shared.progress)(ExecEvent::Attempt {
            item: item.id.clone(),
            index,
            total: shared.total,
            attempt,
        });
        let finish = |o: &StepOutcome, t: Tokens| {
            if let Err(e) = shared.store.finish_step(step, o, t) {
                tracing::warn!("run store: {e}");
            }
        };
        let answer = match shared
            .router
            .complete(Role::Coder, request.clone(), shared.cancel.clone(), |_| {})
            .await
        {
            Ok(a) => a,
            Err(ModelError::Cancelled) => {
                finish(&StepOutcome::Cancelled, Tokens::default());
                outcome.status = ItemStatus::Cancelled;
                return outcome;
            }
            Err(e) => {
                let msg = e.to_string();
                finish(&StepOutcome::Failed(msg.clone()), Tokens::default());
                outcome.status = ItemStatus::Failed(msg);
                return outcome;
            }
        };
        let tokens = tokens_of(&answer.usage);
        let set = match EditSet::from_value(&answer.value) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("the answer cannot be read as edits: {e}");
                finish(&StepOutcome::Failed(msg.clone()), tokens);
                outcome.status = ItemStatus::Failed(msg);
                return outcome;
            }
        };
        // A path a model may not write fails the item at once: no retry talks it round.
        if let Some(refused) = set
            .operations
            .iter()
            .find_map(|op| WorkspacePath::resolve(shared.root, op.path()).err())
        {
            let msg = format!("refused: {refused}; nothing of this item was written");
            finish(&StepOutcome::Failed(msg.clone()), tokens);
            outcome.status = ItemStatus::Failed(msg);
            return outcome;
        }
        let failures: Vec<String> =
            match resolve_edits(shared.root, &set.operations, &shared.overlay) {
                Err(e) => vec![e.to_string()],
                Ok(resolved) if resolved.is_empty() => {
                    vec!["the operations change nothing".to_string()]
                }
                Ok(resolved) => {
                    let mut failures = static_gate(&resolved, &shared.settings.review);
                    if failures.is_empty() {
                        failures = dynamic_gate(shared, item, &resolved).await;
                    }
                    if shared.cancel.is_cancelled() {
                        finish(&StepOutcome::Cancelled, tokens);
                        outcome.status = ItemStatus::Cancelled;
                        return outcome;
                    }
                    if failures.is_empty() {
                        match shared.overlay.commit(&resolved) {
                            Ok(()) => {
                                finish(&StepOutcome::Succeeded, tokens);
                                outcome.status = ItemStatus::Succeeded;
                                outcome.notes = set.notes.clone();
                                return outcome;
                            }
                            Err(e) => vec![e],
                        }
                    } else {
                        failures
                    }
                }
            };
        let message = failures.join("\n");
        finish(&StepOutcome::Failed(message.clone()), tokens);
        outcome.status = ItemStatus::Failed(message.clone());
        request = request
            .with_message(Message::assistant(answer.value.to_string()))
            .with_message(Message::user(format!(
                "The quality gate refused these edits; nothing was applied. Fix these \
                 problems and answer with the complete operations again:\n{message}"
            )));
    }
    outcome
}

/// The test command and the reviewer's verdict, when configured.
async fn dynamic_gate(
    shared: &Shared<'_>,
    item: &PlanItem,
    resolved: &ResolvedEdits,
) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(command) = shared
        .settings
        .test_command
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    {
        let mut texts: Vec<(String, String)> = shared
            .overlay
            .texts
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for change in &resolved.files {
            texts.retain(|(k, _)| k != change.path.relative());
            texts.push((change.path.relative().to_string(), change.new_text.clone()));
        }
        if let Some(failure) = run_test_command(
            shared.root,
            texts,
            command,
            shared.settings.test_timeout,
            &shared.cancel,
        )
        .await
        {
            failures.push(failure);
            return failures;
        }
    }
    if reviewer_configured(shared.router) {
        let prompt = format!(
            "Judge this change for the step `{}`: {}\n\n{}\n\nThe change as a unified diff:\n{}",
            item.id,
            item.title,
            item.description,
            resolved.diff()
        );
        let request = ModelRequest::new(
            SchemaName::Verdict,
            "You are the reviewer of Tandem. Score the change from 0 (unusable) to 1 (nothing \
             to fix) for correctness, fit with the step and the code around it; list each \
             problem in one sentence.",
            prompt,
        )
        .with_source(&item.file);
        match shared
            .router
            .complete(Role::Reviewer, request, shared.cancel.clone(), |_| {})
            .await
        {
            Ok(answer) => {
                let score = answer.value["score"].as_f64().unwrap_or(0.0);
                if score < shared.settings.quality_threshold {
                    let issues: Vec<String> = answer.value["issues"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|i| i.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    failures.push(format!(
                        "the reviewer scored the change {score:.2} (at least {:.2} needed): {}",
                        shared.settings.quality_threshold,
                        issues.join("; ")
                    ));
                }
            }
            Err(ModelError::Cancelled) => failures.push("cancelled".to_string()),
            // A reviewer that cannot answer does not block the change.
            Err(e) => tracing::warn!("reviewer verdict: {e}"),
        }
    }
    failures
}

/// Runs `items` (already in dependency order, the ones still to do) as run `run_id` of
/// `store`: starts it, carries out the items, and ends it succeeded, failed or cancelled.
/// Contexts come from [`item_contexts`].
#[allow(clippy::too_many_arguments)]
pub async fn execute(
    items: &[PlanItem],
    root: &Path,
    contexts: &HashMap<String, String>,
    router: &ModelRouter,
    store: &RunStore,
    run_id: &str,
    settings: &ExecSettings,
    cancel: CancellationToken,
    progress: &(dyn Fn(ExecEvent) + Send + Sync),
) -> RunOutcome {
    let shared = Shared {
        root,
        router,
        store,
        run_id,
        settings,
        cancel: cancel.clone(),
        progress,
        overlay: Overlay {
            texts: Mutex::new(HashMap::new()),
            originals: Mutex::new(Vec::new()),
        },
        total: items.len(),
    };
    if let Err(e) = store.start_run(run_id) {
        return RunOutcome {
            run_id: run_id.to_string(),
            status: RunStatus::Failed,
            items: items
                .iter()
                .map(|i| ItemOutcome {
                    id: i.id.clone(),
                    status: ItemStatus::Failed(format!("run store: {e}")),
                    attempts: 0,
                    notes: None,
                })
                .collect(),
            changes: ResolvedEdits::default(),
        };
    }
    let ids: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let mut done: HashMap<String, ItemOutcome> = HashMap::new();
    let mut started: HashSet<usize> = HashSet::new();
    let mut busy_files: HashSet<String> = HashSet::new();
    let mut running = FuturesUnordered::new();
    let concurrency = settings.concurrency.max(1);
    loop {
        let before = started.len();
        // Start what may start.
        for (i, item) in items.iter().enumerate() {
            if started.contains(&i) || running.len() >= concurrency {
                continue;
            }
            // Dependencies outside this list were done earlier (a resumed run).
            let deps: Vec<&String> = item
                .depends_on
                .iter()
                .filter(|d| ids.contains(d.as_str()))
                .collect();
            if let Some(bad) = deps.iter().find(|d| {
                done.get(d.as_str())
                    .is_some_and(|o| o.status != ItemStatus::Succeeded)
            }) {
                started.insert(i);
                let status = if cancel.is_cancelled() {
                    ItemStatus::Cancelled
                } else {
                    ItemStatus::Blocked(format!("`{bad}` did not succeed"))
                };
                progress(ExecEvent::Finished {
                    item: item.id.clone(),
                    status: status.clone(),
                });
                done.insert(
                    item.id.clone(),
                    ItemOutcome {
                        id: item.id.clone(),
                        status,
                        attempts: 0,
                        notes: None,
                    },
                );
                continue;
            }
            if !deps.iter().all(|d| done.contains_key(d.as_str()))
                || busy_files.contains(&item.file)
            {
                continue;
            }
            started.insert(i);
            busy_files.insert(item.file.clone());
            let context = contexts.get(&item.id).map(String::as_str).unwrap_or("");
            let shared = &shared;
            running.push(async move { (i, run_item(shared, item, i + 1, context).await) });
        }
        if running.is_empty() {
            if started.len() == items.len() {
                break;
            }
            if started.len() == before {
                // Nothing could start and nothing runs: a dependency cycle.
                for (i, item) in items.iter().enumerate() {
                    if started.insert(i) {
                        done.insert(
                            item.id.clone(),
                            ItemOutcome {
                                id: item.id.clone(),
                                status: ItemStatus::Blocked("a dependency cycle".to_string()),
                                attempts: 0,
                                notes: None,
                            },
                        );
                    }
                }
                break;
            }
            continue;
        }
        let Some((i, outcome)) = running.next().await else {
            break;
        };
        busy_files.remove(&items[i].file);
        progress(ExecEvent::Finished {
            item: outcome.id.clone(),
            status: outcome.status.clone(),
        });
        done.insert(outcome.id.clone(), outcome);
    }
    let outcomes: Vec<ItemOutcome> = items.iter().filter_map(|i| done.remove(&i.id)).collect();
    let status =
        if cancel.is_cancelled() || outcomes.iter().any(|o| o.status == ItemStatus::Cancelled) {
            let _ = store.cancel_run(run_id, Some("cancelled"));
            RunStatus::Cancelled
        } else if outcomes.iter().all(|o| o.status == ItemStatus::Succeeded) {
            let _ = store.finish_run(run_id);
            RunStatus::Succeeded
        } else {
            let failed: Vec<String> = outcomes
                .iter()
                .filter(|o| o.status != ItemStatus::Succeeded)
                .map(|o| match &o.status {
                    ItemStatus::Failed(e) | ItemStatus::Blocked(e) => format!("{}: {e}", o.id),
                    _ => o.id.clone(),
                })
                .collect();
            let _ = store.fail_run(run_id, &failed.join("; "));
            RunStatus::Failed
        };
    RunOutcome {
        run_id: run_id.to_string(),
        status,
        items: outcomes,
        changes: shared.overlay.combined(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, before: Option<&str>, after: &str) -> ResolvedEdits {
        let dir = std::env::temp_dir();
        let path = WorkspacePath::resolve(&dir, path).unwrap();
        ResolvedEdits {
            files: vec![FileChange {
                path,
                kind: if before.is_some() {
                    ChangeKind::Modify
                } else {
                    ChangeKind::Create
                },
                original_hash: before.map(|b| content_hash(b.as_bytes())),
                original: before.map(str::to_string),
                new_text: after.to_string(),
                edits: Vec::new(),
                operations: Vec::new(),
            }],
        }
    }

    #[test]
    fn a_new_syntax_error_fails_the_gate_with_its_line() {
        let edits = change(
            "tandem_gate_a.py",
            Some("x = 1\n"),
            "x = 1\ndef f(:\n    pass\n",
        );
        let failures = static_gate(&edits, &ReviewConfig::default());
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].contains("new syntax error at line 2"),
            "{failures:?}"
        );
    }

    #[test]
    fn an_old_syntax_error_does_not_count() {
        let edits = change("tandem_gate_b.py", Some("def f(:\n"), "def f(:\nx = 2\n");
        assert!(static_gate(&edits, &ReviewConfig::default()).is_empty());
    }

    #[test]
    fn clean_code_passes() {
        let after = "def add(a: int, b: int) -> int:\n    return a + b\n";
        let edits = change("tandem_gate_c.py", None, after);
        assert_eq!(
            static_gate(&edits, &ReviewConfig::default()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_new_rule_warning_fails_and_an_old_one_does_not() {
        // A bare except is a built-in review warning or error (TDM rules).
        let bad = "def f():\n    try:\n        return 1\n    except:\n        return 2\n";
        let edits = change("tandem_gate_d.py", Some("x = 1\n"), bad);
        let failures = static_gate(&edits, &ReviewConfig::default());
        assert!(!failures.is_empty(), "a bare except should gate");
        assert!(failures[0].contains("TDM"), "{failures:?}");
        let edits = change("tandem_gate_e.py", Some(bad), &format!("{bad}\nY = 2\n"));
        assert!(static_gate(&edits, &ReviewConfig::default()).is_empty());
    }

    #[test]
    fn a_new_doc_finding_fails() {
        let after = "def add(a, b):\n    \"\"\"Add.\n\n    Args:\n        a: One.\n\n    Returns:\n        The sum.\n    \"\"\"\n    return a + b\n";
        let edits = change("tandem_gate_f.py", None, after);
        let failures = static_gate(&edits, &ReviewConfig::default());
        assert!(failures.iter().any(|f| f.contains("DOC")), "{failures:?}");
    }

    #[test]
    fn non_python_files_are_not_parsed() {
        let edits = change("tandem_gate_g.md", None, "def f(:\n");
        assert!(static_gate(&edits, &ReviewConfig::default()).is_empty());
    }
}
