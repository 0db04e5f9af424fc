//! The model layer: every AI feature asks its questions through [`ModelRouter`], which owns
//! everything that can go wrong with a model (keys, limits, outages, slow or broken answers)
//! and hands back only answers validated against the request's JSON Schema.
//!
//! A request names a [`Role`]; the role's chain in `[roles]` lists the models to try. The
//! router goes down the chain, skipping models whose key is missing, whose circuit is open or
//! whose context is too small for the prompt plus the answer, and asks the first that is left.
//! A model's request is retried on connection errors, 408, 409, 429 and 5xx
//! (`resilience.rs`); its answer is found in the text (`extract.rs`), validated
//! (`schema.rs`), and given one repair round when it does not match. Before anything is sent,
//! files that hold secrets or that the project ignores are left out and secret-looking strings
//! are redacted (`redact.rs`). Validated answers are cached on disk (`cache.rs`), and usage is
//! recorded per model (`usage.rs`).
//!
//! Only this module knows HTTP: callers see our own types and [`ModelError`].

mod anthropic;
pub mod builtin;
pub mod cache;
pub mod error;
pub mod extract;
mod http;
mod openai;
mod provider;
pub mod redact;
mod resilience;
pub mod schema;
pub mod sse;
pub mod usage;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::context::tokens::estimate_tokens;
use crate::session::config::{model_problems, Config, RolesConfig, BUILTIN_MODEL};

pub use builtin::{OfflineEngine, OfflineFacts, Unserved};
pub use error::{Attempt, ModelError, TimeoutStage};
pub use redact::{is_secret_file, PromptFilter, Redactor, REDACTED};
pub use resilience::CircuitState;
pub use schema::SchemaName;
pub use usage::{Usage, UsageLedger};

use cache::{CachedAnswer, ResponseCache};
use http::{Endpoint, Failure, KeyProblem};
use provider::{Decoded, Finish, LearnedQuirks, Provider, WireRequest};
use resilience::{decide, CircuitBreaker, Decision, RetryPolicy};

/// The model's previous answer is quoted back in the repair round up to this many characters.
const MAX_REPAIR_QUOTE: usize = 20_000;
/// Tokens each message costs beyond its text (role markers and separators).
const TOKENS_PER_MESSAGE: u64 = 4;

/// What a request is for; each role has its own chain of models in `[roles]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Planner,
    Coder,
    Reviewer,
    Documenter,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Planner, Role::Coder, Role::Reviewer, Role::Documenter];

    /// The key in `[roles]`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Planner => "planner",
            Role::Coder => "coder",
            Role::Reviewer => "reviewer",
            Role::Documenter => "documenter",
        }
    }

    fn chain(self, roles: &RolesConfig) -> &[String] {
        match self {
            Role::Planner => &roles.planner,
            Role::Coder => &roles.coder,
            Role::Reviewer => &roles.reviewer,
            Role::Documenter => &roles.documenter,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who speaks in a conversation turn. The system prompt is separate ([`ModelRequest::system`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: MessageRole,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: MessageRole::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: MessageRole::Assistant,
            content: content.into(),
        }
    }
}

/// A workspace file to show the model. The router leaves out files that hold secrets or that
/// the project ignores (see [`PromptFilter`]) and redacts the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptFile {
    /// Absolute, or relative to the workspace root.
    pub path: PathBuf,
    pub text: String,
}

/// A question for a role.
#[derive(Clone)]
pub struct ModelRequest {
    /// The schema the answer must match.
    pub schema: SchemaName,
    pub system: String,
    /// The conversation; usually one user message.
    pub messages: Vec<Message>,
    /// Files shown to the model before the first user message.
    pub files: Vec<PromptFile>,
    /// Workspace files whose text the messages carry (the file under review, documentation
    /// or change). When one of them must stay out of prompts (a secret file, or one the
    /// project ignores), no model is asked: only the offline engine may answer.
    pub sources: Vec<PathBuf>,
    /// The answer's budget in tokens; `None` (or more than the model allows) means the
    /// model's `max_output_tokens`.
    pub max_output_tokens: Option<u64>,
    pub temperature: Option<f32>,
    /// Structured input for the offline engine; models never see it.
    pub facts: Option<OfflineFacts>,
}

impl std::fmt::Debug for ModelRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRequest")
            .field("schema", &self.schema)
            .field("system", &self.system)
            .field("messages", &self.messages)
            .field("files", &self.files)
            .field("sources", &self.sources)
            .field("max_output_tokens", &self.max_output_tokens)
            .field("temperature", &self.temperature)
            .field("facts", &self.facts.as_ref().map(|_| "..."))
            .finish()
    }
}

impl ModelRequest {
    /// A request with a system prompt and one user message.
    pub fn new(schema: SchemaName, system: impl Into<String>, prompt: impl Into<String>) -> Self {
        ModelRequest {
            schema,
            system: system.into(),
            messages: vec![Message::user(prompt)],
            files: Vec::new(),
            sources: Vec::new(),
            max_output_tokens: None,
            temperature: None,
            facts: None,
        }
    }

    pub fn with_file(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.files.push(PromptFile {
            path: path.into(),
            text: text.into(),
        });
        self
    }

    /// Names a workspace file whose text the messages carry (see [`ModelRequest::sources`]).
    pub fn with_source(mut self, path: impl Into<PathBuf>) -> Self {
        self.sources.push(path.into());
        self
    }

    pub fn with_message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    pub fn with_max_output_tokens(mut self, tokens: u64) -> Self {
        self.max_output_tokens = Some(tokens);
        self
    }

    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    pub fn with_facts(mut self, facts: impl std::any::Any + Send + Sync) -> Self {
        self.facts = Some(Arc::new(facts));
        self
    }
}

/// A validated answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAnswer {
    /// The answer, valid against the request's schema (absent nullable properties are
    /// `null`).
    pub value: Value,
    /// The name in `[models]` of the model that answered, or `builtin`.
    pub model: String,
    /// What this answer cost, repair round and retries included.
    pub usage: Usage,
    /// The answer came from the on-disk cache.
    pub cached: bool,
    /// The first answer did not match the schema; this is the repaired one.
    pub repaired: bool,
    /// The estimated size of the prompt in tokens, counted before sending.
    pub prompt_tokens: u64,
    /// Models of the chain tried before this one, and why they did not answer.
    pub skipped: Vec<Attempt>,
    /// Files left out of the prompt, and why.
    pub excluded_files: Vec<(PathBuf, String)>,
    /// How many secret-looking strings were redacted from the prompt.
    pub redactions: usize,
}

/// Progress of a request, for the editor's progress report or the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A model is being asked.
    Started { model: String },
    /// Part of the answer arrived; `received` counts its characters so far.
    Text {
        model: String,
        delta: String,
        received: usize,
    },
    /// A failed request will be sent again after `delay`.
    Retrying {
        model: String,
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// A model of the chain did not answer; the next one is tried.
    Skipped { model: String, reason: String },
    /// The answer did not match the schema; the model is asked once more.
    Repairing { model: String, errors: Vec<String> },
    /// The answer came from the cache.
    Cached { model: String },
    /// A file was left out of the prompt.
    FileExcluded { path: PathBuf, reason: String },
}

/// The models configuration cannot be used. Each problem names its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// A configured model, for listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    pub provider: String,
    /// The model's name at the provider.
    pub model: String,
    /// The endpoint called (base URL and path).
    pub endpoint: String,
    pub context_tokens: u64,
    pub max_output_tokens: u64,
    pub key_variable: Option<String>,
    /// Whether the key variable is set (always true without a key variable).
    pub key_set: bool,
    pub circuit: CircuitState,
}

/// The outcome of `check_model`: how long a tiny request took and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub model: String,
    pub latency: Duration,
    pub usage: Usage,
}

/// Routes requests to models. Cheap to clone (the state is shared), `Send` and `Sync`.
#[derive(Clone)]
pub struct ModelRouter {
    inner: Arc<RouterInner>,
    /// The run's ledger, if this handle was made for a run.
    ledger: Option<UsageLedger>,
}

struct RouterInner {
    endpoints: BTreeMap<String, Endpoint>,
    roles: RolesConfig,
    offline: RwLock<HashMap<Role, Arc<dyn OfflineEngine>>>,
    cache: Option<Arc<ResponseCache>>,
    root: Option<PathBuf>,
    redactor: Redactor,
    session: UsageLedger,
}

impl std::fmt::Debug for ModelRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelRouter")
            .field("models", &self.inner.endpoints.keys().collect::<Vec<_>>())
            .field("roles", &self.inner.roles)
            .field("cache", &self.inner.cache.as_ref().map(|c| c.dir()))
            .finish()
    }
}

/// What `ask_model` is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallMode {
    /// A role's request: cache, circuit breaker and retries apply.
    Role,
    /// `tandem models --check`: none of them, to see the endpoint as it is.
    Check,
}

/// The request after filtering, rendering and redaction: exactly what models are sent.
struct Prepared {
    system: String,
    messages: Vec<Message>,
    excluded: Vec<(PathBuf, String)>,
    redactions: usize,
    /// Estimated tokens of the prompt, schema included.
    prompt_tokens: u64,
}

type Progress<'a> = &'a (dyn Fn(StreamEvent) + Send + Sync);

impl ModelRouter {
    /// A router for `config`. `workspace_root` is where the cache lives and what prompt files
    /// are checked against; without it there is no cache. Keys are read from the environment
    /// now; a missing key is not an error here (the model is skipped when a role reaches it).
    pub fn from_config(
        config: &Config,
        workspace_root: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        Self::from_config_with_keys(config, workspace_root, |var| std::env::var(var).ok())
    }

    /// Like [`ModelRouter::from_config`], with the keys read through `key_of` (given a
    /// variable's name) instead of from the environment: for tests and embedders that must
    /// not touch the process environment.
    pub fn from_config_with_keys(
        config: &Config,
        workspace_root: Option<&Path>,
        key_of: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let problems = model_problems(config);
        if !problems.is_empty() {
            return Err(ConfigError {
                problems: problems.iter().map(|p| p.render(&[])).collect(),
            });
        }
        // Every key is redacted from prompts and messages wherever it appears, whichever
        // model it belongs to.
        let mut redactor = Redactor::new();
        let mut keys: HashMap<String, Option<String>> = HashMap::new();
        for model in config.models.values() {
            if let Some(var) = model.key_variable() {
                let value = key_of(var).filter(|v| !v.is_empty());
                if let Some(v) = &value {
                    redactor = redactor.with_literal(v);
                }
                keys.insert(var.to_string(), value);
            }
        }
        let mut endpoints = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, model) in &config.models {
            let provider: Box<dyn Provider> = match model.provider.as_str() {
                "anthropic" => Box::new(anthropic::Anthropic),
                _ => Box::new(openai::OpenAi),
            };
            let base = model
                .base_url
                .clone()
                .unwrap_or_else(|| provider.default_base_url().to_string());
            let url = match reqwest::Url::parse(&format!(
                "{}/{}",
                base.trim_end_matches('/'),
                provider.path()
            )) {
                Ok(url) => url,
                Err(_) => {
                    errors.push(format!("`models.{name}.base_url`: not a valid URL"));
                    continue;
                }
            };
            let headers = match model.key_variable() {
                None => provider.headers(None).map_err(|_| KeyProblem::Invalid {
                    variable: String::new(),
                }),
                Some(var) => match keys.get(var).cloned().flatten() {
                    None => Err(KeyProblem::Missing {
                        variable: var.to_string(),
                    }),
                    Some(key) => provider
                        .headers(Some(&key))
                        .map_err(|_| KeyProblem::Invalid {
                            variable: var.to_string(),
                        }),
                },
            };
            let client = match reqwest::Client::builder()
                .connect_timeout(resilience::secs(model.connect_timeout_secs))
                .user_agent(concat!("tandem/", env!("CARGO_PKG_VERSION")))
                .build()
            {
                Ok(client) => client,
                Err(e) => {
                    errors.push(format!(
                        "model `{name}`: cannot set up HTTP: {}",
                        redactor.scrub_message(&e.without_url().to_string())
                    ));
                    continue;
                }
            };
            let policy = RetryPolicy::from_config(model);
            endpoints.insert(
                name.clone(),
                Endpoint {
                    name: name.clone(),
                    config: model.clone(),
                    provider,
                    url,
                    client,
                    headers,
                    policy,
                    circuit: CircuitBreaker::new(
                        model.circuit_failures,
                        resilience::secs(model.circuit_open_secs),
                    ),
                    quirks: LearnedQuirks::default(),
                    redactor: redactor.clone(),
                },
            );
        }
        if !errors.is_empty() {
            return Err(ConfigError { problems: errors });
        }
        let cache = match (workspace_root, config.cache.enabled) {
            (Some(root), true) => Some(ResponseCache::new(root, config.cache.max_size_mb)),
            _ => None,
        };
        Ok(ModelRouter {
            inner: Arc::new(RouterInner {
                endpoints,
                roles: config.roles.clone(),
                offline: RwLock::new(HashMap::new()),
                cache,
                root: workspace_root.map(Path::to_path_buf),
                redactor,
                session: UsageLedger::new(),
            }),
            ledger: None,
        })
    }

    /// A router where every role uses the offline engine: what an empty configuration gives,
    /// and a fallback while the configuration is broken.
    pub fn offline(workspace_root: Option<&Path>) -> Self {
        let config = Config::default();
        match Self::from_config(&config, workspace_root) {
            Ok(router) => router,
            // The default configuration has no models, so nothing above can fail; build the
            // same thing by hand rather than panic.
            Err(_) => ModelRouter {
                inner: Arc::new(RouterInner {
                    endpoints: BTreeMap::new(),
                    roles: RolesConfig::default(),
                    offline: RwLock::new(HashMap::new()),
                    cache: None,
                    root: workspace_root.map(Path::to_path_buf),
                    redactor: Redactor::new(),
                    session: UsageLedger::new(),
                }),
                ledger: None,
            },
        }
    }

    /// A handle on the same router that also records usage in `ledger` (one per run).
    pub fn with_ledger(&self, ledger: UsageLedger) -> Self {
        ModelRouter {
            inner: self.inner.clone(),
            ledger: Some(ledger),
        }
    }

    /// Everything asked through this router (all handles) since it was built.
    pub fn session_usage(&self) -> UsageLedger {
        self.inner.session.clone()
    }

    /// Installs the offline engine for `role`, replacing the one before.
    pub fn register_offline(&self, role: Role, engine: Arc<dyn OfflineEngine>) {
        self.inner
            .offline
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(role, engine);
    }

    /// The role's chain of model names (`builtin` for the offline engine).
    pub fn chain(&self, role: Role) -> &[String] {
        role.chain(&self.inner.roles)
    }

    /// The configured models, by name.
    pub fn models(&self) -> Vec<ModelInfo> {
        self.inner
            .endpoints
            .values()
            .map(|ep| ModelInfo {
                name: ep.name.clone(),
                provider: ep.provider.kind().to_string(),
                model: ep.config.model.clone(),
                endpoint: ep.url.to_string(),
                context_tokens: ep.config.context_tokens,
                max_output_tokens: ep.config.max_output_tokens,
                key_variable: ep.config.key_variable().map(str::to_string),
                key_set: !matches!(ep.headers, Err(KeyProblem::Missing { .. })),
                circuit: ep.circuit.state(),
            })
            .collect()
    }

    /// The cache directory, when the cache is on.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.inner.cache.as_ref().map(|c| c.dir())
    }

    /// Asks `role` for an answer to `request`: the first usable model of the role's chain
    /// answers, validated against `request.schema`. `on_progress` hears about streamed text,
    /// retries, skipped models and repair rounds. Cancelling `cancel` aborts the HTTP request
    /// at once.
    ///
    /// With a chain of one model its own error is returned; with more, `Unavailable` lists
    /// each model and why it did not answer. A failure after part of a streamed answer arrived
    /// (`StreamInterrupted`) and `Cancelled` end the request without trying further models.
    pub async fn complete<F>(
        &self,
        role: Role,
        request: ModelRequest,
        cancel: CancellationToken,
        on_progress: F,
    ) -> Result<ModelAnswer, ModelError>
    where
        F: Fn(StreamEvent) + Send + Sync,
    {
        let progress: Progress<'_> = &on_progress;
        let prepared = self.prepare(&request, progress);
        let excluded_source = self.excluded_source(&request);
        let chain = self.chain(role).to_vec();
        let mut tried: Vec<Attempt> = Vec::new();
        for name in &chain {
            if cancel.is_cancelled() {
                return Err(ModelError::Cancelled);
            }
            let result = if name == BUILTIN_MODEL {
                self.ask_offline(role, &request, &prepared, &cancel, progress)
                    .await
            } else if let Some(error) = excluded_source.clone() {
                Err(error)
            } else {
                match self.inner.endpoints.get(name) {
                    Some(ep) => {
                        self.ask_model(ep, &request, &prepared, &cancel, progress, CallMode::Role)
                            .await
                    }
                    // Validation makes this impossible; say so rather than panic.
                    None => Err(ModelError::Protocol {
                        model: name.clone(),
                        message: "the model is not defined".to_string(),
                    }),
                }
            };
            match result {
                Ok(mut answer) => {
                    answer.skipped = tried;
                    return Ok(answer);
                }
                Err(ModelError::Cancelled) => return Err(ModelError::Cancelled),
                Err(e @ ModelError::StreamInterrupted { received_chars, .. })
                    if received_chars > 0 =>
                {
                    return Err(e)
                }
                Err(error) => {
                    tracing::info!("{role}: {error}");
                    progress(StreamEvent::Skipped {
                        model: name.clone(),
                        reason: error.to_string(),
                    });
                    tried.push(Attempt {
                        model: name.clone(),
                        error,
                    });
                }
            }
        }
        if chain.len() == 1 {
            if let Some(attempt) = tried.pop() {
                return Err(attempt.error);
            }
        }
        Err(ModelError::Unavailable { role, tried })
    }

    /// Sends model `name` a tiny request (no cache, no retries, circuit ignored) and reports
    /// the latency, or the exact failure.
    pub async fn check_model(
        &self,
        name: &str,
        cancel: CancellationToken,
    ) -> Result<CheckReport, ModelError> {
        let Some(ep) = self.inner.endpoints.get(name) else {
            return Err(ModelError::Protocol {
                model: name.to_string(),
                message: "no such model in [models]".to_string(),
            });
        };
        let request = ModelRequest::new(
            SchemaName::Verdict,
            "This is a connectivity check.",
            "Reply with a score of 1 and an empty list of issues.",
        )
        .with_max_output_tokens(256)
        .with_temperature(0.0);
        let nothing = |_: StreamEvent| {};
        let prepared = self.prepare(&request, &nothing);
        let start = Instant::now();
        let answer = self
            .ask_model(ep, &request, &prepared, &cancel, &nothing, CallMode::Check)
            .await?;
        Ok(CheckReport {
            model: name.to_string(),
            latency: start.elapsed(),
            usage: answer.usage,
        })
    }

    /// The refusal for a request whose messages carry a file that must stay out of prompts.
    fn excluded_source(&self, request: &ModelRequest) -> Option<ModelError> {
        let mut filter = PromptFilter::new(self.inner.root.as_deref());
        request.sources.iter().find_map(|path| {
            let reason = filter.exclusion(path)?;
            tracing::info!("not sent to a model: {} ({reason})", path.display());
            Some(ModelError::ExcludedSource {
                path: self.display_path(path),
                reason,
            })
        })
    }

    /// Filters and renders the files, and redacts everything.
    fn prepare(&self, request: &ModelRequest, progress: Progress<'_>) -> Prepared {
        let mut filter = PromptFilter::new(self.inner.root.as_deref());
        let mut excluded = Vec::new();
        let mut block = String::new();
        for file in &request.files {
            if let Some(reason) = filter.exclusion(&file.path) {
                tracing::info!("left out of the prompt: {} ({reason})", file.path.display());
                progress(StreamEvent::FileExcluded {
                    path: file.path.clone(),
                    reason: reason.clone(),
                });
                excluded.push((file.path.clone(), reason));
                continue;
            }
            let shown = self.display_path(&file.path);
            let fence = fence_for(&file.text);
            block.push_str(&format!(
                "File `{shown}`:\n{fence}\n{}\n{fence}\n\n",
                file.text.trim_end_matches('\n')
            ));
        }
        let mut messages = request.messages.clone();
        if !block.is_empty() {
            match messages.iter_mut().find(|m| m.role == MessageRole::User) {
                Some(first) => first.content = format!("{block}{}", first.content),
                None => messages.insert(0, Message::user(block.trim_end())),
            }
        }
        // Anthropic requires the conversation to start with the user.
        if messages.first().is_none_or(|m| m.role != MessageRole::User) {
            messages.insert(0, Message::user("(see the system prompt)"));
        }
        let mut redactions = 0;
        let (system, n) = self.inner.redactor.redact(&request.system);
        redactions += n;
        let system = system.into_owned();
        for message in &mut messages {
            let (text, n) = self.inner.redactor.redact(&message.content);
            redactions += n;
            if n > 0 {
                message.content = text.into_owned();
            }
        }
        if redactions > 0 {
            tracing::info!("redacted {redactions} secret-looking strings from the prompt");
        }
        let prompt_tokens = estimate_tokens(&system) as u64
            + messages
                .iter()
                .map(|m| estimate_tokens(&m.content) as u64 + TOKENS_PER_MESSAGE)
                .sum::<u64>()
            + estimate_tokens(&request.schema.schema().to_string()) as u64;
        Prepared {
            system,
            messages,
            excluded,
            redactions,
            prompt_tokens,
        }
    }

    fn display_path(&self, path: &Path) -> String {
        let relative = self
            .inner
            .root
            .as_deref()
            .and_then(|root| path.strip_prefix(root).ok())
            .unwrap_or(path);
        relative.to_string_lossy().replace('\\', "/")
    }

    fn record(&self, model: &str, usage: Usage) {
        self.inner.session.record(model, usage);
        if let Some(ledger) = &self.ledger {
            ledger.record(model, usage);
        }
    }

    async fn ask_offline(
        &self,
        role: Role,
        request: &ModelRequest,
        prepared: &Prepared,
        cancel: &CancellationToken,
        progress: Progress<'_>,
    ) -> Result<ModelAnswer, ModelError> {
        let engine: Arc<dyn OfflineEngine> = self
            .inner
            .offline
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&role)
            .cloned()
            .unwrap_or_else(|| Arc::new(Unserved { role }));
        progress(StreamEvent::Started {
            model: BUILTIN_MODEL.to_string(),
        });
        let owned = request.clone();
        let task = tokio::task::spawn_blocking(move || engine.answer(&owned));
        let joined = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(ModelError::Cancelled),
            joined = task => joined,
        };
        let value = match joined {
            Ok(result) => result?,
            Err(_) => {
                return Err(ModelError::Protocol {
                    model: BUILTIN_MODEL.to_string(),
                    message: format!("the offline {role} engine failed unexpectedly"),
                })
            }
        };
        let value =
            request
                .schema
                .validate(&value)
                .map_err(|errors| ModelError::InvalidOutput {
                    model: BUILTIN_MODEL.to_string(),
                    schema: request.schema,
                    errors,
                })?;
        Ok(ModelAnswer {
            value,
            model: BUILTIN_MODEL.to_string(),
            usage: Usage::default(),
            cached: false,
            repaired: false,
            prompt_tokens: prepared.prompt_tokens,
            skipped: Vec::new(),
            excluded_files: prepared.excluded.clone(),
            redactions: prepared.redactions,
        })
    }

    async fn ask_model(
        &self,
        ep: &Endpoint,
        request: &ModelRequest,
        prepared: &Prepared,
        cancel: &CancellationToken,
        progress: Progress<'_>,
        mode: CallMode,
    ) -> Result<ModelAnswer, ModelError> {
        let name = ep.name.clone();
        match &ep.headers {
            Ok(_) => {}
            Err(KeyProblem::Missing { variable }) => {
                return Err(ModelError::MissingKey {
                    model: name,
                    variable: variable.clone(),
                })
            }
            Err(KeyProblem::Invalid { variable }) => {
                return Err(ModelError::Auth {
                    model: name,
                    variable: Some(variable.clone()),
                    message: "the key holds characters that cannot go in an HTTP header"
                        .to_string(),
                })
            }
        }
        let max_output = request
            .max_output_tokens
            .unwrap_or(ep.config.max_output_tokens)
            .clamp(1, ep.config.max_output_tokens);
        let needed = prepared.prompt_tokens + max_output;
        if needed > ep.config.context_tokens {
            return Err(ModelError::ContextTooSmall {
                model: name,
                needed,
                available: ep.config.context_tokens,
            });
        }

        let cache = self.inner.cache.clone().filter(|_| mode == CallMode::Role);
        let key = cache.as_ref().map(|_| {
            ResponseCache::key(&json!({
                "provider": ep.provider.kind(),
                "endpoint": ep.url.as_str(),
                "model": ep.config.model,
                "system": prepared.system,
                "messages": prepared.messages,
                "schema": request.schema.name(),
                "schema_body": request.schema.schema(),
                "max_output_tokens": max_output,
                "temperature": request.temperature.map(|t| (f64::from(t) * 1000.0).round()),
            }))
        });
        if let (Some(cache), Some(key)) = (&cache, &key) {
            let (cache, key_owned, schema) = (cache.clone(), key.clone(), request.schema);
            let hit = tokio::task::spawn_blocking(move || cache.get(&key_owned, schema))
                .await
                .ok()
                .flatten();
            if let Some(hit) = hit {
                tracing::debug!("model `{name}`: answered from the cache");
                progress(StreamEvent::Cached {
                    model: name.clone(),
                });
                let usage = Usage {
                    cached: 1,
                    ..Usage::default()
                };
                self.record(&name, usage);
                return Ok(ModelAnswer {
                    value: hit.value,
                    model: name,
                    usage,
                    cached: true,
                    repaired: false,
                    prompt_tokens: prepared.prompt_tokens,
                    skipped: Vec::new(),
                    excluded_files: prepared.excluded.clone(),
                    redactions: prepared.redactions,
                });
            }
        }

        let permit = match mode {
            CallMode::Check => None,
            CallMode::Role => match ep.circuit.try_acquire() {
                Ok(permit) => Some(permit),
                Err(retry_in) => {
                    return Err(ModelError::CircuitOpen {
                        model: name,
                        failures: ep.circuit.threshold(),
                        retry_in,
                    })
                }
            },
        };
        let policy = match mode {
            CallMode::Role => ep.policy,
            CallMode::Check => ep.policy.none(),
        };
        progress(StreamEvent::Started {
            model: name.clone(),
        });
        let mut usage = Usage::default();
        let result = self
            .ask_and_parse(
                ep, request, prepared, max_output, cancel, progress, &policy, &mut usage,
            )
            .await;
        if let Some(permit) = permit {
            match &result {
                Err(ModelError::Cancelled) => ep.circuit.on_abandoned(permit),
                Err(e) if e.is_endpoint_failure() => ep.circuit.on_failure(),
                _ => ep.circuit.on_success(),
            }
        }
        let (value, repaired) = result?;
        if let (Some(cache), Some(key)) = (cache, key) {
            let entry = CachedAnswer {
                model: name.clone(),
                schema: request.schema,
                value: value.clone(),
                usage,
            };
            let _ = tokio::task::spawn_blocking(move || cache.put(&key, &entry)).await;
        }
        Ok(ModelAnswer {
            value,
            model: name,
            usage,
            cached: false,
            repaired,
            prompt_tokens: prepared.prompt_tokens,
            skipped: Vec::new(),
            excluded_files: prepared.excluded.clone(),
            redactions: prepared.redactions,
        })
    }

    /// Asks, parses and validates, with one repair round.
    #[allow(clippy::too_many_arguments)]
    async fn ask_and_parse(
        &self,
        ep: &Endpoint,
        request: &ModelRequest,
        prepared: &Prepared,
        max_output: u64,
        cancel: &CancellationToken,
        progress: Progress<'_>,
        policy: &RetryPolicy,
        usage: &mut Usage,
    ) -> Result<(Value, bool), ModelError> {
        let name = &ep.name;
        let mut messages = prepared.messages.clone();
        let mut repaired = false;
        loop {
            let decoded = self
                .send(
                    ep,
                    request,
                    &prepared.system,
                    &messages,
                    max_output,
                    cancel,
                    progress,
                    policy,
                    usage,
                )
                .await?;
            match decoded.finish {
                Finish::Complete => {}
                Finish::Truncated => {
                    return Err(ModelError::Truncated {
                        model: name.clone(),
                        max_output_tokens: max_output,
                    })
                }
                Finish::Refused(message) => {
                    return Err(ModelError::Refused {
                        model: name.clone(),
                        message: ep.redactor.scrub_message(&message),
                    })
                }
            }
            match extract::parse_answer(&decoded.text, request.schema) {
                Ok(value) => return Ok((value, repaired)),
                Err(errors) if !repaired => {
                    tracing::info!(
                        "model `{name}`: the answer does not match {}; asking once more",
                        request.schema
                    );
                    progress(StreamEvent::Repairing {
                        model: name.clone(),
                        errors: errors.clone(),
                    });
                    let quoted: String = decoded.text.chars().take(MAX_REPAIR_QUOTE).collect();
                    let (quoted, _) = self.inner.redactor.redact(&quoted);
                    messages.push(Message::assistant(quoted.into_owned()));
                    messages.push(Message::user(repair_prompt(request.schema, &errors)));
                    repaired = true;
                }
                Err(errors) => {
                    return Err(ModelError::InvalidOutput {
                        model: name.clone(),
                        schema: request.schema,
                        errors,
                    })
                }
            }
        }
    }

    /// One request with retries, adapted (and sent again) when the endpoint refuses part of
    /// it: the native structured output, `max_tokens`, `temperature`, `stream_options`.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        ep: &Endpoint,
        request: &ModelRequest,
        system: &str,
        messages: &[Message],
        max_output: u64,
        cancel: &CancellationToken,
        progress: Progress<'_>,
        policy: &RetryPolicy,
        usage: &mut Usage,
    ) -> Result<Decoded, ModelError> {
        loop {
            let quirks = ep.quirks.get();
            let wire = WireRequest {
                model: &ep.config.model,
                system,
                messages,
                schema: request.schema,
                max_output_tokens: max_output,
                temperature: request.temperature,
                quirks,
                stream: ep.config.stream,
            };
            let body = ep.provider.body(&wire);
            let bytes = serde_json::to_vec(&body).map_err(|e| ModelError::Protocol {
                model: ep.name.clone(),
                message: format!("cannot encode the request: {e}"),
            })?;
            let outcome = self
                .send_with_retries(ep, &bytes, cancel, progress, policy, usage)
                .await;
            let (failure, streamed) = match outcome {
                Ok(decoded) => {
                    let reported = decoded.usage;
                    let answer_usage = Usage {
                        input_tokens: reported.map_or_else(
                            || {
                                estimate_tokens(system) as u64
                                    + messages
                                        .iter()
                                        .map(|m| estimate_tokens(&m.content) as u64)
                                        .sum::<u64>()
                            },
                            |u| u.input,
                        ),
                        output_tokens: reported
                            .map_or_else(|| estimate_tokens(&decoded.text) as u64, |u| u.output),
                        requests: 0,
                        cached: 0,
                        estimated: reported.is_none(),
                    };
                    *usage += answer_usage;
                    self.record(&ep.name, answer_usage);
                    return Ok(decoded);
                }
                Err(failure) => failure,
            };
            // Each adaptation is made at most once per endpoint, so this loop ends.
            if let Failure::Status {
                status, message, ..
            } = &failure
            {
                let adaptation = ep
                    .provider
                    .adaptation_for(*status, message)
                    .filter(|a| !quirks.has(*a));
                if let Some(adaptation) = adaptation {
                    tracing::warn!(
                        "model `{}` refused part of the request ({status}: {message}); \
                         adapting it ({adaptation:?}) from now on",
                        ep.name
                    );
                    ep.quirks.add(adaptation);
                    continue;
                }
            }
            return Err(self.model_error(ep, failure, streamed, policy));
        }
    }

    /// Sends `body` until it succeeds, the failure is not worth retrying, or the retries are
    /// spent. Also returns how much answer text had arrived when it failed.
    async fn send_with_retries(
        &self,
        ep: &Endpoint,
        body: &[u8],
        cancel: &CancellationToken,
        progress: Progress<'_>,
        policy: &RetryPolicy,
        usage: &mut Usage,
    ) -> Result<Decoded, (Failure, usize)> {
        let mut attempt = 0u32;
        loop {
            tracing::debug!(
                "model `{}`: request {} to {}",
                ep.name,
                attempt + 1,
                ep.host()
            );
            let mut streamed = 0usize;
            let result = {
                let mut on_text = |text: &str| {
                    streamed += text.chars().count();
                    progress(StreamEvent::Text {
                        model: ep.name.clone(),
                        delta: text.to_string(),
                        received: streamed,
                    });
                };
                ep.send_once(body, cancel, &mut on_text).await
            };
            usage.requests += 1;
            self.record(
                &ep.name,
                Usage {
                    requests: 1,
                    ..Usage::default()
                },
            );
            let failure = match result {
                Ok(decoded) => return Ok(decoded),
                Err(failure) => failure,
            };
            // After the first streamed token the caller has seen part of an answer; a retry
            // would not be silent, so the failure is reported instead.
            if streamed > 0 || failure == Failure::Cancelled {
                return Err((failure, streamed));
            }
            match decide(&failure, attempt, policy) {
                Decision::GiveUp => return Err((failure, 0)),
                Decision::RetryAfter(delay) => {
                    let reason = describe(&failure);
                    tracing::info!(
                        "model `{}`: {reason}; retrying in {}",
                        ep.name,
                        error::seconds(delay)
                    );
                    progress(StreamEvent::Retrying {
                        model: ep.name.clone(),
                        attempt: attempt + 1,
                        delay,
                        reason,
                    });
                    tokio::select! {
                        biased;
                        _ = cancel.cancelled() => return Err((Failure::Cancelled, 0)),
                        _ = tokio::time::sleep(delay) => {}
                    }
                    attempt += 1;
                }
            }
        }
    }

    fn model_error(
        &self,
        ep: &Endpoint,
        failure: Failure,
        streamed: usize,
        policy: &RetryPolicy,
    ) -> ModelError {
        let model = ep.name.clone();
        if failure == Failure::Cancelled {
            return ModelError::Cancelled;
        }
        if streamed > 0 {
            return ModelError::StreamInterrupted {
                model,
                received_chars: streamed,
                message: describe(&failure),
            };
        }
        match failure {
            Failure::Cancelled => ModelError::Cancelled,
            Failure::Connect {
                timed_out: true, ..
            } => ModelError::Timeout {
                model,
                stage: TimeoutStage::Connect,
                after: ep.connect_timeout(),
            },
            Failure::Connect { message, .. } => ModelError::Connection { model, message },
            Failure::Timeout { stage, after } => ModelError::Timeout {
                model,
                stage,
                after,
            },
            Failure::Status {
                status,
                retry_after,
                message,
            } => match status {
                401 => ModelError::Auth {
                    model,
                    variable: ep.config.key_variable().map(str::to_string),
                    message,
                },
                403 => ModelError::Forbidden { model, message },
                404 if message.to_ascii_lowercase().contains("model") => ModelError::UnknownModel {
                    model,
                    name: ep.config.model.clone(),
                    message,
                },
                404 => ModelError::EndpointNotFound { model, message },
                429 => ModelError::RateLimited {
                    model,
                    retry_after,
                    max_wait: policy.max_retry_after,
                    message,
                },
                _ => ModelError::Http {
                    model,
                    status,
                    message,
                },
            },
            Failure::Broken { message } => ModelError::StreamInterrupted {
                model,
                received_chars: 0,
                message,
            },
            Failure::Protocol { message } => ModelError::Protocol { model, message },
        }
    }
}

/// A short description of a failed attempt, for progress and logs.
fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Cancelled => "cancelled".to_string(),
        Failure::Connect { message, .. } => message.clone(),
        Failure::Timeout { stage, after } => match stage {
            TimeoutStage::Idle => format!("nothing arrived for {}", error::seconds(*after)),
            _ => format!("no answer within {}", error::seconds(*after)),
        },
        Failure::Status {
            status, message, ..
        } => {
            if message.is_empty() {
                format!("the server answered {status}")
            } else {
                format!("the server answered {status}: {message}")
            }
        }
        Failure::Broken { message } | Failure::Protocol { message } => message.clone(),
    }
}

/// A Markdown fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// The user message of the repair round.
fn repair_prompt(schema: SchemaName, errors: &[String]) -> String {
    let list: String = errors.iter().map(|e| format!("- {e}\n")).collect();
    format!(
        "Your answer does not match the JSON Schema `{schema}`:\n{list}\nAnswer again with only \
         the corrected JSON object: no prose, no code fences."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_router_and_its_futures_can_cross_threads() {
        assert_send_sync::<ModelRouter>();
        let router = ModelRouter::offline(None);
        let future = router.complete(
            Role::Planner,
            ModelRequest::new(SchemaName::Plan, "", "x"),
            CancellationToken::new(),
            |_| {},
        );
        assert_send(&future);
    }

    #[tokio::test]
    async fn with_nothing_configured_every_role_is_offline_and_says_what_to_set() {
        let router = ModelRouter::offline(None);
        for role in Role::ALL {
            assert_eq!(router.chain(role), ["builtin"]);
            let err = router
                .complete(
                    role,
                    ModelRequest::new(SchemaName::Plan, "", "x"),
                    CancellationToken::new(),
                    |_| {},
                )
                .await
                .unwrap_err();
            match err {
                ModelError::Offline { setting, hint, .. } => {
                    assert_eq!(setting, format!("roles.{role}"));
                    assert!(hint.contains("tandem.toml"), "{hint}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    struct FixedEngine(Value);

    impl OfflineEngine for FixedEngine {
        fn answer(&self, request: &ModelRequest) -> Result<Value, ModelError> {
            let facts = request
                .facts
                .as_ref()
                .and_then(|f| f.downcast_ref::<&'static str>())
                .copied()
                .unwrap_or("none");
            let mut value = self.0.clone();
            if let Some(issues) = value.get_mut("issues").and_then(Value::as_array_mut) {
                issues.push(Value::String(facts.to_string()));
            }
            Ok(value)
        }
    }

    #[tokio::test]
    async fn registered_offline_engines_answer_and_are_validated() {
        let router = ModelRouter::offline(None);
        router.register_offline(
            Role::Reviewer,
            Arc::new(FixedEngine(json!({"score": 1, "issues": []}))),
        );
        let request = ModelRequest::new(SchemaName::Verdict, "", "x").with_facts("from facts");
        let answer = router
            .complete(Role::Reviewer, request, CancellationToken::new(), |_| {})
            .await
            .expect("offline answer");
        assert_eq!(answer.model, "builtin");
        assert_eq!(answer.value, json!({"score": 1, "issues": ["from facts"]}));

        router.register_offline(
            Role::Reviewer,
            Arc::new(FixedEngine(json!({"score": 3, "issues": []}))),
        );
        let err = router
            .complete(
                Role::Reviewer,
                ModelRequest::new(SchemaName::Verdict, "", "x"),
                CancellationToken::new(),
                |_| {},
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ModelError::InvalidOutput { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_request_carrying_an_ignored_or_secret_file_asks_no_model() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "generated.py\n").unwrap();
        let mut config = Config::default();
        config.models.insert(
            "m".into(),
            crate::session::config::ModelConfig {
                provider: "openai".into(),
                // Nothing listens here: a request that is sent fails to connect.
                base_url: Some("http://127.0.0.1:9/v1".into()),
                model: "m".into(),
                retries: 0,
                stream: false,
                ..Default::default()
            },
        );
        config.roles.reviewer = vec!["m".into()];
        let router = ModelRouter::from_config_with_keys(&config, Some(dir.path()), |_| None)
            .expect("a usable configuration");
        let ask = |source: &str| {
            let request =
                ModelRequest::new(SchemaName::Review, "", "Review this").with_source(source);
            router.complete(Role::Reviewer, request, CancellationToken::new(), |_| {})
        };
        for (source, reason) in [("generated.py", ".gitignore"), (".env", "secret")] {
            let err = ask(source).await.unwrap_err();
            assert!(
                matches!(&err, ModelError::ExcludedSource { path, .. } if path == source),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(message.starts_with(&format!("`{source}` is not sent to a model: ")));
            assert!(message.contains(reason), "{message}");
        }
        // An ordinary file is sent (and fails to connect here).
        let err = ask("app.py").await.unwrap_err();
        assert!(matches!(err, ModelError::Connection { .. }), "{err:?}");
    }

    #[test]
    fn invalid_configuration_is_refused_with_the_keys() {
        let mut config = Config::default();
        config.roles.planner = vec!["gpt".into()];
        let err = ModelRouter::from_config(&config, None).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].starts_with("`roles.planner`: model `gpt` is not defined"));
    }

    #[test]
    fn files_are_filtered_fenced_and_redacted() {
        let router = ModelRouter::offline(None);
        let request = ModelRequest::new(SchemaName::Plan, "key sk-abcdefghij0123456789xyz", "Plan")
            .with_file("src/app.py", "x = '```'\nTOKEN = \"abc123\"\n")
            .with_file(".env", "OPENAI_API_KEY=sk-live");
        let events = std::sync::Mutex::new(Vec::new());
        let prepared = router.prepare(&request, &|e| {
            events.lock().unwrap_or_else(|e| e.into_inner()).push(e)
        });
        assert_eq!(prepared.system, "key [REDACTED]");
        assert_eq!(prepared.excluded.len(), 1);
        assert_eq!(prepared.redactions, 2);
        let first = &prepared.messages[0].content;
        assert!(
            first.starts_with("File `src/app.py`:\n````\nx = '```'"),
            "{first}"
        );
        assert!(first.contains("TOKEN = \"[REDACTED]\""), "{first}");
        assert!(first.ends_with("Plan"), "{first}");
        assert!(!first.contains("sk-live"));
        assert!(matches!(
            events.lock().unwrap_or_else(|e| e.into_inner()).as_slice(),
            [StreamEvent::FileExcluded { .. }]
        ));
    }
}
