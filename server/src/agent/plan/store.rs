//! The plan files on disk: `.tandem/plans/<id>.md` under the workspace root, written whole
//! (temporary file and rename) under a name no other plan has; and the documentation files
//! the offline planner searches for mentions of the changed symbols.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{render_plan, Plan};

/// Where plans live, relative to the workspace root.
pub const PLANS_DIR: &str = ".tandem/plans";

/// A short, time-based id: the UTC time to the second (`20250114-153012`), so ids sort by age.
/// [`save_plan`] adds a suffix when two plans are made in the same second.
pub fn new_plan_id() -> String {
    crate::runs::time::compact_utc(crate::runs::time::now_ms())
}

/// The file of plan `id`.
pub fn plan_path(root: &Path, id: &str) -> PathBuf {
    root.join(PLANS_DIR).join(format!("{id}.md"))
}

/// Writes `plan` as `.tandem/plans/<id>.md`; when that name is taken, the id gets a suffix
/// (`-2`, `-3`, …) and `plan.id` is updated. Returns the file's path.
pub fn save_plan(root: &Path, plan: &mut Plan) -> std::io::Result<PathBuf> {
    let dir = root.join(PLANS_DIR);
    std::fs::create_dir_all(&dir)?;
    let base = plan.id.clone();
    static TEMP: AtomicU64 = AtomicU64::new(0);
    for n in 1..1000 {
        if n > 1 {
            plan.id = format!("{base}-{n}");
        }
        let path = plan_path(root, &plan.id);
        // Claim the name first, so that two plans made at once never share a file.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        let temp = dir.join(format!(
            ".{}.{}.{}.tmp",
            plan.id,
            std::process::id(),
            TEMP.fetch_add(1, Ordering::SeqCst)
        ));
        let written = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(render_plan(plan).as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temp, &path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        return Ok(path);
    }
    Err(std::io::Error::other(format!(
        "no free name for plan {base} in {}",
        dir.display()
    )))
}

/// The workspace's documentation files (README*, and `.md`/`.rst`/`.txt` files under `docs/`
/// and `doc/`), honouring ignore files: at most 200 files of at most 1 MB each, as
/// (workspace-relative path, text).
pub fn read_doc_files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let walk = ignore::WalkBuilder::new(root).max_depth(Some(4)).build();
    for entry in walk.flatten() {
        if out.len() >= 200 {
            break;
        }
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let is_doc_ext = [".md", ".rst", ".txt"].iter().any(|e| name.ends_with(e));
        let wanted = is_doc_ext
            && (name.starts_with("README") || rel.starts_with("docs/") || rel.starts_with("doc/"))
            && !rel.starts_with(".tandem/");
        if !wanted || !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX) > 1_000_000 {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(path) {
            out.push((rel, text));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_ids_are_the_utc_time_to_the_second() {
        let id = new_plan_id();
        assert_eq!(id.len(), 15, "{id}");
        assert_eq!(&id[8..9], "-");
    }
}
