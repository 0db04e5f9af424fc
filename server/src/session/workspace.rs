//! Finding the workspace's Python files and reading them safely.
//!
//! Walks the workspace folders honouring `.gitignore` (also outside a git checkout),
//! `.tandemignore` and the configured excludes. Files over the size limit, binary files and
//! files that are not valid UTF-8 are skipped with a reason, never a crash.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::OverrideBuilder;
use ignore::WalkBuilder;

use crate::session::config::WorkspaceConfig;

/// Why a file was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    TooLarge { size: u64, limit: u64 },
    Binary,
    NotUtf8,
    Unreadable(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::TooLarge { size, limit } => {
                write!(
                    f,
                    "file is {size} bytes, over the limit of {limit} (workspace.max_file_size)"
                )
            }
            SkipReason::Binary => write!(f, "file holds NUL bytes, so it is not Python source"),
            SkipReason::NotUtf8 => write!(f, "file is not valid UTF-8"),
            SkipReason::Unreadable(e) => write!(f, "file cannot be read: {e}"),
        }
    }
}

/// The Python files of a workspace, and those that were skipped.
#[derive(Debug, Default, Clone)]
pub struct WorkspaceFiles {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, SkipReason)>,
}

impl WorkspaceFiles {
    /// Takes a file, or records why it was skipped.
    fn add(&mut self, path: PathBuf, checked: Result<(), SkipReason>) {
        match checked {
            Ok(()) => self.files.push(path),
            Err(reason) => self.skipped.push((path, reason)),
        }
    }
}

/// Lists the `.py` and `.pyi` files under `roots` (files given directly are taken as they
/// are, if they are Python), sorted and without duplicates. Files over the size limit are
/// skipped here; content checks happen in `read_source`.
pub fn discover_python_files(roots: &[PathBuf], config: &WorkspaceConfig) -> WorkspaceFiles {
    let mut out = WorkspaceFiles::default();
    for root in roots {
        if root.is_file() {
            if is_python_path(root) {
                out.add(root.clone(), checked_size(root, config.max_file_size));
            }
            continue;
        }
        let mut builder = WalkBuilder::new(root);
        builder
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .add_custom_ignore_filename(".tandemignore")
            .follow_links(false);
        if !config.exclude.is_empty() {
            let mut overrides = OverrideBuilder::new(root);
            for pattern in &config.exclude {
                // An override without `!` would whitelist; `!pattern` excludes.
                if let Err(e) = overrides.add(&format!("!{pattern}")) {
                    tracing::warn!("ignoring bad exclude pattern `{pattern}`: {e}");
                }
            }
            match overrides.build() {
                Ok(o) => {
                    builder.overrides(o);
                }
                Err(e) => tracing::warn!("ignoring exclude patterns: {e}"),
            }
        }
        // The walk runs on several threads (ignore's parallel walker): on a large tree the
        // directory reads and the size checks are a visible part of `tandem check`.
        let found = std::sync::Mutex::new(&mut out);
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        tracing::warn!("while walking {}: {e}", root.display());
                        return ignore::WalkState::Continue;
                    }
                };
                if entry.file_type().is_some_and(|t| t.is_file()) && is_python_path(entry.path()) {
                    let path = entry.into_path();
                    let checked = checked_size(&path, config.max_file_size);
                    found
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .add(path, checked);
                }
                ignore::WalkState::Continue
            })
        });
    }
    out.files.sort();
    out.files.dedup();
    out.skipped.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Whether a file is within the size limit (and its size can be read at all).
fn checked_size(path: &Path, limit: u64) -> Result<(), SkipReason> {
    match fs::metadata(path) {
        Ok(meta) if meta.len() > limit => Err(SkipReason::TooLarge {
            size: meta.len(),
            limit,
        }),
        Ok(_) => Ok(()),
        Err(e) => Err(SkipReason::Unreadable(e.to_string())),
    }
}

pub fn is_python_path(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("py" | "pyi")
    )
}

/// Reads a source file, refusing files over `limit` bytes, binary files and invalid UTF-8.
pub fn read_source(path: &Path, limit: u64) -> Result<String, SkipReason> {
    let meta = fs::metadata(path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    if meta.len() > limit {
        return Err(SkipReason::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let bytes = fs::read(path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    if bytes.contains(&0) {
        return Err(SkipReason::Binary);
    }
    String::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)
}

/// A module's dotted name and whether it is a package (`__init__.py`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleName {
    pub name: String,
    pub is_package: bool,
}

/// The folders module names are counted from. For each file: the nearest enclosing folder
/// Python imports from (`site-packages`, `dist-packages` or a standard library such as
/// `lib/python3.11`, holding `os.py`) or project folder (one holding `pyproject.toml`,
/// `setup.py` or `setup.cfg`), up to the workspace folder, or else the workspace folder; and in
/// a `src/` layout, its `src/` folder. Folders below need no `__init__.py` to be packages
/// (PEP 420 namespace packages), so `src/shop/cart.py` is `shop.cart` and
/// `tests/unit/test_x.py` is `tests.unit.test_x`. A base folder that is itself
/// a package counts from the first ancestor that is not, so a package opened on its own keeps
/// its name.
#[derive(Debug, Clone, Default)]
pub struct SourceRoots {
    /// Workspace folders, canonical, longest first.
    folders: Vec<PathBuf>,
}

const PROJECT_MARKERS: &[&str] = &["pyproject.toml", "setup.py", "setup.cfg"];

impl SourceRoots {
    pub fn for_workspace(folders: &[PathBuf]) -> Self {
        let mut folders: Vec<PathBuf> = folders
            .iter()
            .map(|f| fs::canonicalize(f).unwrap_or_else(|_| f.clone()))
            .collect();
        folders.sort_by_key(|r| std::cmp::Reverse(r.components().count()));
        folders.dedup();
        SourceRoots { folders }
    }

    /// The module name of a Python file; files outside every workspace folder are named by
    /// their package (the folders above them that hold `__init__.py`).
    pub fn module_of(&self, path: &Path) -> ModuleName {
        let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let base = absolute.parent().and_then(|dir| self.base_of(dir));
        name_under(path, &absolute, base.as_deref())
    }

    /// The folder module names count from for the files in `dir` (canonical), or `None` when
    /// `dir` is outside every workspace folder.
    fn base_of(&self, dir: &Path) -> Option<PathBuf> {
        let folder = self.folders.iter().find(|f| dir.starts_with(f))?;
        let mut project = folder.as_path();
        let mut import_root = false;
        let mut at = Some(dir);
        while let Some(d) = at {
            if !d.starts_with(folder) {
                break;
            }
            import_root = is_import_root(d);
            if import_root || PROJECT_MARKERS.iter().any(|m| d.join(m).is_file()) {
                project = d;
                break;
            }
            at = d.parent();
        }
        let mut base = project.to_path_buf();
        let src = project.join("src");
        if !import_root && dir.starts_with(&src) && !src.join("__init__.py").is_file() {
            base = src;
        }
        while base.join("__init__.py").is_file() {
            match base.parent() {
                Some(parent) => base = parent.to_path_buf(),
                None => break,
            }
        }
        Some(base)
    }
}

/// The name of the file at `path` (`absolute` once canonical) counted from `base`.
fn name_under(path: &Path, absolute: &Path, base: Option<&Path>) -> ModuleName {
    match base.map(|base| absolute.strip_prefix(base)) {
        Some(Ok(relative)) => name_from_relative(relative),
        _ => package_module_name(path),
    }
}

/// Names modules as `SourceRoots::module_of` does, asking the file system about each folder
/// once: naming a file looks at every folder above it (symbolic links, project markers,
/// `__init__.py`), and a cold build names thousands of files in a few hundred folders (on
/// Django, 13,855 `statx` and 4,018 `readlink` calls for 879 files, counted with `strace -f -c`
/// on `tandem-bench index-memory-child django .`). Shared by the threads of
/// a build.
pub struct ModuleNamer<'a> {
    roots: &'a SourceRoots,
    /// Per folder as the file paths give it; `None` when it cannot be made canonical.
    folders: Mutex<HashMap<PathBuf, Option<FolderBase>>>,
}

/// A folder made canonical, and the base its files are named from (see
/// `SourceRoots::base_of`).
type FolderBase = (PathBuf, Option<PathBuf>);

impl<'a> ModuleNamer<'a> {
    pub fn new(roots: &'a SourceRoots) -> Self {
        ModuleNamer {
            roots,
            folders: Mutex::new(HashMap::new()),
        }
    }

    /// What `SourceRoots::module_of(path)` answers.
    pub fn module_of(&self, path: &Path) -> ModuleName {
        let (Some(dir), Some(file)) = (path.parent(), path.file_name()) else {
            return self.roots.module_of(path);
        };
        // A link's target may lie in another folder: only a plain file is named from its
        // folder.
        let plain = fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_symlink());
        if !plain || dir.as_os_str().is_empty() {
            return self.roots.module_of(path);
        }
        let known = self
            .folders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(dir)
            .cloned();
        let entry = known.unwrap_or_else(|| {
            let entry = fs::canonicalize(dir).ok().map(|canonical| {
                let base = self.roots.base_of(&canonical);
                (canonical, base)
            });
            self.folders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(dir.to_path_buf(), entry.clone());
            entry
        });
        match entry {
            Some((canonical, base)) => name_under(path, &canonical.join(file), base.as_deref()),
            None => self.roots.module_of(path),
        }
    }
}

/// A folder on Python's import path whatever surrounds it: installed packages
/// (`site-packages`, Debian's `dist-packages`) and the standard library (`python3.11`, which
/// holds `os.py`). A workspace that contains one (a virtual environment, a Python
/// installation) names the modules in it as Python does, not after the folders above it.
fn is_import_root(dir: &Path) -> bool {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    match name {
        "site-packages" | "dist-packages" => true,
        _ => {
            name.strip_prefix("python").is_some_and(|version| {
                !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.')
            }) && dir.join("os.py").is_file()
        }
    }
}

fn name_from_relative(relative: &Path) -> ModuleName {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut is_package = false;
    if let Some(last) = parts.pop() {
        let stem = last
            .strip_suffix(".py")
            .or_else(|| last.strip_suffix(".pyi"))
            .unwrap_or(&last)
            .to_string();
        if stem == "__init__" {
            is_package = true;
        } else {
            parts.push(stem);
        }
    }
    ModuleName {
        name: parts.join("."),
        is_package,
    }
}

/// The dotted module name from the folders above the file that are packages (hold
/// `__init__.py`), for files outside any source root.
pub fn package_module_name(path: &Path) -> ModuleName {
    let mut parts: Vec<String> = Vec::new();
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let is_package = stem == "__init__";
    if !is_package {
        parts.push(stem.to_string());
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if !d.join("__init__.py").is_file() {
            break;
        }
        match d.file_name().and_then(|n| n.to_str()) {
            Some(name) => parts.push(name.to_string()),
            None => break,
        }
        dir = d.parent();
    }
    parts.reverse();
    ModuleName {
        name: parts.join("."),
        is_package,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tandem-ws-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn discovery_honours_ignore_files_and_limits() {
        let root = scratch("discover");
        fs::create_dir_all(root.join("pkg/sub")).unwrap();
        fs::create_dir_all(root.join("build")).unwrap();
        fs::create_dir_all(root.join(".venv")).unwrap();
        fs::write(root.join("pkg/a.py"), "x = 1\n").unwrap();
        fs::write(root.join("pkg/sub/b.pyi"), "def f() -> int: ...\n").unwrap();
        fs::write(root.join("pkg/notes.txt"), "not python").unwrap();
        fs::write(root.join("build/gen.py"), "y = 2\n").unwrap();
        fs::write(root.join(".venv/lib.py"), "z = 3\n").unwrap();
        fs::write(root.join("secret.py"), "k = 4\n").unwrap();
        fs::write(root.join("big.py"), "#".repeat(200)).unwrap();
        fs::write(root.join(".gitignore"), "build/\n").unwrap();
        fs::write(root.join(".tandemignore"), "secret.py\n").unwrap();
        let config = WorkspaceConfig {
            exclude: vec!["pkg/sub".into()],
            max_file_size: 100,
        };
        let found = discover_python_files(std::slice::from_ref(&root), &config);
        let names: Vec<_> = found
            .files
            .iter()
            .map(|p| {
                p.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, vec!["pkg/a.py"]);
        assert_eq!(found.skipped.len(), 1);
        assert!(matches!(
            found.skipped[0].1,
            SkipReason::TooLarge {
                size: 200,
                limit: 100
            }
        ));
    }

    #[test]
    fn read_source_refuses_binary_and_invalid_utf8() {
        let root = scratch("read");
        fs::write(root.join("bin.py"), b"x = 1\0\x01").unwrap();
        fs::write(root.join("latin1.py"), b"s = '\xe9'\n").unwrap();
        fs::write(root.join("ok.py"), "s = 'é'\n").unwrap();
        assert_eq!(
            read_source(&root.join("bin.py"), 1000),
            Err(SkipReason::Binary)
        );
        assert_eq!(
            read_source(&root.join("latin1.py"), 1000),
            Err(SkipReason::NotUtf8)
        );
        assert_eq!(read_source(&root.join("ok.py"), 1000).unwrap(), "s = 'é'\n");
        assert!(matches!(
            read_source(&root.join("ok.py"), 3),
            Err(SkipReason::TooLarge { .. })
        ));
        assert!(matches!(
            read_source(&root.join("missing.py"), 3),
            Err(SkipReason::Unreadable(_))
        ));
    }

    #[test]
    fn module_names_follow_packages() {
        let root = scratch("modules");
        fs::create_dir_all(root.join("src/shop/sub")).unwrap();
        fs::write(root.join("src/shop/__init__.py"), "").unwrap();
        fs::write(root.join("src/shop/sub/__init__.py"), "").unwrap();
        let name = |p: &str| package_module_name(&root.join(p));
        assert_eq!(name("src/shop/cart.py").name, "shop.cart");
        assert_eq!(
            name("src/shop/sub/__init__.py"),
            ModuleName {
                name: "shop.sub".into(),
                is_package: true
            }
        );
        assert_eq!(name("src/script.py").name, "script");
    }

    #[test]
    fn source_roots_handle_src_layouts_namespace_packages_and_several_folders() {
        let root = scratch("roots");
        for dir in [
            "proj/src/shop",
            "proj/tests/unit",
            "other/ns/inner",
            "pkgroot/pkg",
            "other/sub/src/app",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join("proj/src/shop/__init__.py"), "").unwrap();
        fs::write(root.join("pkgroot/pkg/__init__.py"), "").unwrap();
        fs::write(root.join("other/sub/pyproject.toml"), "").unwrap();
        let roots = SourceRoots::for_workspace(&[
            root.join("proj"),
            root.join("other"),
            root.join("pkgroot/pkg"),
        ]);
        let namer = ModuleNamer::new(&roots);
        let name = |p: &str| {
            let path = root.join(p);
            let name = roots.module_of(&path);
            // Twice: the second answer comes from what the namer remembers of the folder.
            assert_eq!(namer.module_of(&path), name, "{p}");
            assert_eq!(namer.module_of(&path), name, "{p}");
            name
        };
        assert_eq!(name("proj/src/shop/cart.py").name, "shop.cart");
        assert_eq!(
            name("proj/src/shop/__init__.py"),
            ModuleName {
                name: "shop".into(),
                is_package: true
            }
        );
        // Namespace packages: no __init__.py needed.
        assert_eq!(
            name("proj/tests/unit/test_cart.py").name,
            "tests.unit.test_cart"
        );
        assert_eq!(name("other/ns/inner/mod.py").name, "ns.inner.mod");
        // A workspace folder that is itself a package keeps its package name.
        assert_eq!(name("pkgroot/pkg/util.py").name, "pkg.util");
        assert_eq!(name("other/stub.pyi").name, "stub");
        // A project nested in a workspace folder names its modules from its own root.
        assert_eq!(name("other/sub/src/app/main.py").name, "app.main");
        assert_eq!(name("other/sub/setup_helpers.py").name, "setup_helpers");
        // Outside every workspace folder: named by its package.
        fs::create_dir_all(root.join("outside")).unwrap();
        fs::write(root.join("outside/lonely.py"), "").unwrap();
        assert_eq!(name("outside/lonely.py").name, "lonely");
        // A linked file is named where its target is, a file in a linked folder where the
        // folder's target is.
        #[cfg(unix)]
        {
            fs::write(root.join("proj/src/shop/cart.py"), "").unwrap();
            std::os::unix::fs::symlink(
                root.join("proj/src/shop/cart.py"),
                root.join("other/ns/cart_link.py"),
            )
            .unwrap();
            std::os::unix::fs::symlink(root.join("proj/src/shop"), root.join("other/shop_link"))
                .unwrap();
            assert_eq!(name("other/ns/cart_link.py").name, "shop.cart");
            assert_eq!(name("other/ns/inner/mod.py").name, "ns.inner.mod");
            assert_eq!(name("other/shop_link/cart.py").name, "shop.cart");
        }
    }

    /// A virtual environment or a Python installation inside a workspace: installed packages
    /// and the standard library are named as Python imports them.
    #[test]
    fn site_packages_and_the_standard_library_name_their_modules_as_python_does() {
        let root = std::env::temp_dir().join(format!("tandem-import-roots-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for dir in [
            ".venv/lib/python3.12/site-packages/requests",
            "usr/lib/python3/dist-packages/apt",
            "versions/3.11.7/lib/python3.11/json",
            "versions/3.11.7/lib/python3.11/site-packages/six_pkg",
            "tools/python3.11",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(
            root.join(".venv/lib/python3.12/site-packages/requests/__init__.py"),
            "",
        )
        .unwrap();
        fs::write(root.join("versions/3.11.7/lib/python3.11/os.py"), "").unwrap();
        fs::write(
            root.join("versions/3.11.7/lib/python3.11/json/__init__.py"),
            "",
        )
        .unwrap();
        let roots = SourceRoots::for_workspace(std::slice::from_ref(&root));
        let namer = ModuleNamer::new(&roots);
        let name = |p: &str| {
            let name = roots.module_of(&root.join(p));
            assert_eq!(namer.module_of(&root.join(p)), name, "{p}");
            name.name
        };
        assert_eq!(
            name(".venv/lib/python3.12/site-packages/requests/api.py"),
            "requests.api"
        );
        assert_eq!(
            name("usr/lib/python3/dist-packages/apt/cache.py"),
            "apt.cache"
        );
        assert_eq!(
            name("versions/3.11.7/lib/python3.11/json/decoder.py"),
            "json.decoder"
        );
        assert_eq!(name("versions/3.11.7/lib/python3.11/os.py"), "os");
        assert_eq!(
            name("versions/3.11.7/lib/python3.11/site-packages/six_pkg/x.py"),
            "six_pkg.x"
        );
        // A folder named like a standard library without `os.py` is an ordinary folder.
        assert_eq!(name("tools/python3.11/build.py"), "tools.python3.11.build");
        let _ = fs::remove_dir_all(&root);
    }
}
