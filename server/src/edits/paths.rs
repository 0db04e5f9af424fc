//! Paths that come from a model, checked before anything is read or written through them.
//!
//! A model's path is untrusted text. `WorkspacePath::resolve` normalises it (separators, `.`,
//! inner `..`) and accepts it only if it names a place inside the workspace root once every
//! existing symlink on the way has been resolved, and only if that place is not protected
//! (version control, editor settings, Tandem's own state, the project's configuration and
//! files that hold secrets, such as `.env` and SSH keys).
//! Every refusal names the path and the reason, so the message can go back to the model or to
//! the user as it is.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Folders a model never writes into, at any depth, compared without regard to case (so a
/// case-insensitive file system cannot be used to get around them).
pub const PROTECTED_DIRS: &[&str] = &[".git", ".tandem", ".vscode", ".idea"];

/// Files a model never writes, at any depth. `pyproject.toml` is refused as a whole rather than
/// only its `[tool.*]` tables: telling a harmless edit from one that changes a tool's
/// configuration would need a TOML round trip, and a wrong guess would let a model reconfigure
/// Tandem, the linters or the test runner.
pub const PROTECTED_FILES: &[&str] = &["tandem.toml", "pyproject.toml"];

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathErrorKind {
    Empty,
    NulByte,
    Absolute,
    HomeDirectory,
    DriveLetter,
    Unc,
    /// `..` climbs above the workspace root.
    ParentEscape,
    /// The path names a folder (ends with a separator).
    Directory,
    /// An existing component is a symlink that leads outside the root.
    SymlinkEscape {
        target: PathBuf,
    },
    /// An existing component is a symlink whose target does not exist.
    DanglingSymlink,
    /// The path lies in a protected folder or is a protected file.
    Protected {
        what: String,
    },
    /// The workspace root or a component could not be examined.
    Io(String),
}

/// A refused path: what the model wrote and why it cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub path: String,
    pub kind: PathErrorKind,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.escape_debug();
        match &self.kind {
            PathErrorKind::Empty => write!(f, "path `{path}` is empty"),
            PathErrorKind::NulByte => write!(f, "path `{path}` contains a NUL byte"),
            PathErrorKind::Absolute => {
                write!(
                    f,
                    "path `{path}` is absolute; paths must be relative to the workspace root"
                )
            }
            PathErrorKind::HomeDirectory => {
                write!(
                    f,
                    "path `{path}` starts with `~`; paths must be relative to the workspace root"
                )
            }
            PathErrorKind::DriveLetter => write!(f, "path `{path}` starts with a drive letter"),
            PathErrorKind::Unc => write!(f, "path `{path}` is a UNC path"),
            PathErrorKind::ParentEscape => {
                write!(f, "path `{path}` leads outside the workspace with `..`")
            }
            PathErrorKind::Directory => write!(f, "path `{path}` names a folder, not a file"),
            PathErrorKind::SymlinkEscape { target } => write!(
                f,
                "path `{path}` goes through a symlink that leads outside the workspace (to {})",
                target.display()
            ),
            PathErrorKind::DanglingSymlink => {
                write!(
                    f,
                    "path `{path}` goes through a symlink whose target does not exist"
                )
            }
            PathErrorKind::Protected { what } => {
                write!(
                    f,
                    "path `{path}` is protected ({what} is never written by a model)"
                )
            }
            PathErrorKind::Io(e) => write!(f, "path `{path}` cannot be checked: {e}"),
        }
    }
}

impl std::error::Error for PathError {}

/// A path a model gave, checked to lie inside the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkspacePath {
    /// Normalised, relative to the root, with `/` separators (`src/shop/cart.py`).
    relative: String,
    /// Where the file is: the canonical root joined with the canonical form of the path's
    /// deepest existing ancestor and the components that do not exist yet.
    absolute: PathBuf,
}

impl WorkspacePath {
    /// Checks a path for writing: inside the root after symlinks, and not protected.
    pub fn resolve(root: &Path, model_path: &str) -> Result<WorkspacePath, PathError> {
        let resolved = Self::resolve_readable(root, model_path)?;
        let error = |what: String| PathError {
            path: model_path.to_string(),
            kind: PathErrorKind::Protected { what },
        };
        if let Some(what) = protected_part(&resolved.relative) {
            return Err(error(what));
        }
        // `src/..` is refused lexically, but a symlink (`here -> .`) can still name a folder,
        // even the root itself; a file can never be written there.
        if resolved.absolute.is_dir() {
            return Err(PathError {
                path: model_path.to_string(),
                kind: PathErrorKind::Directory,
            });
        }
        // A symlink inside the workspace could lead into a protected folder (`docs -> .git`).
        let root_canon = canonical_root(root, model_path)?;
        if let Ok(real) = resolved.absolute.strip_prefix(&root_canon) {
            let real = real
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if let Some(what) = protected_part(&real) {
                return Err(error(what));
            }
        }
        Ok(resolved)
    }

    /// Checks a path for reading: inside the root after symlinks; protected places allowed.
    pub fn resolve_readable(root: &Path, model_path: &str) -> Result<WorkspacePath, PathError> {
        let error = |kind| PathError {
            path: model_path.to_string(),
            kind,
        };
        let relative = normalize(model_path).map_err(error)?;
        let root_canon = canonical_root(root, model_path)?;
        let absolute = resolve_existing(&root_canon, &relative).map_err(error)?;
        Ok(WorkspacePath { relative, absolute })
    }

    /// The normalised relative path with `/` separators.
    pub fn relative(&self) -> &str {
        &self.relative
    }

    /// The file's place on disk (inside the canonical root).
    pub fn absolute(&self) -> &Path {
        &self.absolute
    }
}

/// Serialized as the relative path: that is what a report or the language server shows.
impl serde::Serialize for WorkspacePath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.relative)
    }
}

impl fmt::Display for WorkspacePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.relative)
    }
}

fn canonical_root(root: &Path, model_path: &str) -> Result<PathBuf, PathError> {
    std::fs::canonicalize(root).map_err(|e| PathError {
        path: model_path.to_string(),
        kind: PathErrorKind::Io(format!("workspace root {}: {e}", root.display())),
    })
}

/// The lexical checks: no absolute, home, drive or UNC paths, no NUL, no `..` above the root.
/// Backslashes count as separators: a model writing `src\app.py` means a folder.
fn normalize(raw: &str) -> Result<String, PathErrorKind> {
    if raw.contains('\0') {
        return Err(PathErrorKind::NulByte);
    }
    if raw.trim().is_empty() {
        return Err(PathErrorKind::Empty);
    }
    if raw.starts_with("\\\\") || raw.starts_with("//") {
        return Err(PathErrorKind::Unc);
    }
    if raw.starts_with('/') || raw.starts_with('\\') {
        return Err(PathErrorKind::Absolute);
    }
    if raw.starts_with('~') {
        return Err(PathErrorKind::HomeDirectory);
    }
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(PathErrorKind::DriveLetter);
    }
    if raw.ends_with('/') || raw.ends_with('\\') {
        return Err(PathErrorKind::Directory);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathErrorKind::ParentEscape);
                }
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(PathErrorKind::Empty);
    }
    Ok(parts.join("/"))
}

/// Resolves the deepest existing ancestor of `root/relative` through the file system and
/// checks that it stays inside `root` (canonical).
fn resolve_existing(root: &Path, relative: &str) -> Result<PathBuf, PathErrorKind> {
    let parts: Vec<&str> = relative.split('/').collect();
    // Find how many leading components exist (a dangling symlink exists as a link).
    let mut existing = 0;
    let mut probe = root.to_path_buf();
    for part in &parts {
        probe.push(part);
        match std::fs::symlink_metadata(&probe) {
            Ok(_) => existing += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => break,
            Err(e) => return Err(PathErrorKind::Io(format!("{}: {e}", probe.display()))),
        }
    }
    let mut base = root.to_path_buf();
    for part in &parts[..existing] {
        base.push(part);
    }
    let canonical = if existing == 0 {
        root.to_path_buf()
    } else {
        match std::fs::canonicalize(&base) {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(PathErrorKind::DanglingSymlink)
            }
            Err(e) => return Err(PathErrorKind::Io(format!("{}: {e}", base.display()))),
        }
    };
    if !canonical.starts_with(root) {
        return Err(PathErrorKind::SymlinkEscape { target: canonical });
    }
    let mut absolute = canonical;
    for part in &parts[existing..] {
        absolute.push(part);
    }
    // Belt and braces: nothing above can add `..`, but the invariant is what callers rely on.
    debug_assert!(absolute
        .components()
        .all(|c| !matches!(c, Component::ParentDir)));
    Ok(absolute)
}

/// What makes a normalised relative path (`/` separators, no `.` or `..`) protected, if
/// anything, without regard to case. The one rule for protected places: plan validation
/// (`agent::plan::validate`) asks it too.
pub fn protected_part(relative: &str) -> Option<String> {
    let parts: Vec<&str> = relative.split('/').collect();
    for part in &parts {
        if let Some(dir) = PROTECTED_DIRS.iter().find(|d| part.eq_ignore_ascii_case(d)) {
            return Some(format!("the `{dir}/` folder"));
        }
    }
    let last = parts.last()?;
    if let Some(f) = PROTECTED_FILES
        .iter()
        .find(|f| last.eq_ignore_ascii_case(f))
    {
        return Some(format!("`{f}`"));
    }
    // Files that hold secrets by their nature (`.env`, `id_rsa`, `*.pem`, anything in `.ssh/`):
    // a model that writes one could plant credentials or change what the program connects to,
    // and they are kept out of prompts for the same reason.
    crate::models::redact::is_secret_file(Path::new(relative))
        .then(|| format!("a secret file such as `{last}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind(root: &Path, p: &str) -> PathErrorKind {
        WorkspacePath::resolve(root, p).unwrap_err().kind
    }

    #[test]
    fn a_path_that_names_a_folder_through_a_symlink_is_refused_for_writing() {
        // Found by fuzzing (`fuzz/`, target `paths`): `here -> .` resolved to the root itself.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("src")).unwrap();
        std::os::unix::fs::symlink(".", root.join("here")).unwrap();
        std::os::unix::fs::symlink("src", root.join("code")).unwrap();
        for p in ["here", "code", "src", "here/src", "here/here"] {
            assert_eq!(kind(root, p), PathErrorKind::Directory, "{p}");
        }
        // Reading may still name a folder inside the root, and files through the links work.
        assert!(WorkspacePath::resolve_readable(root, "here").is_ok());
        let file = WorkspacePath::resolve(root, "here/code/new.py").unwrap();
        assert_eq!(
            file.absolute(),
            root.canonicalize().unwrap().join("src/new.py")
        );
    }

    #[test]
    fn normal_paths_are_normalised() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (given, want) in [
            ("src/app.py", "src/app.py"),
            ("./src//app.py", "src/app.py"),
            ("src\\shop\\cart.py", "src/shop/cart.py"),
            ("src/../app.py", "app.py"),
            ("a/./b/../c.py", "a/c.py"),
        ] {
            let p = WorkspacePath::resolve(root, given).unwrap();
            assert_eq!(p.relative(), want, "{given}");
            let canon = std::fs::canonicalize(root).unwrap();
            assert_eq!(p.absolute(), canon.join(want));
        }
    }

    #[test]
    fn lexical_refusals_name_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(kind(root, ""), PathErrorKind::Empty);
        assert_eq!(kind(root, "   "), PathErrorKind::Empty);
        assert_eq!(kind(root, "."), PathErrorKind::Empty);
        assert_eq!(kind(root, "a/.."), PathErrorKind::Empty);
        assert_eq!(kind(root, "a\0b.py"), PathErrorKind::NulByte);
        assert_eq!(kind(root, "/etc/passwd"), PathErrorKind::Absolute);
        assert_eq!(kind(root, "\\windows\\x.py"), PathErrorKind::Absolute);
        assert_eq!(kind(root, "~/x.py"), PathErrorKind::HomeDirectory);
        assert_eq!(kind(root, "~root/x.py"), PathErrorKind::HomeDirectory);
        assert_eq!(kind(root, "C:\\x.py"), PathErrorKind::DriveLetter);
        assert_eq!(kind(root, "c:x.py"), PathErrorKind::DriveLetter);
        assert_eq!(kind(root, "\\\\server\\share\\x.py"), PathErrorKind::Unc);
        assert_eq!(kind(root, "//server/share/x.py"), PathErrorKind::Unc);
        assert_eq!(kind(root, "../outside.py"), PathErrorKind::ParentEscape);
        assert_eq!(
            kind(root, "a/../../outside.py"),
            PathErrorKind::ParentEscape
        );
        assert_eq!(kind(root, "src/"), PathErrorKind::Directory);
        let e = WorkspacePath::resolve(root, "../outside.py").unwrap_err();
        assert_eq!(
            e.to_string(),
            "path `../outside.py` leads outside the workspace with `..`"
        );
    }

    #[test]
    fn protected_places_are_refused_for_writing_but_readable() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for p in [
            ".git/config",
            ".GIT/hooks/pre-commit",
            "sub/.git/config",
            ".tandem/tandem.db",
            ".vscode/settings.json",
            ".idea/workspace.xml",
            "tandem.toml",
            "pyproject.toml",
            "pkg/pyproject.toml",
            ".git",
            // Secret files, as the prompt filter knows them, at any depth and in any case.
            ".env",
            ".env.local",
            "sub/.ENV",
            "id_rsa",
            ".ssh/config",
            "certs/server.pem",
        ] {
            assert!(
                matches!(kind(root, p), PathErrorKind::Protected { .. }),
                "{p}"
            );
            assert!(WorkspacePath::resolve_readable(root, p).is_ok(), "{p}");
        }
        let e = WorkspacePath::resolve(root, "pyproject.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "path `pyproject.toml` is protected (`pyproject.toml` is never written by a model)"
        );
        assert_eq!(
            WorkspacePath::resolve(root, "conf/.env").unwrap_err().to_string(),
            "path `conf/.env` is protected (a secret file such as `.env` is never written by a model)"
        );
        assert!(WorkspacePath::resolve(root, "envoy.py").is_ok());
        assert!(WorkspacePath::resolve(root, "gitignore_helpers.py").is_ok());
        assert!(WorkspacePath::resolve(root, "src/idea.py").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leading_outside_are_refused() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(outside.path().join("secret.py"), "x = 1\n").unwrap();
        symlink(outside.path(), root.join("out")).unwrap();
        symlink(outside.path().join("secret.py"), root.join("src/link.py")).unwrap();
        symlink(root.join("src"), root.join("inside")).unwrap();
        symlink(root.join("missing"), root.join("dangling.py")).unwrap();
        symlink(root.join(".git"), root.join("meta")).unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();

        // A folder symlink out, for an existing and a new file.
        assert!(matches!(
            kind(root, "out/secret.py"),
            PathErrorKind::SymlinkEscape { .. }
        ));
        assert!(matches!(
            kind(root, "out/new/deeper.py"),
            PathErrorKind::SymlinkEscape { .. }
        ));
        // A file symlink out.
        assert!(matches!(
            kind(root, "src/link.py"),
            PathErrorKind::SymlinkEscape { .. }
        ));
        // `..` after a symlink is taken lexically, so it cannot climb out through the link.
        let p = WorkspacePath::resolve(root, "out/../src/new.py").unwrap();
        assert_eq!(p.relative(), "src/new.py");
        // A symlink inside the root is fine and resolves to its target.
        let p = WorkspacePath::resolve(root, "inside/new.py").unwrap();
        assert_eq!(
            p.absolute(),
            std::fs::canonicalize(root).unwrap().join("src/new.py")
        );
        assert_eq!(kind(root, "dangling.py"), PathErrorKind::DanglingSymlink);
        // A symlink into a protected folder is protected too.
        assert!(matches!(
            kind(root, "meta/config"),
            PathErrorKind::Protected { .. }
        ));
        // The root itself may be reached through a symlink.
        let link_root = outside.path().join("ws");
        symlink(root, &link_root).unwrap();
        assert!(WorkspacePath::resolve(&link_root, "src/a.py").is_ok());
    }

    fn component() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("..".to_string()),
            Just(".".to_string()),
            Just("".to_string()),
            Just("~".to_string()),
            Just("C:".to_string()),
            Just("link".to_string()),
            Just("src".to_string()),
            Just(".git".to_string()),
            "[a-z]{1,5}(\\.py)?",
            "[^/\\\\]{1,4}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn accepted_paths_stay_inside_the_root(
            parts in proptest::collection::vec(component(), 1..6),
            sep in prop_oneof![Just("/"), Just("\\")],
            lead in prop_oneof![Just(""), Just("/"), Just("\\\\"), Just("./")],
        ) {
            let outside = tempfile::tempdir().unwrap();
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            std::fs::create_dir(root.join("src")).unwrap();
            #[cfg(unix)]
            std::os::unix::fs::symlink(outside.path(), root.join("link")).unwrap();
            let raw = format!("{lead}{}", parts.join(sep));
            let canon = std::fs::canonicalize(root).unwrap();
            if let Ok(p) = WorkspacePath::resolve(root, &raw) {
                prop_assert!(p.absolute().starts_with(&canon), "{raw} -> {}", p.absolute().display());
                prop_assert!(p.absolute() != canon);
                prop_assert!(!p.relative().split('/').any(|c| c == ".." || c == "." || c.is_empty()));
                prop_assert!(!p.relative().split('/').any(|c| c.eq_ignore_ascii_case(".git")));
                // Whatever exists on the way resolves inside the root.
                let mut probe = p.absolute().to_path_buf();
                while !probe.exists() {
                    probe.pop();
                }
                prop_assert!(std::fs::canonicalize(&probe).unwrap().starts_with(&canon));
            }
        }
    }
}
