//! The `tandem check` cache: what checking each file gave, and what the project pass gave for
//! the whole set of files, on disk under `.tandem/cache/check/` of the workspace, so that a run
//! over unchanged files reads results instead of parsing and solving again.
//!
//! One file per configuration: its name is a hash of Tandem's version and everything that
//! shapes the findings (selection, options, workspace root). Inside, each checked file's
//! results are keyed by its path and a hash and length of its text; the project findings by a
//! hash of every checked file's path and text hash and the entry points. A changed text misses,
//! so stale findings never come back. An unreadable, damaged or foreign cache file is ignored
//! (and replaced); files are written under a temporary name and renamed, so a reader never sees
//! half a file. Files the workspace ignores (`.gitignore`, `.tandemignore`), secret files and
//! files outside the workspace are never stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::check::PrintedFinding;

/// Bumped when the format or the meaning of the stored results changes.
const FORMAT: u32 = 1;

/// Cache files kept per workspace (one per configuration); older ones are removed.
const KEEP: usize = 8;

/// What checking one file gave, before DOC701 names are resolved across the project.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FileResult {
    pub findings: Vec<PrintedFinding>,
    /// DOC701 candidates: the name a docstring mentions, with the finding to print if the
    /// project does not define it.
    pub mentions: Vec<(String, PrintedFinding)>,
    /// Names the file defines: `f`, `C`, `C.m`.
    pub names: Vec<String>,
}

/// A text's identity for the cache: its length and a 64-bit hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct TextKey {
    pub len: usize,
    pub hash: u64,
}

impl TextKey {
    pub fn of(text: &str) -> TextKey {
        TextKey {
            len: text.len(),
            hash: crate::analysis::index::content_hash(text),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileEntry {
    text: TextKey,
    result: FileResult,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProjectEntry {
    key: String,
    findings: Vec<PrintedFinding>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    format: u32,
    version: String,
    configuration: String,
    files: HashMap<PathBuf, FileEntry>,
    project: Option<ProjectEntry>,
}

/// The cache of one configuration, loaded in memory for a run.
#[derive(Debug)]
pub struct CheckCache {
    root: PathBuf,
    dir: PathBuf,
    configuration: String,
    stored: Stored,
    changed: bool,
}

/// A hex SHA-256 of some text.
fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl CheckCache {
    /// The cache under `dir` (normally `<root>/.tandem/cache/check`) for a configuration
    /// described by `configuration` (anything that changes findings must be in it). A missing,
    /// unreadable or foreign cache file gives an empty cache.
    pub fn open(root: &Path, dir: &Path, configuration: &str) -> CheckCache {
        let configuration = digest(&format!(
            "{FORMAT}\n{}\n{}\n{configuration}",
            env!("CARGO_PKG_VERSION"),
            root.display()
        ));
        let mut cache = CheckCache {
            root: root.to_path_buf(),
            dir: dir.to_path_buf(),
            configuration,
            stored: Stored::default(),
            changed: false,
        };
        let loaded = std::fs::read(cache.file())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
            .filter(|s| {
                s.format == FORMAT
                    && s.version == env!("CARGO_PKG_VERSION")
                    && s.configuration == cache.configuration
            });
        match loaded {
            Some(stored) => cache.stored = stored,
            None => {
                cache.stored.format = FORMAT;
                cache.stored.version = env!("CARGO_PKG_VERSION").to_string();
                cache.stored.configuration = cache.configuration.clone();
            }
        }
        cache
    }

    /// The default place of the cache of the workspace at `root`.
    pub fn default_dir(root: &Path) -> PathBuf {
        root.join(".tandem").join("cache").join("check")
    }

    fn file(&self) -> PathBuf {
        self.dir.join(format!("{}.json", &self.configuration[..32]))
    }

    /// The stored result of `path` if it was computed from a text with this key.
    pub fn file_result(&self, path: &Path, text: TextKey) -> Option<&FileResult> {
        self.stored
            .files
            .get(path)
            .filter(|e| e.text == text)
            .map(|e| &e.result)
    }

    /// The key of the project findings of these files (path and text key each).
    pub fn project_key(files: &[(&Path, TextKey)], entry_points: &[String]) -> String {
        let mut listed = String::new();
        for (path, text) in files {
            listed.push_str(&format!(
                "{}\t{}\t{:x}\n",
                path.display(),
                text.len,
                text.hash
            ));
        }
        for entry in entry_points {
            listed.push_str(&format!("entry\t{entry}\n"));
        }
        digest(&listed)
    }

    /// The stored project findings for `key`.
    pub fn project_findings(&self, key: &str) -> Option<&[PrintedFinding]> {
        self.stored
            .project
            .as_ref()
            .filter(|p| p.key == key)
            .map(|p| p.findings.as_slice())
    }

    /// Replaces the stored results with those of this run: `files` are every checked file
    /// with its text key and result (files the workspace ignores are left out here), and the
    /// project findings when the project pass ran.
    pub fn update(
        &mut self,
        files: Vec<(PathBuf, TextKey, FileResult)>,
        project: Option<(String, Vec<PrintedFinding>)>,
    ) {
        let mut filter = crate::models::redact::PromptFilter::new(Some(&self.root));
        let mut kept: HashMap<PathBuf, FileEntry> = HashMap::with_capacity(files.len());
        for (path, text, result) in files {
            if filter.exclusion(&path).is_some() {
                continue;
            }
            kept.insert(path, FileEntry { text, result });
        }
        let project = match project {
            Some((key, findings)) => Some(ProjectEntry { key, findings }),
            None => self.stored.project.take(),
        };
        let same_files = kept.len() == self.stored.files.len()
            && kept
                .iter()
                .all(|(p, e)| self.stored.files.get(p).is_some_and(|s| s.text == e.text));
        let same_project =
            project.as_ref().map(|p| &p.key) == self.stored.project.as_ref().map(|p| &p.key);
        self.changed |= !same_files || !same_project;
        self.stored.files = kept;
        self.stored.project = project;
    }

    /// Writes the cache if this run changed it. Failures are reported, never fatal: the cache
    /// only saves time.
    pub fn save(&self) {
        if !self.changed {
            return;
        }
        if let Err(e) = self.try_save() {
            eprintln!(
                "tandem: warning: cannot write the check cache in {}: {e}",
                self.dir.display()
            );
        }
    }

    fn try_save(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // `.tandem/` holds local state that does not belong in version control.
        if let Some(tandem_dir) = self.dir.ancestors().find(|d| d.ends_with(".tandem")) {
            let gitignore = tandem_dir.join(".gitignore");
            if !gitignore.exists() {
                let _ = std::fs::write(gitignore, "# Tandem's local state (cache, runs).\n*\n");
            }
        }
        let bytes = serde_json::to_vec(&self.stored).map_err(std::io::Error::other)?;
        let path = self.file();
        let tmp = self.dir.join(format!(
            ".{}.{}.tmp",
            &self.configuration[..32],
            std::process::id()
        ));
        std::fs::write(&tmp, &bytes)?;
        if let Err(e) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        self.prune();
        Ok(())
    }

    /// Keeps the most recently written cache files of the workspace.
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        for (_, path) in files.into_iter().skip(KEEP) {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(code: &str) -> PrintedFinding {
        PrintedFinding {
            path: "a.py".into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            code: code.into(),
            severity: crate::analysis::finding::Severity::Warning,
            message: "m".into(),
        }
    }

    /// A scratch workspace, its cache folder, a file in it and the key of a text.
    fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf, TextKey) {
        let root = tempfile::tempdir().unwrap();
        let dir = CheckCache::default_dir(root.path());
        let path = root.path().join("a.py");
        (root, dir, path, TextKey::of("x = 1\n"))
    }

    #[test]
    fn results_come_back_only_for_the_same_text_and_configuration() {
        let (root, dir, path, key) = scratch();
        let result = FileResult {
            findings: vec![printed("TDM001")],
            ..FileResult::default()
        };
        let mut cache = CheckCache::open(root.path(), &dir, "config A");
        assert!(cache.file_result(&path, key).is_none());
        cache.update(
            vec![(path.clone(), key, result.clone())],
            Some(("k".into(), vec![printed("TDM021")])),
        );
        cache.save();
        assert!(root.path().join(".tandem/.gitignore").exists());

        let cache = CheckCache::open(root.path(), &dir, "config A");
        assert_eq!(cache.file_result(&path, key), Some(&result));
        assert!(cache.file_result(&path, TextKey::of("x = 2\n")).is_none());
        assert_eq!(cache.project_findings("k").map(<[_]>::len), Some(1));
        assert!(cache.project_findings("other").is_none());
        let other = CheckCache::open(root.path(), &dir, "config B");
        assert!(other.file_result(&path, key).is_none());
    }

    #[test]
    fn damaged_or_foreign_cache_files_are_ignored_and_replaced() {
        let (root, dir, path, key) = scratch();
        let cache = CheckCache::open(root.path(), &dir, "c");
        std::fs::create_dir_all(&dir).unwrap();
        for junk in [
            &b"{not json"[..],
            br#"{"format": 999, "version": "0", "configuration": "x", "files": {}, "project": null}"#,
        ] {
            std::fs::write(cache.file(), junk).unwrap();
            let mut cache = CheckCache::open(root.path(), &dir, "c");
            assert!(cache.file_result(&path, key).is_none());
            cache.update(vec![(path.clone(), key, FileResult::default())], None);
            cache.save();
            let reread = CheckCache::open(root.path(), &dir, "c");
            assert!(reread.file_result(&path, key).is_some());
        }
    }

    #[test]
    fn ignored_and_outside_files_are_not_stored() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join(".gitignore"), "secret_*.py\n").unwrap();
        let dir = CheckCache::default_dir(root.path());
        let key = TextKey::of("x = 1\n");
        let outside = tempfile::tempdir().unwrap();
        let files = [
            root.path().join("ok.py"),
            root.path().join("secret_token.py"),
            root.path().join(".env.py"),
            outside.path().join("elsewhere.py"),
        ];
        let mut cache = CheckCache::open(root.path(), &dir, "c");
        cache.update(
            files
                .iter()
                .map(|p| (p.clone(), key, FileResult::default()))
                .collect(),
            None,
        );
        cache.save();
        let stored = std::fs::read_to_string(cache.file()).unwrap();
        assert!(stored.contains("ok.py"));
        for left_out in ["secret_token", ".env.py", "elsewhere"] {
            assert!(!stored.contains(left_out), "{left_out} stored: {stored}");
        }
    }
}
