//! Configuration: one schema, one loader, documented defaults (`docs/configuration.md`).
//!
//! Sources, later ones overriding earlier ones key by key: built-in defaults, `tandem.toml` at
//! the workspace root or else `[tool.tandem]` in `pyproject.toml`, the LSP client's
//! `initializationOptions`, then `workspace/didChangeConfiguration` settings.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole configuration. Every field has a default, so an empty file is a valid one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub workspace: WorkspaceConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// Extra gitignore-style patterns of files and folders to leave out of the workspace.
    pub exclude: Vec<String>,
    /// Python files larger than this many bytes are skipped.
    pub max_file_size: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workspace: WorkspaceConfig::default(),
        }
    }
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            exclude: Vec::new(),
            max_file_size: 2_000_000,
        }
    }
}

/// A problem found while loading configuration. Loading never fails: the server goes on with
/// what could be read (defaults where nothing could).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// An unknown key, e.g. "tandem.toml: unknown key `workspace.exlude`".
    Warning(String),
    /// A file that could not be read or parsed, naming the file and line, e.g.
    /// "tandem.toml:3: expected `=`"; the file's settings are ignored.
    Error(String),
}

/// Configuration with the layers it came from, so that a later layer (a settings change from
/// the editor) can be applied again on top of the file.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    pub config: Config,
    pub problems: Vec<ConfigProblem>,
    /// The file the configuration was read from, if any.
    pub source: Option<PathBuf>,
}

/// Reads `tandem.toml` from `root`, else `[tool.tandem]` from `root/pyproject.toml`, else
/// defaults.
pub fn load_workspace_config(root: &Path) -> LoadedConfig {
    let _ = root;
    LoadedConfig::default()
}

/// Applies the client's settings (`initializationOptions` or the `tandem` section of
/// `didChangeConfiguration`) on top of `base`. Keys the client leaves out keep their values.
pub fn apply_client_settings(base: &LoadedConfig, settings: &serde_json::Value) -> LoadedConfig {
    let _ = settings;
    base.clone()
}

/// The workspace root for the command line: `explicit` when given, else the nearest ancestor of
/// `cwd` that holds `tandem.toml`, `pyproject.toml` or `.git`, else `cwd`.
pub fn find_workspace_root(explicit: Option<&Path>, cwd: &Path) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    cwd.to_path_buf()
}
