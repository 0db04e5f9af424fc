//! Keeping the project index current: the cold build at start (with `$/progress`), then one
//! worker that applies changes from the editor (`didOpen`/`didChange`/`didClose`) and from the
//! disk (`workspace/didChangeWatchedFiles`).
//!
//! Handlers only queue a job (a synchronous, non-blocking send); the worker coalesces what
//! queued up, analyses on the blocking pool, and swaps results into the index. An editor job
//! waits until its document has been left alone for `DOCUMENT_QUIET` (at most
//! `DOCUMENT_MAX_DELAY`) and then analyses the document's latest snapshot, so a burst of edits
//! costs one analysis, and a result is never older than what the index already holds.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::server::ServerState;
use crate::session::indexer::{analyze_path, analyze_text_with_tree, build_index_of_files};
use crate::session::workspace::{discover_python_files, is_python_path, SourceRoots};

/// Something that may have changed a file of the index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexJob {
    /// An open document changed: analyse its current text.
    Document { key: String, path: PathBuf },
    /// A file on disk changed, was created, or was deleted (or its document was closed).
    Disk { path: PathBuf },
}

const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Queues a job for the worker; never blocks.
pub(super) fn queue(state: &ServerState, job: IndexJob) {
    if let Some(sender) = state.index_jobs.get() {
        let _ = sender.send(job);
    }
}

/// The file path of a document, if it is a Python file inside a workspace folder.
pub(super) fn indexable_path(state: &ServerState, uri: &Uri) -> Option<PathBuf> {
    let path = uri.to_file_path()?.into_owned();
    if !is_python_path(&path) {
        return None;
    }
    let roots = state.roots.read().unwrap_or_else(|e| e.into_inner());
    roots.iter().any(|r| path.starts_with(r)).then_some(path)
}

/// Starts the cold build and, after it, the worker. Runs from `initialized`.
pub(super) fn start(client: Client, state: Arc<ServerState>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    if state.index_jobs.set(sender).is_err() {
        tracing::warn!("the project index was already started");
        return;
    }
    tokio::spawn(async move {
        cold_build(&client, &state).await;
        // Diagnostics that need the whole project (unused definitions, wrong calls) can now
        // be computed for the documents opened while the index was being built.
        super::diagnostics::schedule_all(&client, &state);
        // The registration is a request to the client; the worker must not wait for its
        // answer (a slow client would hold edits back from the index).
        {
            let client = client.clone();
            let state = state.clone();
            tokio::spawn(async move { register_file_watcher(&client, &state).await });
        }
        run_worker(client, state, receiver).await;
    });
}

async fn cold_build(client: &Client, state: &Arc<ServerState>) {
    let folders = state.folders();
    if folders.is_empty() {
        state.index_ready.store(true, Ordering::SeqCst);
        return;
    }
    let config = state.workspace_config();

    let progress = if state.client_supports_progress.load(Ordering::SeqCst) {
        let token = NumberOrString::String("tandem/indexing".into());
        let created = tokio::time::timeout(
            CLIENT_REQUEST_TIMEOUT,
            client.create_work_done_progress(token.clone()),
        )
        .await;
        match created {
            Ok(Ok(())) => Some(
                client
                    .progress(token, "Indexing")
                    .with_message("discovering files")
                    .with_percentage(0)
                    .begin()
                    .await,
            ),
            _ => None,
        }
    } else {
        None
    };

    // Progress from the rayon workers reaches the editor through a channel.
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<(usize, usize)>();
    let build_state = state.clone();
    let build = tokio::task::spawn_blocking(move || {
        let found = discover_python_files(&folders, &config);
        let roots = SourceRoots::for_workspace(&folders);
        *build_state
            .source_roots
            .write()
            .unwrap_or_else(|e| e.into_inner()) = roots.clone();
        build_index_of_files(
            &roots,
            found.files,
            found.skipped,
            &config,
            &|done, total| {
                let _ = progress_tx.send((done, total));
            },
        )
    });
    if let Some(progress) = progress.as_ref() {
        while let Some((done, total)) = progress_rx.recv().await {
            let percentage = (done * 100 / total.max(1)) as u32;
            progress
                .report_with_message(format!("Indexing {done}/{total} files"), percentage)
                .await;
        }
    }
    match build.await {
        Ok((index, report)) => {
            for (path, reason) in &report.skipped {
                tracing::warn!("skipping {}: {reason}", path.display());
            }
            for (path, reason) in &report.failed {
                tracing::warn!("not indexed {}: {reason}", path.display());
            }
            tracing::info!(
                "indexed {} files ({} lines) in {:?} + call graph {:?}; {} skipped, {} failed",
                report.indexed,
                report.lines,
                report.analysis_time,
                report.graph_time,
                report.skipped.len(),
                report.failed.len()
            );
            *state.index.lock().unwrap_or_else(|e| e.into_inner()) = index;
            if let Some(progress) = progress {
                progress
                    .finish_with_message(indexed_message(
                        report.indexed,
                        &report.skipped,
                        report.failed.len(),
                    ))
                    .await;
            }
        }
        Err(e) => tracing::error!("indexing failed: {e}"),
    }
    state.index_ready.store(true, Ordering::SeqCst);
}

/// The end of the indexing progress: how many files were indexed and, when some were left out
/// (over the size limit at discovery; binary, not UTF-8 or unreadable when read), how many and
/// why; the log names each file.
fn indexed_message(
    indexed: usize,
    skipped: &[(std::path::PathBuf, crate::session::workspace::SkipReason)],
    failed: usize,
) -> String {
    let too_large = skipped
        .iter()
        .filter(|(_, r)| matches!(r, crate::session::workspace::SkipReason::TooLarge { .. }))
        .count();
    let unreadable = skipped.len() - too_large + failed;
    if too_large + unreadable == 0 {
        return format!("Indexed {indexed} files");
    }
    let mut reasons = Vec::new();
    if too_large > 0 {
        reasons.push(format!("{too_large} over workspace.max_file_size"));
    }
    if unreadable > 0 {
        reasons.push(format!("{unreadable} binary, not UTF-8 or unreadable"));
    }
    format!(
        "Indexed {indexed} files; {} left out ({}; the log names them)",
        too_large + unreadable,
        reasons.join(", ")
    )
}

async fn register_file_watcher(client: &Client, state: &ServerState) {
    if !state.client_watches_files.load(Ordering::SeqCst) {
        return;
    }
    let options = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![FileSystemWatcher {
            glob_pattern: GlobPattern::String("**/*.py".into()),
            kind: None,
        }],
    };
    let registration = Registration {
        id: "tandem-python-files".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(options).ok(),
    };
    match tokio::time::timeout(
        CLIENT_REQUEST_TIMEOUT,
        client.register_capability(vec![registration]),
    )
    .await
    {
        Ok(Ok(())) => tracing::debug!("watching **/*.py"),
        Ok(Err(e)) => tracing::warn!("the client refused to watch files: {e}"),
        Err(_) => tracing::warn!("the client did not answer the file watch registration"),
    }
}

/// How long an open document must be left alone before the worker re-analyses it: typing costs
/// one analysis per pause instead of one per keystroke (a 5,000-line file takes tens of
/// milliseconds, which a keystroke every 20 ms would otherwise spend over and over on a core
/// the diagnostics need), and the analysis is still done well before the diagnostics' debounce
/// runs out, so that they see the index holding the document's text.
const DOCUMENT_QUIET: Duration = Duration::from_millis(50);
/// Typing without a pause still brings the index up to date this often.
const DOCUMENT_MAX_DELAY: Duration = Duration::from_secs(1);

/// Document jobs waiting for their document to be quiet, with when each was first and last
/// queued.
#[derive(Debug, Default)]
struct Waiting {
    jobs: std::collections::HashMap<IndexJob, (Instant, Instant)>,
}

impl Waiting {
    fn due(first: Instant, last: Instant) -> Instant {
        (last + DOCUMENT_QUIET).min(first + DOCUMENT_MAX_DELAY)
    }

    /// When the earliest waiting job is due.
    fn next_due(&self) -> Option<Instant> {
        self.jobs
            .values()
            .map(|&(first, last)| Self::due(first, last))
            .min()
    }

    /// Sorts a queued job: document jobs wait (a later change of the same document restarts
    /// its quiet time), the others are ready at once.
    fn take(&mut self, job: IndexJob, now: Instant, ready: &mut BTreeSet<IndexJob>) {
        match job {
            IndexJob::Document { .. } => {
                self.jobs.entry(job).or_insert((now, now)).1 = now;
            }
            IndexJob::Disk { .. } => {
                ready.insert(job);
            }
        }
    }

    /// Moves the jobs due at `now` to `ready`.
    fn release(&mut self, now: Instant, ready: &mut BTreeSet<IndexJob>) {
        self.jobs.retain(|job, &mut (first, last)| {
            let due = Self::due(first, last) <= now;
            if due {
                ready.insert(job.clone());
            }
            !due
        });
    }
}

async fn run_worker(
    client: Client,
    state: Arc<ServerState>,
    mut receiver: mpsc::UnboundedReceiver<IndexJob>,
) {
    let mut waiting = Waiting::default();
    // Open documents that discovery did not take at the last rescan (ignored, excluded):
    // their edits do not start another rescan each time typing pauses.
    let mut undiscovered = HashSet::new();
    loop {
        let received = match waiting.next_due() {
            Some(due) => {
                match tokio::time::timeout_at(due.into(), receiver.recv()).await {
                    Ok(Some(job)) => Some(job),
                    Ok(None) => return,
                    Err(_) => None, // the earliest waiting job is due
                }
            }
            None => match receiver.recv().await {
                Some(job) => Some(job),
                None => return,
            },
        };
        let now = Instant::now();
        let mut jobs = BTreeSet::new();
        if let Some(job) = received {
            waiting.take(job, now, &mut jobs);
        }
        while let Ok(job) = receiver.try_recv() {
            waiting.take(job, now, &mut jobs);
        }
        waiting.release(now, &mut jobs);
        if jobs.is_empty() {
            continue;
        }
        let applying = state.clone();
        let mut skip = std::mem::take(&mut undiscovered);
        let applied = tokio::task::spawn_blocking(move || {
            apply_jobs(&applying, jobs, &mut skip);
            // Whatever brought the index up to date (an edit, a file found on disk), the open
            // documents whose diagnostics lacked the project rules for want of it get them now.
            (skip, super::diagnostics::caught_up(&applying))
        })
        .await;
        match applied {
            Ok((skip, caught_up)) => {
                undiscovered = skip;
                for uri in caught_up {
                    super::diagnostics::schedule(&client, &state, uri);
                }
            }
            Err(e) => tracing::error!("index update failed: {e}"),
        }
    }
}

/// The open documents that may belong to the index, by file path.
fn open_documents(state: &ServerState) -> HashMap<PathBuf, String> {
    state
        .documents
        .uris()
        .into_iter()
        .filter_map(|key| {
            let path = indexable_path(state, &key.parse::<Uri>().ok()?)?;
            Some((path, key))
        })
        .collect()
}

/// Analyses an open document's current text. The snapshot's tree is kept current by
/// incremental parsing as the document changes: analysing from it saves a full parse.
fn analyze_document(
    state: &ServerState,
    roots: &SourceRoots,
    key: &str,
    path: &std::path::Path,
) -> Option<crate::analysis::index::FileAnalysis> {
    let snapshot = state.documents.snapshot(key)?;
    let text = snapshot.text();
    analyze_text_with_tree(roots, path, &text, Some(&snapshot.tree))
        .map_err(|reason| tracing::warn!("not indexed {}: {reason}", path.display()))
        .ok()
}

/// Applies a batch of jobs and re-solves the call graph once. `undiscovered` holds the open
/// documents' paths the last rescan did not take; a rescan brings it up to date.
pub(super) fn apply_jobs(
    state: &ServerState,
    jobs: BTreeSet<IndexJob>,
    undiscovered: &mut HashSet<PathBuf>,
) {
    let roots = state
        .source_roots
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let config = state.workspace_config();
    let mut updates = Vec::new();
    let mut rescan = false;
    for job in jobs {
        match job {
            IndexJob::Document { key, path } => {
                // Files enter the index through discovery (which honours ignore files); an open
                // document updates a file the index already has. A file new to the index (created
                // since it was built, opened before the watcher said so, or saved for the first
                // time) is looked for by a rescan, which analyses it from the document.
                let known = state
                    .index
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .file(&path)
                    .is_some();
                if !known {
                    rescan |= path.exists() && !undiscovered.contains(&path);
                    continue;
                }
                if let Some(analysis) = analyze_document(state, &roots, &key, &path) {
                    updates.push((path, Some(analysis)));
                }
            }
            IndexJob::Disk { path } => {
                if !path.exists() {
                    updates.push((path, None));
                    continue;
                }
                let known = state
                    .index
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .file(&path)
                    .is_some();
                if !known {
                    // A new file: only index it if discovery (ignore files, excludes) would.
                    rescan = true;
                    continue;
                }
                match analyze_path(&roots, &path, &config) {
                    Ok(analysis) => updates.push((path, Some(analysis))),
                    Err(reason) => {
                        tracing::warn!("not indexed {}: {reason}", path.display());
                        updates.push((path, None));
                    }
                }
            }
        }
    }
    if rescan {
        let folders = state.folders();
        let found = discover_python_files(&folders, &config);
        let open = open_documents(state);
        *undiscovered = open
            .keys()
            .filter(|p| p.exists() && found.files.binary_search(p).is_err())
            .cloned()
            .collect();
        let index = state.index.lock().unwrap_or_else(|e| e.into_inner());
        let new: Vec<PathBuf> = found
            .files
            .into_iter()
            .filter(|p| index.file(p).is_none())
            .collect();
        drop(index);
        for path in new {
            // The editor's text is the truth for an open document.
            let analysis = match open.get(&path) {
                Some(key) => analyze_document(state, &roots, key, &path),
                None => analyze_path(&roots, &path, &config).ok(),
            };
            if let Some(analysis) = analysis {
                updates.push((path, Some(analysis)));
            }
        }
    }
    let mut index = state.index.lock().unwrap_or_else(|e| e.into_inner());
    for (path, analysis) in updates {
        match analysis {
            Some(analysis) => {
                let unchanged = index
                    .file(&path)
                    .is_some_and(|old| old.content_hash == analysis.content_hash);
                if !unchanged {
                    index.insert(path, analysis);
                }
            }
            None => {
                index.remove(&path);
            }
        }
    }
    index.graph();
}

pub(super) fn did_change_watched_files(state: &ServerState, params: DidChangeWatchedFilesParams) {
    for change in params.changes {
        let Some(path) = indexable_path(state, &change.uri) else {
            continue;
        };
        // The editor's text is the truth for open documents; the disk catches up on save.
        if state.documents.version(change.uri.as_str()).is_some() {
            continue;
        }
        queue(state, IndexJob::Disk { path });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::workspace::SkipReason;
    use std::path::Path;

    #[test]
    fn document_jobs_wait_for_a_pause_and_disk_jobs_do_not() {
        let doc = IndexJob::Document {
            key: "file:///w/a.py".into(),
            path: "/w/a.py".into(),
        };
        let disk = IndexJob::Disk {
            path: "/w/b.py".into(),
        };
        let start = Instant::now();
        let ms = |n: u64| start + Duration::from_millis(n);
        let mut waiting = Waiting::default();
        let mut ready = BTreeSet::new();
        waiting.take(doc.clone(), start, &mut ready);
        waiting.take(disk.clone(), start, &mut ready);
        assert_eq!(ready, BTreeSet::from([disk]));
        ready.clear();
        // A keystroke every 20 ms keeps postponing the analysis...
        for t in (20..=400).step_by(20) {
            waiting.take(doc.clone(), ms(t), &mut ready);
            waiting.release(ms(t), &mut ready);
            assert!(ready.is_empty(), "analysed while typing at {t} ms");
        }
        assert_eq!(waiting.next_due(), Some(ms(400) + DOCUMENT_QUIET));
        // ...until the typing pauses.
        waiting.release(ms(449), &mut ready);
        assert!(ready.is_empty());
        waiting.release(ms(450), &mut ready);
        assert_eq!(ready, BTreeSet::from([doc.clone()]));
        assert_eq!(waiting.next_due(), None);
        // Typing without a pause is analysed after DOCUMENT_MAX_DELAY all the same.
        ready.clear();
        let mut t = 0;
        while ready.is_empty() {
            t += 20;
            waiting.take(doc.clone(), ms(1000 + t), &mut ready);
            waiting.release(ms(1000 + t), &mut ready);
            assert!(t <= 1020, "still waiting after {t} ms of typing");
        }
        assert!(Duration::from_millis(t) >= DOCUMENT_MAX_DELAY);
    }

    /// A server state with `root` as its one workspace folder.
    fn workspace_state(root: &Path) -> Arc<ServerState> {
        let state = Arc::new(ServerState::default());
        *state.source_roots.write().unwrap() = SourceRoots::for_workspace(&[root.to_path_buf()]);
        *state.roots.write().unwrap() = vec![root.to_path_buf()];
        state
    }

    /// The race a file watcher's job can lose: the new document's diagnostics ran before the
    /// index had the file. Whatever job then brings the index up to date, the document is
    /// handed back for its diagnostics, and they then carry the project rules.
    #[test]
    fn a_document_waiting_for_a_file_new_to_the_index_is_caught_up_by_a_disk_job() {
        use crate::lsp::diagnostics::{caught_up, project_findings};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let state = workspace_state(&root);
        let path = root.join("lonely.py");
        let text = "def lonely():\n    return 1\n";
        std::fs::write(&path, text).unwrap();
        let uri = Uri::from_file_path(&path).unwrap();
        let key = uri.as_str().to_string();
        state
            .documents
            .open_within(&key, 1, "python", text, u64::MAX)
            .unwrap();
        let tree = state.documents.snapshot(&key).unwrap().tree;
        assert!(project_findings(&state, &key, text, &tree).is_empty());
        assert!(
            caught_up(&state).is_empty(),
            "the index does not have it yet"
        );
        let disk = IndexJob::Disk { path };
        apply_jobs(&state, BTreeSet::from([disk]), &mut HashSet::new());
        assert_eq!(caught_up(&state), vec![uri]);
        assert!(caught_up(&state).is_empty(), "handed back once");
        let findings = project_findings(&state, &key, text, &tree);
        assert!(
            findings
                .iter()
                .any(|f| f.code == "TDM020" && f.message.contains("`lonely`")),
            "{findings:?}"
        );
    }

    /// TDM021's project symbols are kept across edits that rename nothing and built again when
    /// a definition's name changes: a class that appears under a new name is judged at once.
    #[test]
    fn project_symbols_are_kept_across_body_edits_and_rebuilt_when_a_name_changes() {
        use crate::lsp::diagnostics::project_findings;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let state = workspace_state(&root);
        let shapes = root.join("shapes.py");
        let crate_class = "class Crate:\n    def resize(self, size):\n        return size\n";
        std::fs::write(&shapes, crate_class).unwrap();
        let main = root.join("main.py");
        let text = "from shapes import Box\n\n\ndef use(b: Box):\n    return b.resize(1, 2)\n";
        std::fs::write(&main, text).unwrap();
        let key = Uri::from_file_path(&main).unwrap().as_str().to_string();
        state
            .documents
            .open_within(&key, 1, "python", text, u64::MAX)
            .unwrap();
        let tree = state.documents.snapshot(&key).unwrap().tree;
        let jobs = BTreeSet::from([
            IndexJob::Disk {
                path: shapes.clone(),
            },
            IndexJob::Disk { path: main.clone() },
        ]);
        apply_jobs(&state, jobs, &mut HashSet::new());
        let bad_calls = |state: &Arc<ServerState>| -> Vec<String> {
            project_findings(state, &key, text, &tree)
                .into_iter()
                .filter(|f| f.code == "TDM021")
                .map(|f| f.message)
                .collect()
        };
        let built_at = |state: &ServerState| {
            let cache = state.project_symbols.lock().unwrap();
            cache.as_ref().map(|(generation, _)| *generation)
        };
        assert!(bad_calls(&state).is_empty(), "no class is named Box yet");
        let first = built_at(&state).expect("built by the first publish");

        // A body edit: the same names, the same symbols.
        let body_edit = "class Crate:\n    def resize(self, size):\n        return size * 2\n";
        std::fs::write(&shapes, body_edit).unwrap();
        apply_jobs(
            &state,
            BTreeSet::from([IndexJob::Disk {
                path: shapes.clone(),
            }]),
            &mut HashSet::new(),
        );
        assert!(bad_calls(&state).is_empty());
        assert_eq!(built_at(&state), Some(first), "kept across a body edit");

        // The class is renamed to the name the annotation uses: judged now.
        let renamed = "class Box:\n    def resize(self, size):\n        return size\n";
        std::fs::write(&shapes, renamed).unwrap();
        apply_jobs(
            &state,
            BTreeSet::from([IndexJob::Disk { path: shapes }]),
            &mut HashSet::new(),
        );
        let found = bad_calls(&state);
        assert_ne!(built_at(&state), Some(first), "built again after a rename");
        assert!(
            found.iter().any(|m| m.contains("resize")),
            "the call through the annotated parameter is judged: {found:?}"
        );
    }

    #[test]
    fn the_indexing_message_counts_skipped_files_and_says_why() {
        assert_eq!(indexed_message(3, &[], 0), "Indexed 3 files");
        let skipped = vec![
            ("a.py".into(), SkipReason::TooLarge { size: 9, limit: 1 }),
            ("b.py".into(), SkipReason::Binary),
        ];
        assert_eq!(
            indexed_message(2, &skipped, 2),
            "Indexed 2 files; 4 left out (1 over workspace.max_file_size, 3 binary, not UTF-8 or unreadable; the log names them)"
        );
        assert_eq!(
            indexed_message(2, &[], 1),
            "Indexed 2 files; 1 left out (1 binary, not UTF-8 or unreadable; the log names them)"
        );
    }
}
