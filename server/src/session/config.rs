//! Configuration: one schema, one loader, documented defaults (`docs/configuration.md`).
//!
//! Sources, later ones overriding earlier ones key by key: built-in defaults, `tandem.toml` at
//! the workspace root or else `[tool.tandem]` in `pyproject.toml`, the LSP client's
//! `initializationOptions`, then `workspace/didChangeConfiguration` settings.
//!
//! The schema is nothing but the serde structs below. Unknown keys, defaults, merging and the
//! commented defaults file are all derived from them, so adding a section means adding a field
//! to [`Config`] (a struct with `#[serde(default)]` and a `Default` impl) and describing its
//! keys in `docs/configuration.md`; a test checks that every key is described there.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The name of the dedicated configuration file at the workspace root.
pub const TANDEM_TOML: &str = "tandem.toml";
/// The name of the Python project file whose `[tool.tandem]` table is read when there is no
/// `tandem.toml`.
pub const PYPROJECT_TOML: &str = "pyproject.toml";
/// How problems in the editor's settings are attributed in messages.
const CLIENT_SETTINGS: &str = "client settings";
/// The key under which VS Code (and clients imitating it) nest the server's settings.
const CLIENT_WRAPPER_KEY: &str = "tandem";
/// Our table under `[tool]` in pyproject.toml.
const PYPROJECT_TOOL_KEY: &str = "tandem";

/// The whole configuration. Every field has a default, so an empty file is a valid one.
///
/// Unknown keys are not rejected here (no `deny_unknown_fields`): that would throw away a whole
/// file over one typo, so the loader reports them as warnings instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Which files make up the workspace.
    pub workspace: WorkspaceConfig,
    /// Model endpoints by the name roles use for them (`[models.<name>]`). Empty by default:
    /// every role then uses the offline engine.
    pub models: BTreeMap<String, ModelConfig>,
    /// Which models serve each role, as fallback chains.
    pub roles: RolesConfig,
    /// The on-disk response cache (`cache = false` turns it off).
    pub cache: CacheConfig,
    /// Docstrings: the style they are written and read in.
    pub docs: DocsConfig,
    /// The review rules: limits and which codes are reported.
    pub review: ReviewConfig,
}

/// `[review]`: the built-in review rules (TDM codes) and which codes `tandem check` and the
/// editor report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewConfig {
    /// TDM010 reports functions whose cyclomatic complexity is above this.
    pub max_complexity: usize,
    /// TDM011 reports functions with more statements than this.
    pub max_statements: usize,
    /// Only these codes or code prefixes (`TDM`, `DOC1`, `TDM004`); empty selects all.
    pub select: Vec<String>,
    /// Leave out these codes or code prefixes; an ignore wins over a select.
    pub ignore: Vec<String>,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            max_complexity: 10,
            max_statements: 60,
            select: Vec::new(),
            ignore: Vec::new(),
        }
    }
}

impl ReviewConfig {
    /// The code selection of `select` and `ignore`, or an error naming the key and the entry
    /// that is not a code.
    pub fn selection(&self) -> Result<crate::analysis::finding::CodeSelection, String> {
        use crate::analysis::finding::CodeSelection;
        CodeSelection::parse(&self.select, &[]).map_err(|e| format!("`review.select`: {e}"))?;
        CodeSelection::parse(&[], &self.ignore).map_err(|e| format!("`review.ignore`: {e}"))?;
        CodeSelection::parse(&self.select, &self.ignore)
    }
}

/// `[docs]`: how docstrings are written and checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocsConfig {
    /// The docstring style; `auto` uses the project's majority style (google when there is
    /// none) for writing, and each docstring's own style for checking.
    pub style: DocsStyle,
    /// How many symbols a whole-file run asks the documenter for at once (1 to 32).
    pub concurrency: usize,
    /// 1, or 2 for twin mode: two independent drafts compared section by section.
    pub streams: u8,
}

impl Default for DocsConfig {
    fn default() -> Self {
        DocsConfig {
            style: DocsStyle::Auto,
            concurrency: 4,
            streams: 1,
        }
    }
}

impl DocsStyle {
    /// The fixed style, or `None` for `auto`.
    pub fn fixed(self) -> Option<crate::context::profile::DocstringStyle> {
        use crate::context::profile::DocstringStyle;
        match self {
            DocsStyle::Auto => None,
            DocsStyle::Google => Some(DocstringStyle::Google),
            DocsStyle::Numpy => Some(DocstringStyle::Numpy),
            DocsStyle::Sphinx => Some(DocstringStyle::Sphinx),
        }
    }
}

/// The values of `docs.style`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocsStyle {
    #[default]
    Auto,
    Google,
    Numpy,
    Sphinx,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkspaceConfig {
    /// Extra gitignore-style patterns of files and folders to leave out of the workspace.
    pub exclude: Vec<String>,
    /// Python files larger than this many bytes are skipped.
    pub max_file_size: u64,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        WorkspaceConfig {
            exclude: Vec::new(),
            max_file_size: 2_000_000,
        }
    }
}

/// The providers a model can use; anything else in `models.<name>.provider` is an error.
pub const PROVIDERS: [&str; 2] = ["openai", "anthropic"];

/// The name of the offline engine in role chains. It needs no `[models]` entry and cannot be
/// redefined.
pub const BUILTIN_MODEL: &str = "builtin";

/// The key variable an `anthropic` model reads when `api_key_env` is not given, as
/// Anthropic's own clients do.
pub const ANTHROPIC_DEFAULT_KEY_ENV: &str = "ANTHROPIC_API_KEY";

/// One model endpoint (`[models.<name>]`). Durations are seconds and may be fractional.
///
/// `provider` and `model` default to empty strings only so that a missing one is reported by
/// [`model_problems`] with its key instead of by serde with a line number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    /// `openai` (any OpenAI-compatible chat completions endpoint) or `anthropic`.
    pub provider: String,
    /// The endpoint's base URL, up to and including the version (`.../v1`). Default: the
    /// provider's public API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The model's name at the provider, e.g. `qwen2.5-coder:7b` or `claude-sonnet-4-5`.
    pub model: String,
    /// The environment variable that holds the API key. Keys are never written in files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// How many tokens the model takes in one request, prompt and answer together.
    pub context_tokens: u64,
    /// The most tokens an answer may have.
    pub max_output_tokens: u64,
    /// The longest a whole request may take.
    pub timeout_secs: f64,
    /// The longest connecting may take.
    pub connect_timeout_secs: f64,
    /// The longest a streamed answer may go without sending anything.
    pub idle_timeout_secs: f64,
    /// Ask for the answer as server-sent events, to show progress.
    pub stream: bool,
    /// How many times a failed request is retried (connection errors, 408, 409, 429, 5xx).
    pub retries: u32,
    /// The first retry's delay before jitter; each further retry doubles it.
    pub retry_base_secs: f64,
    /// The longest delay between retries.
    pub retry_cap_secs: f64,
    /// The longest `Retry-After` that is waited for; a longer one fails at once.
    pub max_retry_after_secs: f64,
    /// After this many consecutive failed requests the model is skipped for a while.
    pub circuit_failures: u32,
    /// How long a model is skipped before one trial request is let through.
    pub circuit_open_secs: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            provider: String::new(),
            base_url: None,
            model: String::new(),
            api_key_env: None,
            context_tokens: 8192,
            max_output_tokens: 4096,
            timeout_secs: 120.0,
            connect_timeout_secs: 10.0,
            idle_timeout_secs: 60.0,
            stream: true,
            retries: 2,
            retry_base_secs: 0.5,
            retry_cap_secs: 8.0,
            max_retry_after_secs: 60.0,
            circuit_failures: 3,
            circuit_open_secs: 30.0,
        }
    }
}

impl ModelConfig {
    /// The environment variable the key is read from: `api_key_env`, or for `anthropic` its
    /// usual variable. `None` means the endpoint is called without a key (Ollama and other
    /// local servers).
    pub fn key_variable(&self) -> Option<&str> {
        match (&self.api_key_env, self.provider.as_str()) {
            (Some(name), _) => Some(name),
            (None, "anthropic") => Some(ANTHROPIC_DEFAULT_KEY_ENV),
            (None, _) => None,
        }
    }
}

/// Which models serve each role, in order: the first usable model of a chain answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RolesConfig {
    pub planner: Vec<String>,
    pub coder: Vec<String>,
    pub reviewer: Vec<String>,
    pub documenter: Vec<String>,
}

impl Default for RolesConfig {
    fn default() -> Self {
        let builtin = || vec![BUILTIN_MODEL.to_string()];
        RolesConfig {
            planner: builtin(),
            coder: builtin(),
            reviewer: builtin(),
            documenter: builtin(),
        }
    }
}

impl RolesConfig {
    /// Each role's key and chain, in a fixed order.
    pub fn chains(&self) -> [(&'static str, &[String]); 4] {
        [
            ("planner", &self.planner),
            ("coder", &self.coder),
            ("reviewer", &self.reviewer),
            ("documenter", &self.documenter),
        ]
    }
}

/// The response cache under `.tandem/cache/`. Written either as `cache = false` (or `true`)
/// or as a `[cache]` table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheConfig {
    /// Keep answers on disk so that the same request twice costs one call.
    pub enabled: bool,
    /// When the cache grows past this many megabytes, the oldest answers are removed.
    pub max_size_mb: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            max_size_mb: 100,
        }
    }
}

impl<'de> Deserialize<'de> for CacheConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The table form; a derived struct so that unknown keys are still reported.
        #[derive(Deserialize)]
        #[serde(default)]
        struct Table {
            enabled: bool,
            max_size_mb: u64,
        }
        impl Default for Table {
            fn default() -> Self {
                let d = CacheConfig::default();
                Table {
                    enabled: d.enabled,
                    max_size_mb: d.max_size_mb,
                }
            }
        }

        struct CacheVisitor;
        impl<'de> serde::de::Visitor<'de> for CacheVisitor {
            type Value = CacheConfig;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false or a table with `enabled` and `max_size_mb`")
            }

            fn visit_bool<E: serde::de::Error>(self, enabled: bool) -> Result<CacheConfig, E> {
                Ok(CacheConfig {
                    enabled,
                    ..CacheConfig::default()
                })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<CacheConfig, A::Error> {
                let table = Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(CacheConfig {
                    enabled: table.enabled,
                    max_size_mb: table.max_size_mb,
                })
            }
        }

        deserializer.deserialize_any(CacheVisitor)
    }
}

/// A problem with the models or roles configuration: the dotted key it concerns (relative to
/// the configuration's top level) and what is wrong, without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    pub key: Vec<String>,
    pub message: String,
}

impl KeyProblem {
    fn new(key: &[&str], message: impl Into<String>) -> Self {
        KeyProblem {
            key: key.iter().map(|k| (*k).to_string()).collect(),
            message: message.into(),
        }
    }

    /// "`roles.planner`: model `gpt` is not defined ...", with `prefix` keys (such as `tool`,
    /// `tandem` for pyproject.toml) in front of the key.
    pub fn render(&self, prefix: &[&str]) -> String {
        let path: Vec<&str> = prefix
            .iter()
            .copied()
            .chain(self.key.iter().map(String::as_str))
            .collect();
        format!("`{}`: {}", render_key_path(&path), self.message)
    }
}

/// What is wrong with `[models]` and `[roles]` in `config`, independent of the environment:
/// undefined models in chains, unknown providers, missing or malformed values. A configuration
/// with such problems is rejected like one with a value of the wrong type.
pub fn model_problems(config: &Config) -> Vec<KeyProblem> {
    let mut problems = Vec::new();
    for (name, model) in &config.models {
        let key = |field: &'static str| -> [&str; 3] { ["models", name.as_str(), field] };
        if name == BUILTIN_MODEL {
            problems.push(KeyProblem::new(
                &["models", name],
                "`builtin` is the offline engine's name; choose another name for this model",
            ));
        }
        match model.provider.as_str() {
            "" => problems.push(KeyProblem::new(
                &key("provider"),
                "missing: set it to \"openai\" (any OpenAI-compatible server) or \"anthropic\"",
            )),
            p if !PROVIDERS.contains(&p) => problems.push(KeyProblem::new(
                &key("provider"),
                format!("unknown provider `{p}` (expected `openai` or `anthropic`)"),
            )),
            _ => {}
        }
        if model.model.trim().is_empty() {
            problems.push(KeyProblem::new(
                &key("model"),
                "missing: set it to the model's name at the provider, e.g. \"qwen2.5-coder:7b\"",
            ));
        }
        if let Some(url) = &model.base_url {
            // The value is not repeated in messages: a URL may carry credentials.
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                problems.push(KeyProblem::new(
                    &key("base_url"),
                    "must be an http:// or https:// URL",
                ));
            } else if url.contains('?') || url.contains('#') {
                problems.push(KeyProblem::new(
                    &key("base_url"),
                    "must not have a query or fragment; keys belong in the variable named by \
                     api_key_env",
                ));
            } else if url.split_once("://").is_some_and(|(_, rest)| {
                rest.split('/')
                    .next()
                    .is_some_and(|host| host.contains('@'))
            }) {
                problems.push(KeyProblem::new(
                    &key("base_url"),
                    "must not contain credentials; keys belong in the variable named by \
                     api_key_env",
                ));
            }
        }
        if let Some(var) = &model.api_key_env {
            // Never echo the value: a common mistake is to paste the key itself here.
            let valid = !var.is_empty()
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !var.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                problems.push(KeyProblem::new(
                    &key("api_key_env"),
                    "must be the name of an environment variable (letters, digits and `_`), \
                     not the key itself",
                ));
            }
        }
        if model.context_tokens == 0 {
            problems.push(KeyProblem::new(
                &key("context_tokens"),
                "must be at least 1",
            ));
        }
        if model.max_output_tokens == 0 {
            problems.push(KeyProblem::new(
                &key("max_output_tokens"),
                "must be at least 1",
            ));
        } else if model.max_output_tokens >= model.context_tokens && model.context_tokens > 0 {
            problems.push(KeyProblem::new(
                &key("max_output_tokens"),
                format!(
                    "must be smaller than context_tokens ({}), which also holds the prompt",
                    model.context_tokens
                ),
            ));
        }
        let durations = [
            ("timeout_secs", model.timeout_secs, false),
            ("connect_timeout_secs", model.connect_timeout_secs, false),
            ("idle_timeout_secs", model.idle_timeout_secs, false),
            ("retry_base_secs", model.retry_base_secs, true),
            ("retry_cap_secs", model.retry_cap_secs, true),
            ("max_retry_after_secs", model.max_retry_after_secs, true),
            ("circuit_open_secs", model.circuit_open_secs, true),
        ];
        for (field, value, zero_ok) in durations {
            // A day is far beyond any sensible timeout and keeps `Duration` arithmetic safe.
            let in_range = value.is_finite() && value <= 86_400.0;
            let positive = if zero_ok { value >= 0.0 } else { value > 0.0 };
            if !(in_range && positive) {
                let bound = if zero_ok { "0 or more" } else { "more than 0" };
                problems.push(KeyProblem::new(
                    &key(field),
                    format!("must be a number of seconds, {bound} and at most 86400"),
                ));
            }
        }
        if model.retries > 10 {
            problems.push(KeyProblem::new(&key("retries"), "must be at most 10"));
        }
        if model.circuit_failures == 0 {
            problems.push(KeyProblem::new(
                &key("circuit_failures"),
                "must be at least 1",
            ));
        }
    }
    for (role, chain) in config.roles.chains() {
        if chain.is_empty() {
            problems.push(KeyProblem::new(
                &["roles", role],
                "the chain is empty; use [\"builtin\"] for the offline engine",
            ));
        }
        for (i, name) in chain.iter().enumerate() {
            if chain[..i].contains(name) {
                problems.push(KeyProblem::new(
                    &["roles", role],
                    format!("model `{name}` is listed twice"),
                ));
            } else if name != BUILTIN_MODEL && !config.models.contains_key(name) {
                problems.push(KeyProblem::new(
                    &["roles", role],
                    format!(
                        "model `{name}` is not defined; define it in [models.{}] or remove it \
                         from the chain",
                        render_key_path(&[name])
                    ),
                ));
            }
        }
    }
    problems
}

/// The models whose key variable is not set (or empty) in this process's environment, as
/// warnings: the model is skipped when a role reaches it, and the chain goes on.
pub fn missing_key_problems(config: &Config) -> Vec<KeyProblem> {
    config
        .models
        .iter()
        .filter_map(|(name, model)| {
            let var = model.key_variable()?;
            let set = std::env::var_os(var).is_some_and(|v| !v.is_empty());
            (!set).then(|| {
                KeyProblem::new(
                    &["models", name, "api_key_env"],
                    format!(
                        "environment variable `{var}` is not set, so model `{name}` will be \
                         skipped"
                    ),
                )
            })
        })
        .collect()
}

/// A problem found while loading configuration. Loading never fails: the server goes on with
/// what could be read (defaults where nothing could).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// An unknown key, e.g. "tandem.toml: unknown key `workspace.exlude`"; the rest of the
    /// source still applies.
    Warning(String),
    /// A source that could not be read or parsed, naming the file and line, e.g.
    /// "tandem.toml:3:5: invalid type: string \"big\", expected u64", or whose models or
    /// roles are invalid, naming the key, e.g. "tandem.toml: `roles.planner`: model `gpt` is
    /// not defined ..."; the whole source is ignored.
    Error(String),
}

impl ConfigProblem {
    /// The human-readable message, without the severity.
    pub fn message(&self) -> &str {
        match self {
            ConfigProblem::Warning(m) | ConfigProblem::Error(m) => m,
        }
    }

    /// Whether the source was rejected, as opposed to applied with a warning.
    pub fn is_error(&self) -> bool {
        matches!(self, ConfigProblem::Error(_))
    }
}

/// Configuration with the layers it came from, so that a later layer (a settings change from
/// the editor) can be applied again on top of the file.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    /// The effective configuration: defaults, then the file, then the client's settings.
    pub config: Config,
    /// Problems of the file layer followed by those of the client layer.
    pub problems: Vec<ConfigProblem>,
    /// The configuration file that was chosen (`tandem.toml` or `pyproject.toml`), if any. It
    /// is set even when the file was rejected; `problems` then holds the error.
    pub source: Option<PathBuf>,
    /// What the file contributed, without any client settings.
    pub file: FileLayer,
}

/// The file's contribution, kept apart so that client settings are always applied to the file
/// and never on top of an earlier call's client settings.
#[derive(Debug, Clone, Default)]
pub struct FileLayer {
    /// The file's configuration table as written (unknown keys included) in JSON form; `Null`
    /// when no file applies or the file was rejected.
    pub raw: Value,
    /// Defaults with the file applied.
    pub config: Config,
    /// Problems found in the file.
    pub problems: Vec<ConfigProblem>,
}

/// Reads `tandem.toml` from `root`, else `[tool.tandem]` from `root/pyproject.toml`, else
/// defaults.
pub fn load_workspace_config(root: &Path) -> LoadedConfig {
    let tandem_path = root.join(TANDEM_TOML);
    let pyproject_path = root.join(PYPROJECT_TOML);

    let (source, file) = if tandem_path.exists() {
        let mut file = load_tandem_toml(&tandem_path);
        // A broken pyproject.toml is not our business when tandem.toml is in charge; it is
        // only inspected so that a `[tool.tandem]` table is not ignored without a word.
        if pyproject_path.exists() && pyproject_has_tandem_table(&pyproject_path) {
            file.problems.push(ConfigProblem::Warning(format!(
                "{PYPROJECT_TOML}: `[tool.tandem]` is ignored because {TANDEM_TOML} exists"
            )));
        }
        (Some(tandem_path), file)
    } else if pyproject_path.exists() {
        match load_pyproject_toml(&pyproject_path) {
            Some(file) => (Some(pyproject_path), file),
            None => (None, FileLayer::default()),
        }
    } else {
        (None, FileLayer::default())
    };

    LoadedConfig {
        config: file.config.clone(),
        problems: file.problems.clone(),
        source,
        file,
    }
}

/// Applies the client's settings (`initializationOptions` or the `tandem` section of
/// `didChangeConfiguration`) on top of `base`. Keys the client leaves out keep their values.
///
/// `settings` is either the configuration object itself or an object with a `tandem` key
/// holding it. The settings are merged over `base`'s file layer, not over `base.config`, so
/// settings from an earlier call do not linger. `null` values mean "not set". If the merged
/// result does not deserialize, the client layer is dropped as a whole and the file layer stays
/// in force.
pub fn apply_client_settings(base: &LoadedConfig, settings: &Value) -> LoadedConfig {
    let file = &base.file;
    let mut out = LoadedConfig {
        config: file.config.clone(),
        problems: file.problems.clone(),
        source: base.source.clone(),
        file: file.clone(),
    };

    let (layer, prefix): (&Value, &[&str]) = match settings.get(CLIENT_WRAPPER_KEY) {
        Some(inner) => (inner, &[CLIENT_WRAPPER_KEY]),
        None => (settings, &[]),
    };
    let layer = match layer {
        Value::Null => return out,
        Value::Object(map) if map.is_empty() => return out,
        Value::Object(_) => layer,
        other => {
            let at = if prefix.is_empty() {
                String::new()
            } else {
                format!("`{}`: ", render_key_path(prefix))
            };
            out.problems.push(ConfigProblem::Error(format!(
                "{CLIENT_SETTINGS}: {at}expected an object, found {}",
                json_kind(other)
            )));
            return out;
        }
    };

    match merge_and_deserialize(&file.raw, layer) {
        Ok((config, ignored)) => {
            let invalid = model_problems(&config);
            if !invalid.is_empty() {
                // Like a value of the wrong type: the whole client layer is dropped.
                out.problems.extend(invalid.iter().map(|p| {
                    ConfigProblem::Error(format!("{CLIENT_SETTINGS}: {}", p.render(prefix)))
                }));
                return out;
            }
            // Missing key variables the file already reported are not reported again.
            let known = missing_key_problems(&file.config);
            out.problems.extend(
                missing_key_problems(&config)
                    .iter()
                    .filter(|p| !known.contains(p))
                    .map(|p| {
                        ConfigProblem::Warning(format!("{CLIENT_SETTINGS}: {}", p.render(prefix)))
                    }),
            );
            out.config = config;
            // Unknown keys of the file were reported with the file; only those the client
            // (also) wrote are the client's to hear about.
            for path in ignored.iter().filter(|p| json_at(layer, p).is_some()) {
                let full: Vec<&str> = prefix
                    .iter()
                    .copied()
                    .chain(path.iter().map(String::as_str))
                    .collect();
                out.problems.push(ConfigProblem::Warning(format!(
                    "{CLIENT_SETTINGS}: unknown key `{}`",
                    render_key_path(&full)
                )));
            }
        }
        Err(err) => {
            let (path, message) =
                locate_client_error(file, layer).unwrap_or((Vec::new(), err.to_string()));
            let full: Vec<&str> = prefix
                .iter()
                .copied()
                .chain(path.iter().map(String::as_str))
                .collect();
            let at = if full.is_empty() {
                String::new()
            } else {
                format!("`{}`: ", render_key_path(&full))
            };
            out.problems.push(ConfigProblem::Error(format!(
                "{CLIENT_SETTINGS}: {at}{message}"
            )));
        }
    }
    out
}

/// The workspace root for the command line: `explicit` when given, else the nearest ancestor of
/// `cwd` that holds `tandem.toml`, `pyproject.toml` or `.git`, else `cwd`.
///
/// `explicit` is returned as given, even if it does not exist, so that the caller can report
/// it. `cwd` is expected to be absolute (as `std::env::current_dir` returns it).
pub fn find_workspace_root(explicit: Option<&Path>, cwd: &Path) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    const MARKERS: [&str; 3] = [TANDEM_TOML, PYPROJECT_TOML, ".git"];
    cwd.ancestors()
        // The last ancestor of a relative path is the empty path, which is no directory.
        .filter(|dir| !dir.as_os_str().is_empty())
        .find(|dir| MARKERS.iter().any(|m| dir.join(m).exists()))
        .unwrap_or(cwd)
        .to_path_buf()
}

/// The default configuration as a `tandem.toml` with every key commented out, ready to be
/// edited. Section headers stay uncommented so that uncommenting a key is all it takes.
pub fn defaults_toml() -> String {
    let mut out = String::from(
        "# Tandem configuration. Every key is shown commented out at its default value;\n\
         # uncomment a key to change it. This file is `tandem.toml` at the workspace root;\n\
         # in pyproject.toml, put the same keys under `[tool.tandem]` (e.g.\n\
         # `[tool.tandem.workspace]`). All keys are described in docs/configuration.md.\n",
    );
    let body = match toml::to_string(&Config::default()) {
        Ok(body) => body,
        // The defaults are ours, so this cannot fail unless a section's type is not
        // representable in TOML; say so in the output rather than panic.
        Err(err) => return format!("{out}# cannot render the defaults: {err}\n"),
    };
    // Writing to a String cannot fail, hence the ignored results.
    for line in body.lines().filter(|line| !line.is_empty()) {
        // Arrays of tables (`[[...]]`) are values, so they are commented out like keys.
        if line.starts_with('[') && !line.starts_with("[[") {
            let _ = writeln!(out, "\n{line}");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
    out
}

/// Reads and validates `tandem.toml`, whose top level is the configuration.
fn load_tandem_toml(path: &Path) -> FileLayer {
    let text = match read_text(path, TANDEM_TOML) {
        Ok(text) => text,
        Err(problem) => return rejected(problem),
    };
    let (config, ignored) = match deserialize_toml::<Config>(&text) {
        Ok(parsed) => parsed,
        Err(err) => return rejected(toml_error(TANDEM_TOML, &text, &err)),
    };
    let raw = match raw_table(&text) {
        Ok(raw) => raw,
        Err(err) => return rejected(toml_error(TANDEM_TOML, &text, &err)),
    };
    if let Some(layer) = reject_invalid_models(TANDEM_TOML, &[], &config) {
        return layer;
    }
    let mut problems: Vec<ConfigProblem> = ignored
        .iter()
        .map(|p| unknown_key(TANDEM_TOML, p))
        .collect();
    problems.extend(missing_key_warnings(TANDEM_TOML, &[], &config));
    FileLayer {
        raw,
        config,
        problems,
    }
}

/// A rejected layer when the models or roles of `config` are invalid, with one error per
/// problem naming the key (after `prefix`).
fn reject_invalid_models(name: &str, prefix: &[&str], config: &Config) -> Option<FileLayer> {
    let invalid = model_problems(config);
    if invalid.is_empty() {
        return None;
    }
    Some(FileLayer {
        raw: Value::Null,
        config: Config::default(),
        problems: invalid
            .iter()
            .map(|p| ConfigProblem::Error(format!("{name}: {}", p.render(prefix))))
            .collect(),
    })
}

fn missing_key_warnings(name: &str, prefix: &[&str], config: &Config) -> Vec<ConfigProblem> {
    missing_key_problems(config)
        .iter()
        .map(|p| ConfigProblem::Warning(format!("{name}: {}", p.render(prefix))))
        .collect()
}

/// The part of `pyproject.toml` that concerns us; everything else in it belongs to other tools.
#[derive(Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Deserialize)]
struct PyProjectTool {
    tandem: Option<Config>,
}

/// Reads `[tool.tandem]` from `pyproject.toml`; `None` when the file has no such table.
fn load_pyproject_toml(path: &Path) -> Option<FileLayer> {
    let text = match read_text(path, PYPROJECT_TOML) {
        Ok(text) => text,
        Err(problem) => return Some(rejected(problem)),
    };
    // A syntax error anywhere hides whether `[tool.tandem]` exists; it is reported because the
    // user may well have put settings there.
    let raw = match raw_table(&text) {
        Ok(raw) => raw,
        Err(err) => return Some(rejected(toml_error(PYPROJECT_TOML, &text, &err))),
    };
    let raw = raw
        .get("tool")
        .and_then(|tool| tool.get(PYPROJECT_TOOL_KEY))
        .cloned()?;
    let (config, ignored) = match deserialize_toml::<PyProject>(&text) {
        Ok((pyproject, ignored)) => {
            let config = pyproject.tool.and_then(|t| t.tandem).unwrap_or_default();
            (config, ignored)
        }
        Err(err) => return Some(rejected(toml_error(PYPROJECT_TOML, &text, &err))),
    };
    let prefix = ["tool", PYPROJECT_TOOL_KEY];
    if let Some(layer) = reject_invalid_models(PYPROJECT_TOML, &prefix, &config) {
        return Some(layer);
    }
    let mut problems: Vec<ConfigProblem> = ignored
        .iter()
        .filter(|p| p.len() > 2 && p[0] == "tool" && p[1] == PYPROJECT_TOOL_KEY)
        .map(|p| unknown_key(PYPROJECT_TOML, p))
        .collect();
    problems.extend(missing_key_warnings(PYPROJECT_TOML, &prefix, &config));
    Some(FileLayer {
        raw,
        config,
        problems,
    })
}

fn pyproject_has_tandem_table(path: &Path) -> bool {
    read_text(path, PYPROJECT_TOML)
        .ok()
        .and_then(|text| raw_table(&text).ok())
        .is_some_and(|raw| {
            raw.get("tool")
                .and_then(|t| t.get(PYPROJECT_TOOL_KEY))
                .is_some()
        })
}

/// A file layer that contributes nothing but its error.
fn rejected(problem: ConfigProblem) -> FileLayer {
    FileLayer {
        raw: Value::Null,
        config: Config::default(),
        problems: vec![problem],
    }
}

fn read_text(path: &Path, name: &str) -> Result<String, ConfigProblem> {
    let bytes = std::fs::read(path)
        .map_err(|err| ConfigProblem::Error(format!("{name}: cannot read the file: {err}")))?;
    String::from_utf8(bytes)
        .map_err(|err| ConfigProblem::Error(format!("{name}: the file is not valid UTF-8: {err}")))
}

/// Deserializes `text` into `T`, collecting the paths of keys `T` does not know.
fn deserialize_toml<T: DeserializeOwned>(
    text: &str,
) -> Result<(T, Vec<Vec<String>>), toml::de::Error> {
    let de = toml::de::Deserializer::parse(text)?;
    let mut ignored = Vec::new();
    let value = serde_ignored::deserialize(de, |path| ignored.push(path_segments(&path)))?;
    Ok((value, ignored))
}

/// The document as an untyped JSON object, the form in which layers are merged.
fn raw_table(text: &str) -> Result<Value, toml::de::Error> {
    toml::from_str::<toml::Table>(text).map(|table| toml_to_json(toml::Value::Table(table)))
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        // JSON has no NaN or infinity. No key takes one, so `null` (which fails to deserialize
        // into a number) keeps such a value invalid.
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

/// "file:line:column: message", with the position computed from the error's byte span.
fn toml_error(name: &str, text: &str, err: &toml::de::Error) -> ConfigProblem {
    let position = err
        .span()
        .and_then(|span| text.get(..span.start))
        .map(|before| {
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[line_start..].chars().count() + 1;
            format!(":{line}:{column}")
        });
    let message = err.message().trim_end();
    ConfigProblem::Error(format!("{name}{}: {message}", position.unwrap_or_default()))
}

fn unknown_key(name: &str, path: &[String]) -> ConfigProblem {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    ConfigProblem::Warning(format!("{name}: unknown key `{}`", render_key_path(&path)))
}

/// The keys and indices leading to an ignored value. serde_ignored's own rendering shows
/// `Option` layers as `?`, which means nothing to a user.
fn path_segments(path: &serde_ignored::Path) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = path;
    loop {
        match current {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                segments.push(index.to_string());
                current = parent;
            }
            serde_ignored::Path::Map { parent, key } => {
                segments.push(key.clone());
                current = parent;
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => current = parent,
        }
    }
    segments.reverse();
    segments
}

/// Dotted keys as TOML writes them: bare where possible, quoted otherwise.
fn render_key_path(path: &[&str]) -> String {
    let is_bare = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let keys: Vec<String> = path
        .iter()
        .map(|k| {
            if is_bare(k) {
                (*k).to_string()
            } else {
                format!("{k:?}")
            }
        })
        .collect();
    keys.join(".")
}

/// Merges `layer` over `base` key by key: objects merge recursively, anything else replaces,
/// and `null` in `layer` leaves the base value alone (clients send it for unset settings).
fn deep_merge(base: &mut Value, layer: &Value) {
    match layer {
        Value::Null => {}
        Value::Object(layer) => {
            if !base.is_object() {
                *base = Value::Object(Map::new());
            }
            if let Value::Object(base) = base {
                for (key, value) in layer.iter().filter(|(_, v)| !v.is_null()) {
                    deep_merge(base.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        _ => *base = layer.clone(),
    }
}

/// Deserializes the client `layer` merged over the file layer `raw`, collecting the paths of
/// unknown keys.
fn merge_and_deserialize(
    raw: &Value,
    layer: &Value,
) -> Result<(Config, Vec<Vec<String>>), serde_json::Error> {
    let mut merged = match raw {
        Value::Object(_) => raw.clone(),
        _ => Value::Object(Map::new()),
    };
    deep_merge(&mut merged, layer);
    let mut ignored = Vec::new();
    let config = serde_ignored::deserialize(merged, |path| ignored.push(path_segments(&path)))?;
    Ok((config, ignored))
}

/// Finds which client key makes the merged settings fail, by applying the client's keys one
/// at a time, descending into objects for as long as a single key still fails on its own. JSON
/// errors carry no key path, and this needs no extra dependency for configurations of a few
/// dozen keys.
fn locate_client_error(file: &FileLayer, layer: &Value) -> Option<(Vec<String>, String)> {
    // Descending stops where the configuration has a non-object value (a list or a number the
    // client replaced with an object): the key itself is wrong there, not something inside it.
    let effective = serde_json::to_value(&file.config).ok();
    let mut path: Vec<String> = Vec::new();
    let mut node = layer;
    let mut message = merge_and_deserialize(&file.raw, layer).err()?.to_string();
    while let Value::Object(map) = node {
        let here = effective.as_ref().and_then(|e| json_at(e, &path));
        if here.is_some_and(|v| !v.is_object()) {
            break;
        }
        let failing = map.iter().find_map(|(key, value)| {
            let mut child = path.clone();
            child.push(key.clone());
            let single = nest(&child, value.clone());
            merge_and_deserialize(&file.raw, &single)
                .err()
                .map(|err| (child, value, err))
        });
        match failing {
            Some((child, value, err)) => {
                path = child;
                node = value;
                message = err.to_string();
            }
            None => break,
        }
    }
    Some((path, message))
}

/// `value` wrapped in objects along `path`.
fn nest(path: &[String], value: Value) -> Value {
    path.iter().rev().fold(value, |inner, key| {
        let mut map = Map::new();
        map.insert(key.clone(), inner);
        Value::Object(map)
    })
}

/// The value at `path` (object keys and array indices) in `value`.
fn json_at<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, segment| match node {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh, empty directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let dir =
                std::env::temp_dir().join(format!("tandem-config-test-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        fn write(&self, name: &str, text: &str) -> &Self {
            let path = self.0.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create parent dir");
            }
            std::fs::write(path, text).expect("write file");
            self
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn warnings(loaded: &LoadedConfig) -> Vec<&str> {
        loaded
            .problems
            .iter()
            .filter_map(|p| match p {
                ConfigProblem::Warning(m) => Some(m.as_str()),
                ConfigProblem::Error(_) => None,
            })
            .collect()
    }

    fn errors(loaded: &LoadedConfig) -> Vec<&str> {
        loaded
            .problems
            .iter()
            .filter_map(|p| match p {
                ConfigProblem::Error(m) => Some(m.as_str()),
                ConfigProblem::Warning(_) => None,
            })
            .collect()
    }

    #[test]
    fn defaults_when_no_file() {
        let dir = TempDir::new();
        let loaded = load_workspace_config(dir.path());
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.config.workspace.max_file_size, 2_000_000);
        assert!(loaded.problems.is_empty());
        assert_eq!(loaded.source, None);
    }

    #[test]
    fn reads_tandem_toml() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[workspace]\nexclude = [\"build/\", \"*.gen.py\"]\nmax_file_size = 1000\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert_eq!(loaded.config.workspace.exclude, vec!["build/", "*.gen.py"]);
        assert_eq!(loaded.config.workspace.max_file_size, 1000);
        assert_eq!(
            loaded.source.as_deref(),
            Some(dir.path().join("tandem.toml").as_path())
        );
    }

    #[test]
    fn reads_the_review_section() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[review]\nmax_complexity = 15\nselect = [\"TDM\", \"DOC1\"]\nignore = [\"TDM012\"]\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let review = &loaded.config.review;
        assert_eq!(review.max_complexity, 15);
        assert_eq!(review.max_statements, 60);
        let selection = review.selection().unwrap();
        assert!(selection.is_selected("TDM001") && selection.is_selected("DOC101"));
        assert!(!selection.is_selected("TDM012") && !selection.is_selected("DOC201"));
        let bad = ReviewConfig {
            ignore: vec!["TDM-1".into()],
            ..ReviewConfig::default()
        };
        let err = bad.selection().unwrap_err();
        assert!(
            err.starts_with("`review.ignore`: ") && err.contains("TDM-1"),
            "{err}"
        );
    }

    #[test]
    fn empty_tandem_toml_is_defaults() {
        let dir = TempDir::new();
        dir.write("tandem.toml", "");
        let loaded = load_workspace_config(dir.path());
        assert!(loaded.problems.is_empty());
        assert_eq!(loaded.config, Config::default());
    }

    #[test]
    fn reads_pyproject_tool_tandem() {
        let dir = TempDir::new();
        dir.write(
            "pyproject.toml",
            "[project]\nname = \"demo\"\n\n[tool.black]\nline-length = 100\n\n\
             [tool.tandem.workspace]\nmax_file_size = 5\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert_eq!(loaded.config.workspace.max_file_size, 5);
        assert_eq!(
            loaded.source.as_deref(),
            Some(dir.path().join("pyproject.toml").as_path())
        );
    }

    #[test]
    fn pyproject_without_tool_tandem_is_no_source() {
        let dir = TempDir::new();
        dir.write(
            "pyproject.toml",
            "[project]\nname = \"demo\"\n[tool.ruff]\nline-length = 1\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.source, None);
    }

    #[test]
    fn pyproject_unknown_key_is_reported_with_full_path() {
        let dir = TempDir::new();
        dir.write(
            "pyproject.toml",
            "[tool.tandem]\nfoo = 1\n[tool.tandem.workspace]\nmax_file_size = 7\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert_eq!(
            warnings(&loaded),
            vec!["pyproject.toml: unknown key `tool.tandem.foo`"]
        );
        assert_eq!(loaded.config.workspace.max_file_size, 7);
    }

    #[test]
    fn pyproject_wrong_type_names_pyproject_line() {
        let dir = TempDir::new();
        dir.write(
            "pyproject.toml",
            "[project]\nname = \"x\"\n[tool.tandem.workspace]\nexclude = 3\n",
        );
        let loaded = load_workspace_config(dir.path());
        let errs = errors(&loaded);
        assert_eq!(errs.len(), 1, "{:?}", loaded.problems);
        assert!(
            errs[0].starts_with("pyproject.toml:4:11: invalid type: integer"),
            "{}",
            errs[0]
        );
        assert_eq!(loaded.config, Config::default());
    }

    #[test]
    fn tandem_toml_wins_over_pyproject_with_warning() {
        let dir = TempDir::new();
        dir.write("tandem.toml", "[workspace]\nmax_file_size = 1\n");
        dir.write(
            "pyproject.toml",
            "[tool.tandem.workspace]\nmax_file_size = 2\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert_eq!(loaded.config.workspace.max_file_size, 1);
        assert_eq!(
            loaded.source.as_deref(),
            Some(dir.path().join("tandem.toml").as_path())
        );
        let warns = warnings(&loaded);
        assert_eq!(warns.len(), 1, "{:?}", loaded.problems);
        assert!(warns[0].contains("pyproject.toml"), "{}", warns[0]);
        assert!(warns[0].contains("[tool.tandem]"), "{}", warns[0]);
        assert!(warns[0].contains("ignored"), "{}", warns[0]);
    }

    #[test]
    fn pyproject_without_tandem_table_next_to_tandem_toml_is_silent() {
        let dir = TempDir::new();
        dir.write("tandem.toml", "[workspace]\nmax_file_size = 1\n");
        dir.write("pyproject.toml", "[project]\nname = \"demo\"\n");
        let loaded = load_workspace_config(dir.path());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    }

    #[test]
    fn unknown_top_level_key_warns_and_rest_applies() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "colour = \"blue\"\n[workspace]\nmax_file_size = 9\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert_eq!(warnings(&loaded), vec!["tandem.toml: unknown key `colour`"]);
        assert!(errors(&loaded).is_empty());
        assert_eq!(loaded.config.workspace.max_file_size, 9);
    }

    #[test]
    fn unknown_nested_key_warns_with_dotted_path_and_rest_applies() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[workspace]\nexlude = [\"a\"]\nmax_file_size = 9\n[extra.deeper]\nx = 1\n",
        );
        let loaded = load_workspace_config(dir.path());
        let mut warns = warnings(&loaded);
        warns.sort_unstable();
        assert_eq!(
            warns,
            vec![
                "tandem.toml: unknown key `extra`",
                "tandem.toml: unknown key `workspace.exlude`"
            ]
        );
        assert_eq!(loaded.config.workspace.max_file_size, 9);
        assert!(loaded.config.workspace.exclude.is_empty());
    }

    #[test]
    fn syntax_error_names_file_and_line_and_uses_defaults() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[workspace]\nmax_file_size = 5\nexclude = [\"a\"\n",
        );
        let loaded = load_workspace_config(dir.path());
        let errs = errors(&loaded);
        assert_eq!(errs.len(), 1, "{:?}", loaded.problems);
        assert!(errs[0].starts_with("tandem.toml:3"), "{}", errs[0]);
        // The parser's own message, not its multi-line rendering with a source excerpt.
        assert!(!errs[0].contains('\n'), "{}", errs[0]);
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.file.raw, Value::Null);
    }

    #[test]
    fn wrong_type_is_error_with_position_and_defaults_are_used() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[workspace]\nexclude = [\"a\"]\nmax_file_size = \"big\"\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert_eq!(
            errors(&loaded),
            vec!["tandem.toml:3:17: invalid type: string \"big\", expected u64"]
        );
        assert_eq!(loaded.config, Config::default());
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let dir = TempDir::new();
        std::fs::write(
            dir.path().join("tandem.toml"),
            b"[workspace]\n\xff\xfe = 1\n",
        )
        .expect("write file");
        let loaded = load_workspace_config(dir.path());
        let errs = errors(&loaded);
        assert_eq!(errs.len(), 1, "{:?}", loaded.problems);
        assert!(errs[0].starts_with("tandem.toml: "), "{}", errs[0]);
        assert_eq!(loaded.config, Config::default());
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let dir = TempDir::new();
        // A directory where the file should be cannot be read as one, on any platform and
        // whoever runs the test.
        std::fs::create_dir(dir.path().join("tandem.toml")).expect("create dir");
        let loaded = load_workspace_config(dir.path());
        let errs = errors(&loaded);
        assert_eq!(errs.len(), 1, "{:?}", loaded.problems);
        assert!(
            errs[0].starts_with("tandem.toml: cannot read the file"),
            "{}",
            errs[0]
        );
    }

    fn loaded_from(text: &str) -> (TempDir, LoadedConfig) {
        let dir = TempDir::new();
        dir.write("tandem.toml", text);
        let loaded = load_workspace_config(dir.path());
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        (dir, loaded)
    }

    #[test]
    fn client_settings_direct() {
        let (_dir, base) = loaded_from("[workspace]\nexclude = [\"a\"]\nmax_file_size = 10\n");
        let out = apply_client_settings(&base, &json!({"workspace": {"max_file_size": 20}}));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.config.workspace.max_file_size, 20);
        // Keys the client leaves out keep the file's values.
        assert_eq!(out.config.workspace.exclude, vec!["a"]);
        assert_eq!(out.source, base.source);
    }

    #[test]
    fn client_settings_under_tandem_key() {
        let (_dir, base) = loaded_from("[workspace]\nexclude = [\"a\"]\n");
        let settings = json!({"tandem": {"workspace": {"exclude": ["b", "c"]}}});
        let out = apply_client_settings(&base, &settings);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        // Arrays replace rather than extend.
        assert_eq!(out.config.workspace.exclude, vec!["b", "c"]);
    }

    #[test]
    fn client_settings_null_and_empty_change_nothing() {
        let (_dir, base) = loaded_from("[workspace]\nmax_file_size = 10\n");
        for settings in [
            json!(null),
            json!({}),
            json!({"tandem": null}),
            json!({"tandem": {}}),
        ] {
            let out = apply_client_settings(&base, &settings);
            assert!(out.problems.is_empty(), "{settings}: {:?}", out.problems);
            assert_eq!(out.config, base.config, "{settings}");
        }
    }

    #[test]
    fn client_null_value_means_not_set() {
        let (_dir, base) = loaded_from("[workspace]\nmax_file_size = 10\n");
        let settings = json!({"workspace": {"max_file_size": null, "exclude": ["x"]}});
        let out = apply_client_settings(&base, &settings);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.config.workspace.max_file_size, 10);
        assert_eq!(out.config.workspace.exclude, vec!["x"]);
    }

    #[test]
    fn client_settings_unknown_key_warns_and_rest_applies() {
        let (_dir, base) = loaded_from("[workspace]\nmax_file_size = 10\n");
        let settings = json!({"tandem": {"workspace": {"exlude": ["a"], "max_file_size": 3}}});
        let out = apply_client_settings(&base, &settings);
        assert_eq!(
            warnings(&out),
            vec!["client settings: unknown key `tandem.workspace.exlude`"]
        );
        assert_eq!(out.config.workspace.max_file_size, 3);

        let out = apply_client_settings(&base, &json!({"bogus": true}));
        assert_eq!(warnings(&out), vec!["client settings: unknown key `bogus`"]);
    }

    #[test]
    fn file_unknown_keys_are_not_blamed_on_the_client() {
        let dir = TempDir::new();
        dir.write("tandem.toml", "[workspace]\nexlude = []\n");
        let base = load_workspace_config(dir.path());
        assert_eq!(
            warnings(&base),
            vec!["tandem.toml: unknown key `workspace.exlude`"]
        );
        let out = apply_client_settings(&base, &json!({"workspace": {"max_file_size": 1}}));
        assert_eq!(
            warnings(&out),
            vec!["tandem.toml: unknown key `workspace.exlude`"]
        );
        assert_eq!(out.config.workspace.max_file_size, 1);
    }

    #[test]
    fn client_settings_wrong_type_keeps_file_layer() {
        let (_dir, base) = loaded_from("[workspace]\nexclude = [\"a\"]\nmax_file_size = 10\n");
        let settings = json!({"tandem": {"workspace": {"exclude": ["b"], "max_file_size": "big"}}});
        let out = apply_client_settings(&base, &settings);
        assert_eq!(
            errors(&out),
            vec![
                "client settings: `tandem.workspace.max_file_size`: invalid type: string \"big\", \
                 expected u64"
            ]
        );
        // The whole client layer is dropped, including its valid keys.
        assert_eq!(out.config, base.config);
    }

    #[test]
    fn client_object_where_value_expected_names_the_key() {
        let (_dir, base) = loaded_from("");
        let settings = json!({"workspace": {"exclude": {"a": 1}}});
        let out = apply_client_settings(&base, &settings);
        let errs = errors(&out);
        assert_eq!(errs.len(), 1, "{:?}", out.problems);
        assert!(
            errs[0].starts_with("client settings: `workspace.exclude`: "),
            "{}",
            errs[0]
        );

        let out = apply_client_settings(&base, &json!({"workspace": 5}));
        let errs = errors(&out);
        assert!(
            errs[0].starts_with("client settings: `workspace`: invalid type"),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn client_settings_not_an_object_is_an_error() {
        let (_dir, base) = loaded_from("[workspace]\nmax_file_size = 10\n");
        let out = apply_client_settings(&base, &json!(["a"]));
        assert_eq!(
            errors(&out),
            vec!["client settings: expected an object, found an array"]
        );
        assert_eq!(out.config, base.config);
    }

    #[test]
    fn applying_twice_starts_from_the_file_each_time() {
        let (_dir, base) = loaded_from("[workspace]\nmax_file_size = 10\n");
        let first = apply_client_settings(&base, &json!({"workspace": {"exclude": ["x"]}}));
        assert_eq!(first.config.workspace.exclude, vec!["x"]);
        let second = apply_client_settings(
            &first,
            &json!({"tandem": {"workspace": {"max_file_size": 4}}}),
        );
        assert!(
            second.config.workspace.exclude.is_empty(),
            "{:?}",
            second.config
        );
        assert_eq!(second.config.workspace.max_file_size, 4);

        // Problems of an earlier call do not linger either.
        let bad = apply_client_settings(&base, &json!({"nope": 1}));
        assert_eq!(bad.problems.len(), 1);
        let good = apply_client_settings(&bad, &json!({}));
        assert!(good.problems.is_empty(), "{:?}", good.problems);
        assert_eq!(good.config, base.config);
    }

    #[test]
    fn client_settings_apply_over_defaults_without_file() {
        let dir = TempDir::new();
        let base = load_workspace_config(dir.path());
        let out = apply_client_settings(&base, &json!({"workspace": {"max_file_size": 1}}));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.config.workspace.max_file_size, 1);
        assert!(out.config.workspace.exclude.is_empty());
    }

    #[test]
    fn workspace_root_explicit_wins() {
        let dir = TempDir::new();
        dir.write(".git/HEAD", "ref: refs/heads/main\n");
        let explicit = Path::new("/does/not/exist");
        assert_eq!(find_workspace_root(Some(explicit), dir.path()), explicit);
    }

    #[test]
    fn workspace_root_marker_in_ancestor() {
        let dir = TempDir::new();
        dir.write("proj/pyproject.toml", "");
        dir.write("proj/src/pkg/__init__.py", "");
        let cwd = dir.path().join("proj/src/pkg");
        assert_eq!(find_workspace_root(None, &cwd), dir.path().join("proj"));
        // The nearest marker wins, and `cwd` itself counts.
        dir.write("proj/src/pkg/tandem.toml", "");
        assert_eq!(find_workspace_root(None, &cwd), cwd);
        // `.git` may be a file (worktrees, submodules).
        dir.write("other/.git", "gitdir: elsewhere\n");
        dir.write("other/a/b.py", "");
        let cwd = dir.path().join("other/a");
        assert_eq!(find_workspace_root(None, &cwd), dir.path().join("other"));
    }

    #[test]
    fn workspace_root_without_marker_is_cwd() {
        let dir = TempDir::new();
        dir.write("a/b/c.py", "");
        let cwd = dir.path().join("a/b");
        // An ancestor of the temp dir could hold a marker on some machines; only check when
        // none does.
        let marker_above = dir.path().ancestors().any(|d| {
            ["tandem.toml", "pyproject.toml", ".git"]
                .iter()
                .any(|m| d.join(m).exists())
        });
        if !marker_above {
            assert_eq!(find_workspace_root(None, &cwd), cwd);
        }
    }

    #[test]
    fn defaults_toml_is_commented_and_parses_to_defaults() {
        let text = defaults_toml();
        assert!(text.contains("[workspace]"), "{text}");
        assert!(text.contains("# max_file_size = 2000000"), "{text}");
        let (config, ignored) = deserialize_toml::<Config>(&text).expect("parses as is");
        assert_eq!(config, Config::default());
        assert!(ignored.is_empty());

        // Uncommenting every key still gives the defaults, so the values shown are right.
        let uncommented: String = text
            .lines()
            .filter(|l| !l.starts_with("# ") || l.contains(" = "))
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect();
        let (config, ignored) =
            deserialize_toml::<Config>(&uncommented).expect("parses uncommented");
        assert_eq!(config, Config::default());
        assert!(ignored.is_empty(), "{ignored:?}");
    }

    /// The issue's example, with variables that are surely set (`PATH`) or surely not.
    const MODELS_EXAMPLE: &str = r#"
[models.local]
provider = "openai"
base_url = "http://localhost:11434/v1"
model = "qwen2.5-coder:7b"
context_tokens = 32768
max_output_tokens = 4096
timeout_secs = 120

[models.claude]
provider = "anthropic"
model = "claude-sonnet-4-5"
api_key_env = "PATH"
context_tokens = 200000

[roles]
planner = ["claude", "local"]
coder = ["local", "claude"]
reviewer = ["claude"]
documenter = ["local"]
"#;

    #[test]
    fn models_and_roles_load() {
        let (_dir, loaded) = loaded_from(MODELS_EXAMPLE);
        let config = &loaded.config;
        assert_eq!(config.models.len(), 2);
        let local = &config.models["local"];
        assert_eq!(local.provider, "openai");
        assert_eq!(local.base_url.as_deref(), Some("http://localhost:11434/v1"));
        assert_eq!(local.context_tokens, 32768);
        assert_eq!(local.timeout_secs, 120.0);
        assert_eq!(local.key_variable(), None);
        // Keys left out keep their defaults.
        assert_eq!(local.retries, 2);
        assert_eq!(local.circuit_failures, 3);
        assert_eq!(config.models["claude"].key_variable(), Some("PATH"));
        assert_eq!(config.roles.planner, vec!["claude", "local"]);
        assert_eq!(config.roles.documenter, vec!["local"]);
        assert!(config.cache.enabled);
    }

    #[test]
    fn with_nothing_configured_every_role_is_builtin() {
        let config = Config::default();
        for (_, chain) in config.roles.chains() {
            assert_eq!(chain, [BUILTIN_MODEL]);
        }
        assert!(model_problems(&config).is_empty());
    }

    #[test]
    fn a_role_naming_an_undefined_model_rejects_the_file_naming_the_key() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[workspace]\nmax_file_size = 5\n[roles]\nplanner = [\"gpt\"]\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert_eq!(
            errors(&loaded),
            vec![
                "tandem.toml: `roles.planner`: model `gpt` is not defined; define it in \
                 [models.gpt] or remove it from the chain"
            ]
        );
        // Like a value of the wrong type, the whole file is ignored.
        assert_eq!(loaded.config, Config::default());
    }

    #[test]
    fn an_unknown_provider_is_an_error_naming_the_key() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[models.x]\nprovider = \"openia\"\nmodel = \"m\"\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert_eq!(
            errors(&loaded),
            vec![
                "tandem.toml: `models.x.provider`: unknown provider `openia` (expected `openai` \
                 or `anthropic`)"
            ]
        );
    }

    #[test]
    fn a_missing_key_variable_is_a_warning_naming_the_key() {
        let (dir, _) = loaded_from("");
        dir.write(
            "tandem.toml",
            "[models.claude]\nprovider = \"anthropic\"\nmodel = \"c\"\n\
             api_key_env = \"TANDEM_TEST_SURELY_UNSET_VARIABLE\"\n\
             [models.other]\nprovider = \"anthropic\"\nmodel = \"c\"\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert!(errors(&loaded).is_empty(), "{:?}", loaded.problems);
        let warns = warnings(&loaded);
        assert!(
            warns.contains(
                &"tandem.toml: `models.claude.api_key_env`: environment variable \
                  `TANDEM_TEST_SURELY_UNSET_VARIABLE` is not set, so model `claude` will be skipped"
            ),
            "{warns:?}"
        );
        // The configuration applies: the chain falls back past the model at run time.
        assert_eq!(loaded.config.models.len(), 2);
        if std::env::var_os(ANTHROPIC_DEFAULT_KEY_ENV).is_none() {
            assert!(
                warns
                    .iter()
                    .any(|w| w.contains("`models.other.api_key_env`")
                        && w.contains("ANTHROPIC_API_KEY")),
                "{warns:?}"
            );
        }
    }

    #[test]
    fn model_values_are_checked_without_echoing_secrets() {
        let dir = TempDir::new();
        dir.write(
            "tandem.toml",
            "[models.builtin]\nprovider = \"openai\"\nmodel = \"m\"\n\
             [models.a]\nprovider = \"openai\"\nmodel = \"\"\n\
             base_url = \"https://api.example.com/v1?key=sk-SECRETSECRETSECRET1234\"\n\
             api_key_env = \"sk-SECRETSECRETSECRET1234\"\n\
             context_tokens = 100\nmax_output_tokens = 100\ntimeout_secs = -1\nretries = 50\n\
             [models.b]\nmodel = \"m\"\nbase_url = \"http://user:pw@host/v1\"\ncircuit_failures = 0\n\
             [roles]\ncoder = []\nreviewer = [\"b\", \"b\"]\n",
        );
        let loaded = load_workspace_config(dir.path());
        let errs = errors(&loaded);
        let expected = [
            "`models.a.model`: missing",
            "`models.a.base_url`: must not have a query",
            "`models.a.api_key_env`: must be the name of an environment variable",
            "`models.a.max_output_tokens`: must be smaller than context_tokens (100)",
            "`models.a.timeout_secs`: must be a number of seconds, more than 0",
            "`models.a.retries`: must be at most 10",
            "`models.b.provider`: missing",
            "`models.b.base_url`: must not contain credentials",
            "`models.b.circuit_failures`: must be at least 1",
            "`models.builtin`: `builtin` is the offline engine's name",
            "`roles.coder`: the chain is empty",
            "`roles.reviewer`: model `b` is listed twice",
        ];
        for e in expected {
            assert!(errs.iter().any(|m| m.contains(e)), "missing {e}: {errs:#?}");
        }
        assert_eq!(errs.len(), expected.len(), "{errs:#?}");
        assert!(errs
            .iter()
            .all(|m| !m.contains("SECRET") && !m.contains("pw@")));
    }

    #[test]
    fn pyproject_model_problems_name_the_full_key() {
        let dir = TempDir::new();
        dir.write(
            "pyproject.toml",
            "[tool.tandem.roles]\nplanner = [\"nope\"]\n",
        );
        let loaded = load_workspace_config(dir.path());
        assert_eq!(errors(&loaded).len(), 1);
        assert!(
            errors(&loaded)[0].starts_with("pyproject.toml: `tool.tandem.roles.planner`: "),
            "{:?}",
            loaded.problems
        );
    }

    #[test]
    fn client_settings_with_invalid_models_are_dropped() {
        let (_dir, base) = loaded_from(MODELS_EXAMPLE);
        let out = apply_client_settings(
            &base,
            &json!({"tandem": {"roles": {"planner": ["missing"]}, "workspace": {"max_file_size": 1}}}),
        );
        assert_eq!(
            errors(&out),
            vec![
                "client settings: `tandem.roles.planner`: model `missing` is not defined; \
                 define it in [models.missing] or remove it from the chain"
            ]
        );
        assert_eq!(out.config, base.config);

        // A valid model from the editor applies; its missing variable is the client's warning.
        let settings = json!({
            "models": {"remote": {"provider": "openai", "model": "m", "api_key_env": "TANDEM_TEST_UNSET_2"}},
            "roles": {"coder": ["remote", "local"]}
        });
        let out = apply_client_settings(&base, &settings);
        assert!(errors(&out).is_empty(), "{:?}", out.problems);
        assert_eq!(out.config.roles.coder, vec!["remote", "local"]);
        assert_eq!(
            warnings(&out),
            vec![
                "client settings: `models.remote.api_key_env`: environment variable \
                 `TANDEM_TEST_UNSET_2` is not set, so model `remote` will be skipped"
            ]
        );
    }

    #[test]
    fn cache_is_a_switch_or_a_table() {
        let (_dir, loaded) = loaded_from("cache = false\n");
        assert!(!loaded.config.cache.enabled);
        assert_eq!(loaded.config.cache.max_size_mb, 100);
        let (_dir, loaded) = loaded_from("[cache]\nmax_size_mb = 5\n");
        assert!(loaded.config.cache.enabled);
        assert_eq!(loaded.config.cache.max_size_mb, 5);

        let dir = TempDir::new();
        dir.write("tandem.toml", "[cache]\nenabled = false\nsize = 1\n");
        let loaded = load_workspace_config(dir.path());
        assert_eq!(
            warnings(&loaded),
            vec!["tandem.toml: unknown key `cache.size`"]
        );
        assert!(!loaded.config.cache.enabled);

        dir.write("tandem.toml", "cache = \"off\"\n");
        let loaded = load_workspace_config(dir.path());
        let errs = errors(&loaded);
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("tandem.toml:1:9: invalid type: string"),
            "{errs:?}"
        );

        let (_dir, base) = loaded_from("cache = false\n");
        let out = apply_client_settings(&base, &json!({"cache": {"enabled": true}}));
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert!(out.config.cache.enabled);
        let out = apply_client_settings(&base, &json!({"cache": true}));
        assert!(out.config.cache.enabled);
    }

    /// Every key of the configuration must be described in docs/configuration.md.
    #[test]
    fn every_key_is_documented() {
        fn leaf_keys(value: &Value, prefix: &str, out: &mut Vec<String>) {
            match value {
                Value::Object(map) if !map.is_empty() => {
                    for (k, v) in map {
                        let key = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        leaf_keys(v, &key, out);
                    }
                }
                _ => out.push(prefix.to_string()),
            }
        }
        let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
        let doc = std::fs::read_to_string(&doc_path).expect("read docs/configuration.md");
        let defaults = serde_json::to_value(Config::default()).expect("defaults serialize");
        let mut keys = Vec::new();
        leaf_keys(&defaults, "", &mut keys);
        assert!(!keys.is_empty());
        for key in keys {
            assert!(
                doc.contains(&format!("`{key}`")),
                "docs/configuration.md lacks `{key}`"
            );
        }
    }
}
