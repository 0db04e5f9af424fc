//! The headless writer: puts `ResolvedEdits` on disk all at once or not at all.
//!
//! First every file is checked (paths again, since the disk may have changed; a modified file
//! must still hash to `original_hash`; a new file must still not exist), so a stale set writes
//! nothing. Then each new text goes to a temporary file in its target's folder, with the
//! target's permissions, and the temporaries replace their targets one by one (a rename; for a
//! new file a hard link, which refuses to overwrite). If one of those steps fails, the files
//! already replaced are restored from the backups kept in memory, new files and folders are
//! removed, and the error says so.
//!
//! A process killed while writing (`kill -9`, a power cut) cannot clean up: its temporary
//! files stay, some of them partly written. They are named after the target and the process
//! (`.NAME.tandem-PID-N.tmp`), so the next write of the same target removes those of processes
//! that no longer run.
//!
//! Each file is replaced atomically, but a kill between two renames would leave a set of
//! several files half written. So before the first rename of a set of several files, a
//! journal (`.tandem/writes/PID-N.json`: each temporary, its target, the target's hash before
//! and after) is written atomically; it is removed when the set is in place or rolled back.
//! `finish_interrupted` (run before every write, and by `tandem run` at its start) finds the
//! journals of processes that no longer run and completes their sets: a temporary whose
//! target still holds the text before replaces it, one whose target already changed is
//! dropped.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::content_hash;
use super::ops::{ChangeKind, ResolvedEdits};
use super::paths::{PathError, WorkspacePath};

/// Why nothing (or, if `rollback_failed` says so, not everything) was written.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("{path} changed since the edits were computed; nothing was written")]
    Changed { path: String },
    #[error("{path} was deleted since the edits were computed; nothing was written")]
    Deleted { path: String },
    #[error("{path} exists already; nothing was written")]
    Exists { path: String },
    #[error("cannot read {path}: {error}; nothing was written")]
    Read { path: String, error: io::Error },
    #[error("cannot write {path}: {error}; {}", rollback_note(.rollback_failed))]
    Write {
        path: String,
        error: io::Error,
        /// Files that could not be restored (empty when the rollback was complete).
        rollback_failed: Vec<String>,
    },
}

fn rollback_note(failed: &[String]) -> String {
    if failed.is_empty() {
        "nothing was written (files already replaced were restored)".to_string()
    } else {
        format!("restoring failed for {}", failed.join(", "))
    }
}

/// Writes every changed file of `edits`, atomically per file and all-or-nothing for the set.
/// Returns the paths written, in order.
pub fn apply(root: &Path, edits: &ResolvedEdits) -> Result<Vec<WorkspacePath>, ApplyError> {
    apply_with(root, edits, &mut |_| Ok(()))
}

/// One planned write.
struct Planned {
    path: WorkspacePath,
    target: PathBuf,
    kind: ChangeKind,
    new_text: Vec<u8>,
    /// The current bytes and permissions of a file to modify.
    backup: Option<(Vec<u8>, fs::Permissions)>,
    temp: Option<PathBuf>,
}

/// `apply` with a hook called before each file is put in place (tests inject failures).
fn apply_with(
    root: &Path,
    edits: &ResolvedEdits,
    before_replace: &mut dyn FnMut(usize) -> io::Result<()>,
) -> Result<Vec<WorkspacePath>, ApplyError> {
    // Sets a killed process left half written are completed first; a file this changes no
    // longer matches the hash below, and nothing of this set is written.
    for note in finish_interrupted(root) {
        tracing::warn!("{note}");
    }
    // 1. Check everything before writing anything.
    let mut planned = check(root, edits)?;

    // 2. Temporary files next to their targets.
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    for i in 0..planned.len() {
        if let Err(error) = prepare(&mut planned[i], &mut created_dirs) {
            return Err(roll_back(&planned, i, 0, &created_dirs, error));
        }
    }

    // 3. Put them in place, under a journal when there are several.
    let mut journal_dirs = Vec::new();
    let journal = if planned.len() > 1 {
        match write_journal(root, &planned, &mut journal_dirs) {
            Ok(path) => Some(path),
            Err(error) => return Err(roll_back(&planned, 0, 0, &created_dirs, error)),
        }
    } else {
        None
    };
    for i in 0..planned.len() {
        let result = before_replace(i).and_then(|()| replace(&planned[i]));
        if let Err(error) = result {
            let failed = roll_back(&planned, i, i, &created_dirs, error);
            if let Some(journal) = &journal {
                drop_journal(journal, &journal_dirs);
            }
            return Err(failed);
        }
    }
    if let Some(journal) = &journal {
        drop_journal(journal, &journal_dirs);
    }
    Ok(planned.into_iter().map(|p| p.path).collect())
}

/// Undoes `planned` (restoring its first `replaced` files, see [`undo`]) and reports `error`,
/// met while writing the `failed_at`-th file, with whatever the rollback could not restore.
fn roll_back(
    planned: &[Planned],
    failed_at: usize,
    replaced: usize,
    created_dirs: &[PathBuf],
    error: io::Error,
) -> ApplyError {
    ApplyError::Write {
        path: planned[failed_at].path.relative().to_string(),
        error,
        rollback_failed: undo(planned, replaced, created_dirs),
    }
}

/// Where the journals of sets being written live, under the workspace root.
const JOURNALS: &str = ".tandem/writes";

/// A set of files being put in place: what `finish_interrupted` needs to complete it.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    pid: u32,
    files: Vec<JournalEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct JournalEntry {
    temp: PathBuf,
    target: PathBuf,
    /// The target's hash before (`None`: a new file).
    before: Option<u64>,
    after: u64,
}

/// Removes a journal, and the folders made for it if they are empty.
fn drop_journal(journal: &Path, dirs: &[PathBuf]) {
    let _ = fs::remove_file(journal);
    for dir in dirs.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// Writes the journal of `planned` (every temporary is complete and synced) atomically;
/// `created_dirs` gets the folders it had to make, outermost first.
fn write_journal(
    root: &Path,
    planned: &[Planned],
    created_dirs: &mut Vec<PathBuf>,
) -> io::Result<PathBuf> {
    let dir = root.join(JOURNALS);
    let mut missing = Vec::new();
    let mut probe = dir.clone();
    while probe != root && fs::symlink_metadata(&probe).is_err() {
        missing.push(probe.clone());
        if !probe.pop() {
            break;
        }
    }
    fs::create_dir_all(&dir)?;
    created_dirs.extend(missing.into_iter().rev());
    let journal = Journal {
        pid: std::process::id(),
        files: planned
            .iter()
            .map(|p| JournalEntry {
                temp: p.temp.clone().expect("prepared before the journal"),
                target: p.target.clone(),
                before: p.backup.as_ref().map(|(bytes, _)| content_hash(bytes)),
                after: content_hash(&p.new_text),
            })
            .collect(),
    };
    let text = serde_json::to_vec(&journal).map_err(io::Error::other)?;
    for n in 0..100u32 {
        let path = dir.join(format!("{}-{n}.json", journal.pid));
        let temp = dir.join(format!(".{}-{n}.json.tmp", journal.pid));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(mut file) => {
                let written = file
                    .write_all(&text)
                    .and_then(|()| file.sync_all())
                    .and_then(|()| {
                        if path.exists() {
                            Err(io::Error::from(io::ErrorKind::AlreadyExists))
                        } else {
                            fs::rename(&temp, &path)
                        }
                    });
                match written {
                    Ok(()) => return Ok(path),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        let _ = fs::remove_file(&temp);
                    }
                    Err(e) => {
                        let _ = fs::remove_file(&temp);
                        return Err(e);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("cannot find a free journal name"))
}

/// Completes the sets of files that processes which no longer run left half written (see the
/// module's comment); returns a note for each file put in place or left alone.
pub fn finish_interrupted(root: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    // Journals name absolute, resolved paths.
    let root = &root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let Ok(entries) = fs::read_dir(root.join(JOURNALS)) else {
        return notes;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(journal) = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Journal>(&b).ok())
        else {
            continue;
        };
        if crate::runs::store::process_alive(journal.pid) {
            continue;
        }
        for file in &journal.files {
            notes.extend(finish_entry(root, file));
        }
        let _ = fs::remove_file(&path);
    }
    notes
}

fn finish_entry(root: &Path, file: &JournalEntry) -> Option<String> {
    // Only files inside the workspace: the journal is a file on disk like any other.
    let inside = |p: &Path| p.starts_with(root) && !p.components().any(|c| c.as_os_str() == "..");
    if !inside(&file.temp) || !inside(&file.target) || !file.temp.is_file() {
        return None;
    }
    let name = file
        .target
        .strip_prefix(root)
        .unwrap_or(&file.target)
        .display()
        .to_string();
    let complete = fs::read(&file.temp).is_ok_and(|b| content_hash(&b) == file.after);
    let current = fs::read(&file.target).ok().map(|b| content_hash(&b));
    let note = if !complete {
        Some(format!(
            "{name}: an interrupted write left an incomplete temporary file; removed"
        ))
    } else if current == file.before {
        let result = match file.before {
            Some(_) => fs::rename(&file.temp, &file.target),
            None => fs::hard_link(&file.temp, &file.target),
        };
        return Some(match result {
            Ok(()) => {
                let _ = fs::remove_file(&file.temp);
                format!("{name}: completed the write an interrupted run had begun")
            }
            Err(e) => format!("{name}: cannot complete an interrupted write: {e}"),
        });
    } else if current == Some(file.after) {
        None
    } else {
        Some(format!(
            "{name}: changed since an interrupted write; that write was dropped"
        ))
    };
    let _ = fs::remove_file(&file.temp);
    note
}

/// Every file of `edits` checked against the disk (paths, hashes, new files still absent),
/// with its backup; nothing is written.
fn check(root: &Path, edits: &ResolvedEdits) -> Result<Vec<Planned>, ApplyError> {
    let mut planned = Vec::new();
    for change in &edits.files {
        let path = WorkspacePath::resolve(root, change.path.relative())?;
        let target = path.absolute().to_path_buf();
        let name = path.relative().to_string();
        let backup = match change.kind {
            ChangeKind::Modify => {
                let bytes = match fs::read(&target) {
                    Ok(b) => b,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Err(ApplyError::Deleted { path: name })
                    }
                    Err(error) => return Err(ApplyError::Read { path: name, error }),
                };
                if Some(content_hash(&bytes)) != change.original_hash {
                    return Err(ApplyError::Changed { path: name });
                }
                let perms = fs::metadata(&target)
                    .map_err(|error| ApplyError::Read {
                        path: name.clone(),
                        error,
                    })?
                    .permissions();
                Some((bytes, perms))
            }
            ChangeKind::Create => {
                if fs::symlink_metadata(&target).is_ok() {
                    return Err(ApplyError::Exists { path: name });
                }
                None
            }
        };
        planned.push(Planned {
            path,
            target,
            kind: change.kind,
            new_text: change.new_text.as_bytes().to_vec(),
            backup,
            temp: None,
        });
    }
    Ok(planned)
}

fn prepare(plan: &mut Planned, created_dirs: &mut Vec<PathBuf>) -> io::Result<()> {
    let dir = plan
        .target
        .parent()
        .ok_or_else(|| io::Error::other("the path has no parent folder"))?
        .to_path_buf();
    if plan.kind == ChangeKind::Create {
        // Remember which folders are new, outermost first, to remove them on failure.
        let mut missing = Vec::new();
        let mut probe = dir.clone();
        while fs::symlink_metadata(&probe).is_err() {
            missing.push(probe.clone());
            if !probe.pop() {
                break;
            }
        }
        fs::create_dir_all(&dir)?;
        created_dirs.extend(missing.into_iter().rev());
    }
    let name = plan
        .target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temporaries(&dir, &name);
    for n in 0..100u32 {
        let temp = dir.join(format!(".{name}.tandem-{}-{n}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(mut file) => {
                plan.temp = Some(temp.clone());
                file.write_all(&plan.new_text)?;
                file.sync_all()?;
                if let Some((_, perms)) = &plan.backup {
                    fs::set_permissions(&temp, perms.clone())?;
                }
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("cannot find a free temporary file name"))
}

/// Removes the temporary files for `name` in `dir` left by processes that no longer run
/// (`.NAME.tandem-PID-N.tmp`, `.NAME.tandem-restore-PID.tmp`). Failures are ignored: they are
/// litter, not the user's files.
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.tandem-");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".tmp"))
        else {
            continue;
        };
        let rest = rest.strip_prefix("restore-").unwrap_or(rest);
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !crate::runs::store::process_alive(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn replace(plan: &Planned) -> io::Result<()> {
    let temp = plan.temp.as_ref().expect("prepared before replacing");
    match plan.kind {
        ChangeKind::Modify => fs::rename(temp, &plan.target),
        // A hard link fails if the target appeared meanwhile, where a rename would overwrite
        // it; file systems without hard links fall back to the rename.
        ChangeKind::Create => match fs::hard_link(temp, &plan.target) {
            Ok(()) => {
                let _ = fs::remove_file(temp);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
            Err(_) => fs::rename(temp, &plan.target),
        },
    }
}

/// Restores files `0..replaced` and removes every temporary file and new folder; returns the
/// files that could not be restored.
fn undo(planned: &[Planned], replaced: usize, created_dirs: &[PathBuf]) -> Vec<String> {
    let mut failed = Vec::new();
    for plan in planned {
        if let Some(temp) = &plan.temp {
            let _ = fs::remove_file(temp);
        }
    }
    for plan in planned[..replaced].iter().rev() {
        let ok = match (&plan.kind, &plan.backup) {
            (ChangeKind::Modify, Some((bytes, perms))) => restore(&plan.target, bytes, perms),
            _ => fs::remove_file(&plan.target),
        };
        if ok.is_err() {
            failed.push(plan.path.relative().to_string());
        }
    }
    for dir in created_dirs.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
    failed
}

fn restore(target: &Path, bytes: &[u8], perms: &fs::Permissions) -> io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.tandem-restore-{}.tmp",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = fs::write(&temp, bytes)
        .and_then(|()| fs::set_permissions(&temp, perms.clone()))
        .and_then(|()| fs::rename(&temp, target));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
        // Last resort: write in place.
        return fs::write(target, bytes);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edits::ops::{resolve_edits, DiskTexts, EditSet};

    fn setup() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.py"), "def f():\n    return 1\n").unwrap();
        fs::write(dir.path().join("b.py"), "x = 1\n").unwrap();
        dir
    }

    fn edits(root: &Path) -> ResolvedEdits {
        let set = EditSet::from_value(&serde_json::json!({"operations": [
            {"op": "replace_text", "path": "a.py", "search": "return 1", "replace": "return 2"},
            {"op": "replace_text", "path": "b.py", "search": "x = 1", "replace": "x = 2"},
            {"op": "create_file", "path": "pkg/sub/new.py", "content": "y = 1\n"}
        ], "notes": null}))
        .unwrap();
        resolve_edits(root, &set.operations, &DiskTexts).unwrap()
    }

    fn snapshot(root: &Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for entry in ignore::WalkBuilder::new(root).hidden(false).build() {
            let entry = entry.unwrap();
            let rel = entry
                .path()
                .strip_prefix(root)
                .unwrap()
                .display()
                .to_string();
            let content = if entry.path().is_file() {
                fs::read_to_string(entry.path()).unwrap()
            } else {
                "<dir>".to_string()
            };
            out.push((rel, content));
        }
        out.sort();
        out
    }

    #[test]
    fn writes_every_file_and_keeps_permissions() {
        let dir = setup();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path().join("a.py"), fs::Permissions::from_mode(0o751))
                .unwrap();
        }
        let e = edits(dir.path());
        let written = apply(dir.path(), &e).unwrap();
        assert_eq!(written.len(), 3);
        assert_eq!(
            fs::read_to_string(dir.path().join("a.py")).unwrap(),
            "def f():\n    return 2\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("b.py")).unwrap(),
            "x = 2\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("pkg/sub/new.py")).unwrap(),
            "y = 1\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("a.py"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o751);
        }
        // No temporary files are left behind.
        assert!(snapshot(dir.path())
            .iter()
            .all(|(p, _)| !p.contains(".tmp")));
    }

    #[test]
    fn a_changed_file_refuses_everything() {
        let dir = setup();
        let e = edits(dir.path());
        fs::write(dir.path().join("b.py"), "x = 10\n").unwrap();
        let before = snapshot(dir.path());
        let err = apply(dir.path(), &e).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.py changed since the edits were computed; nothing was written"
        );
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_file_created_meanwhile_refuses_everything() {
        let dir = setup();
        let e = edits(dir.path());
        fs::create_dir_all(dir.path().join("pkg/sub")).unwrap();
        fs::write(dir.path().join("pkg/sub/new.py"), "mine\n").unwrap();
        let before = snapshot(dir.path());
        assert!(matches!(
            apply(dir.path(), &e),
            Err(ApplyError::Exists { .. })
        ));
        assert_eq!(snapshot(dir.path()), before);
    }

    #[test]
    fn a_failure_midway_rolls_back_what_was_replaced() {
        for fail_at in 0..3 {
            let dir = setup();
            let e = edits(dir.path());
            let before = snapshot(dir.path());
            let err = apply_with(dir.path(), &e, &mut |i| {
                if i == fail_at {
                    Err(io::Error::other("disk full"))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
            match &err {
                ApplyError::Write {
                    rollback_failed, ..
                } => assert!(rollback_failed.is_empty()),
                other => panic!("{other}"),
            }
            assert!(
                err.to_string().contains("disk full; nothing was written"),
                "{err}"
            );
            assert_eq!(snapshot(dir.path()), before, "failing at {fail_at}");
        }
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed_on_the_next_write() {
        let dir = setup();
        let root = dir.path();
        // A process that cannot exist, and this one (alive).
        let dead = [
            format!(".a.py.tandem-{}-0.tmp", u32::MAX),
            format!(".a.py.tandem-restore-{}.tmp", u32::MAX),
            format!(".new.py.tandem-{}-3.tmp", u32::MAX),
        ];
        let alive = format!(".a.py.tandem-{}-99.tmp", std::process::id());
        let other = format!(".b.py.tandem-{}-0.tmp", u32::MAX);
        fs::create_dir_all(root.join("pkg/sub")).unwrap();
        for name in &dead[..2] {
            fs::write(root.join(name), "def f(\n").unwrap();
        }
        fs::write(root.join("pkg/sub").join(&dead[2]), "y =").unwrap();
        fs::write(root.join(&alive), "mine\n").unwrap();
        fs::write(root.join(&other), "x =").unwrap();
        let set = EditSet::from_value(&serde_json::json!({"operations": [
            {"op": "replace_text", "path": "a.py", "search": "return 1", "replace": "return 2"},
            {"op": "create_file", "path": "pkg/sub/new.py", "content": "y = 1\n"}
        ], "notes": null}))
        .unwrap();
        let e = resolve_edits(root, &set.operations, &DiskTexts).unwrap();
        apply(root, &e).unwrap();
        assert!(!root.join(&dead[0]).exists());
        assert!(!root.join(&dead[1]).exists());
        assert!(!root.join("pkg/sub").join(&dead[2]).exists());
        // A live process's file, and files of targets not written, stay.
        assert!(root.join(&alive).exists());
        assert!(root.join(&other).exists());
    }

    /// Writes the journal and the temporaries of `e`, puts the first `done` in place, and
    /// stops there, as a process killed between two renames would.
    fn half_write(root: &Path, e: &ResolvedEdits, done: usize) {
        let mut planned = check(root, e).unwrap();
        let mut dirs = Vec::new();
        for p in &mut planned {
            prepare(p, &mut dirs).unwrap();
        }
        let journal = write_journal(root, &planned, &mut Vec::new()).unwrap();
        // Written by a process that no longer runs.
        let mut text: Journal = serde_json::from_slice(&fs::read(&journal).unwrap()).unwrap();
        text.pid = u32::MAX;
        fs::write(&journal, serde_json::to_vec(&text).unwrap()).unwrap();
        for p in &planned[..done] {
            replace(p).unwrap();
        }
    }

    #[test]
    fn a_set_left_half_written_is_completed_before_the_next_write() {
        for done in 0..3 {
            let dir = setup();
            let root = dir.path();
            let e = edits(root);
            half_write(root, &e, done);
            let notes = finish_interrupted(root);
            assert_eq!(notes.len(), 3 - done, "{notes:?}");
            assert_eq!(
                fs::read_to_string(root.join("a.py")).unwrap(),
                "def f():\n    return 2\n"
            );
            assert_eq!(fs::read_to_string(root.join("b.py")).unwrap(), "x = 2\n");
            assert_eq!(
                fs::read_to_string(root.join("pkg/sub/new.py")).unwrap(),
                "y = 1\n"
            );
            // No journal or temporary is left.
            assert!(
                snapshot(root)
                    .iter()
                    .all(|(p, _)| !p.contains(".tmp") && !p.ends_with(".json")),
                "{:?}",
                snapshot(root)
            );
            assert!(finish_interrupted(root).is_empty());
        }
    }

    #[test]
    fn a_half_written_set_never_overwrites_a_later_change() {
        let dir = setup();
        let root = dir.path();
        let e = edits(root);
        half_write(root, &e, 1);
        // The user edits b.py before anything completes the set.
        fs::write(root.join("b.py"), "x = 10\n").unwrap();
        let notes = finish_interrupted(root);
        assert!(
            notes.iter().any(|n| n.contains("b.py: changed since")),
            "{notes:?}"
        );
        assert_eq!(fs::read_to_string(root.join("b.py")).unwrap(), "x = 10\n");
        // The rest of the set was completed.
        assert_eq!(
            fs::read_to_string(root.join("pkg/sub/new.py")).unwrap(),
            "y = 1\n"
        );
        assert!(snapshot(root).iter().all(|(p, _)| !p.contains(".tmp")));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_swapped_in_after_resolving_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let e = {
            let set = EditSet::from_value(&serde_json::json!({"operations": [
                {"op": "create_file", "path": "gen/out.py", "content": "evil\n"}
            ], "notes": null}))
            .unwrap();
            resolve_edits(dir.path(), &set.operations, &DiskTexts).unwrap()
        };
        std::os::unix::fs::symlink(outside.path(), dir.path().join("gen")).unwrap();
        assert!(matches!(apply(dir.path(), &e), Err(ApplyError::Path(_))));
        assert!(!outside.path().join("out.py").exists());
    }
}
