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

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
    // 1. Check everything before writing anything.
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

    // 2. Temporary files next to their targets.
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    for i in 0..planned.len() {
        if let Err(error) = prepare(&mut planned[i], &mut created_dirs) {
            let path = planned[i].path.relative().to_string();
            let failed = undo(&planned, 0, &created_dirs);
            return Err(ApplyError::Write {
                path,
                error,
                rollback_failed: failed,
            });
        }
    }

    // 3. Put them in place.
    for i in 0..planned.len() {
        let result = before_replace(i).and_then(|()| replace(&planned[i]));
        if let Err(error) = result {
            let path = planned[i].path.relative().to_string();
            let failed = undo(&planned, i, &created_dirs);
            return Err(ApplyError::Write {
                path,
                error,
                rollback_failed: failed,
            });
        }
    }
    Ok(planned.into_iter().map(|p| p.path).collect())
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
