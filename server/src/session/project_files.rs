//! Reading the packaging files a project profile is derived from.

use std::fs;
use std::path::Path;

use crate::analysis::index::ProjectIndex;
use crate::context::profile::{
    build_profile, imported_modules, ModuleSummary, ProfileInputs, ProjectProfile,
};
use crate::context::repomap::{ModuleInput, RepoMap};

/// The texts of a project's packaging files (each `None` when absent or unreadable).
#[derive(Debug, Default, Clone)]
pub struct ProjectFiles {
    pub pyproject_toml: Option<String>,
    pub setup_cfg: Option<String>,
    pub setup_py: Option<String>,
    pub python_version: Option<String>,
    /// `requirements*.txt` at the root and `requirements/*.txt`.
    pub requirements: Vec<String>,
}

pub fn read_project_files(root: &Path) -> ProjectFiles {
    let read = |name: &str| fs::read_to_string(root.join(name)).ok();
    let mut requirements = Vec::new();
    let mut paths: Vec<_> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("requirements") && n.ends_with(".txt"))
        })
        .collect();
    paths.extend(
        fs::read_dir(root.join("requirements"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt")),
    );
    paths.sort();
    for path in paths {
        if let Ok(text) = fs::read_to_string(&path) {
            requirements.push(text);
        }
    }
    ProjectFiles {
        pyproject_toml: read("pyproject.toml"),
        setup_cfg: read("setup.cfg"),
        setup_py: read("setup.py"),
        python_version: read(".python-version"),
        requirements,
    }
}

/// The workspace-relative path of an indexed file, with `/` separators.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let absolute = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let relative = absolute.strip_prefix(&root).unwrap_or(&absolute);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The project profile of an indexed workspace.
pub fn profile_of(root: &Path, index: &ProjectIndex) -> ProjectProfile {
    let files = read_project_files(root);
    let mut entries: Vec<_> = index.files().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let paths: Vec<String> = entries
        .iter()
        .map(|(p, _)| relative_path(root, p))
        .collect();
    let outlines: Vec<_> = entries.iter().map(|(_, a)| a.outline()).collect();
    let modules = entries
        .iter()
        .zip(&paths)
        .zip(&outlines)
        .map(|(((_, analysis), path), outline)| ModuleSummary {
            path,
            outline,
            imports: imported_modules(&analysis.references()),
        })
        .collect();
    let inputs = ProfileInputs {
        pyproject_toml: files.pyproject_toml.as_deref(),
        setup_cfg: files.setup_cfg.as_deref(),
        setup_py: files.setup_py.as_deref(),
        python_version_file: files.python_version.as_deref(),
        requirements: files.requirements.iter().map(String::as_str).collect(),
        modules,
    };
    build_profile(&inputs)
}

/// The repo map of an indexed workspace.
pub fn repo_map_of(root: &Path, index: &ProjectIndex) -> RepoMap {
    let mut entries: Vec<_> = index.files().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    RepoMap::new(
        entries
            .into_iter()
            .map(|(path, analysis)| ModuleInput {
                path: relative_path(root, path),
                outline: analysis.outline(),
                references: analysis.references(),
            })
            .collect(),
    )
}
