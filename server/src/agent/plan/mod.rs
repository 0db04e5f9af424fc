//! Planning: a request in plain words becomes a plan the user can read and edit, saved as
//! `.tandem/plans/<id>.md`.
//!
//! The flow: [`PlanInputs::gather`] reads what the planner needs from the project index while
//! the caller holds it (the context block of the place, or of the symbols the request names;
//! the workspace's files for validation and the estimate; the offline impact plan), then
//! [`plan_with`] asks the planner role through the router. The answer is untrusted: it is
//! validated (`validate.rs`), repaired once with the problems as feedback, and otherwise
//! refused with a clear error. A valid plan gets a complexity estimate (`estimate.rs`) and is
//! rendered as Markdown (`markdown.rs`); `store.rs` writes it. Without a planner model, the
//! offline engine (`offline.rs`) answers with an impact plan from static analysis.

pub mod estimate;
pub mod markdown;
pub mod offline;
pub mod store;
pub mod validate;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::analysis::index::ProjectIndex;
use crate::analysis::outline::Symbol;
use crate::models::schema::SchemaName;
use crate::models::{Message, ModelError, ModelRequest, ModelRouter, Role, StreamEvent};
use crate::session::config::BUILTIN_MODEL;

pub use estimate::{Estimate, FileFacts, PlanSize};
pub use markdown::{parse_plan, render_plan, ParsedPlan, PlanFileError};

/// What a plan item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanItemKind {
    Create,
    Modify,
    Test,
    Docs,
}

impl PlanItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanItemKind::Create => "create",
            PlanItemKind::Modify => "modify",
            PlanItemKind::Test => "test",
            PlanItemKind::Docs => "docs",
        }
    }

    pub fn parse(text: &str) -> Option<PlanItemKind> {
        match text {
            "create" => Some(PlanItemKind::Create),
            "modify" => Some(PlanItemKind::Modify),
            "test" => Some(PlanItemKind::Test),
            "docs" => Some(PlanItemKind::Docs),
            _ => None,
        }
    }
}

/// One step of a plan (`tandem_plan`'s item, plus whether it runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    pub id: String,
    pub title: String,
    pub kind: PlanItemKind,
    /// Workspace-relative, `/` separators (normalised by validation).
    pub file: String,
    /// Qualified names of the functions and classes it touches.
    pub symbols: Vec<String>,
    /// What the coder is asked to do.
    pub description: String,
    pub depends_on: Vec<String>,
    /// Checked in the plan file; unchecked items are skipped when the plan runs.
    #[serde(default = "checked")]
    pub enabled: bool,
}

fn checked() -> bool {
    true
}

/// A validated plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Short, unique, time-based (`20250114-153012`); the file is `.tandem/plans/<id>.md`.
    pub id: String,
    pub request: String,
    pub summary: String,
    /// The model that wrote it (its name in `[models]`), or `builtin`.
    pub planner: String,
    pub estimate: Estimate,
    /// In dependency order.
    pub items: Vec<PlanItem>,
}

impl Plan {
    /// The items that run (the checked ones, in order), with dependencies on skipped items
    /// dropped, and a note for each dropped dependency.
    pub fn runnable(&self) -> (Vec<PlanItem>, Vec<String>) {
        let skipped: Vec<&str> = self
            .items
            .iter()
            .filter(|i| !i.enabled)
            .map(|i| i.id.as_str())
            .collect();
        let mut notes = Vec::new();
        let items = self
            .items
            .iter()
            .filter(|i| i.enabled)
            .map(|i| {
                let mut item = i.clone();
                item.depends_on.retain(|d| {
                    let keep = !skipped.contains(&d.as_str());
                    if !keep {
                        notes.push(format!(
                            "`{}` depends on `{d}`, which is skipped; it runs without it",
                            item.id
                        ));
                    }
                    keep
                });
                item
            })
            .collect();
        (items, notes)
    }
}

/// Why no plan was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("the request is empty; say what to change")]
    EmptyRequest,
    /// No model of the planner's chain gave an answer (the message says why).
    #[error("{0}")]
    Model(String),
    /// The plan was still invalid after the repair round.
    #[error("the plan from `{planner}` is invalid{}: {}", if *repaired { " after one repair round" } else { "" }, problems.join("; "))]
    Invalid {
        planner: String,
        repaired: bool,
        problems: Vec<String>,
    },
    #[error("planning was cancelled")]
    Cancelled,
}

/// How planning runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSettings {
    /// `run.max_iterations`: the cap of the iteration budget.
    pub max_iterations: u32,
    /// Tokens of context the planner's prompt carries.
    pub context_budget: usize,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            max_iterations: 3,
            context_budget: 6000,
        }
    }
}

/// Where the request is about: an indexed file and a byte offset or range in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFocus {
    /// The path as the index knows it.
    pub path: PathBuf,
    pub range: Option<Range<usize>>,
}

/// Everything the planner needs, read from the index at once so that the model call does not
/// hold it.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    pub request: String,
    /// The context block (focus, callers and callees, profile, repo map), rendered.
    pub context: String,
    /// The workspace's indexed files by workspace-relative path.
    pub files: HashMap<String, FileFacts>,
    pub root: PathBuf,
    /// The offline engine's answer (a `tandem_plan` value), or why it has none.
    pub builtin: Result<Value, String>,
    pub settings: PlanSettings,
}

impl PlanInputs {
    /// Reads the inputs from the index (whose call graph is brought up to date). `doc_files`
    /// are the workspace's documentation files (workspace-relative path, text), for the
    /// offline planner's docs items (see [`store::read_doc_files`]).
    pub fn gather(
        request: &str,
        focus: Option<&PlanFocus>,
        index: &mut ProjectIndex,
        root: &Path,
        doc_files: &[(String, String)],
        settings: PlanSettings,
    ) -> PlanInputs {
        use crate::context::assemble::{assemble, ContextFocus};
        use crate::session::project_files::{profile_of, relative_path, repo_map_of};

        index.graph();
        let display = |p: &Path| relative_path(root, p);
        let focus_symbol = focus.and_then(|f| {
            let file = index.file(&f.path)?;
            let offset = f.range.as_ref()?.start;
            file.outline()
                .symbols_at(offset)
                .last()
                .map(|s| s.qualified_name.clone())
        });
        let focus_file = focus.map(|f| display(&f.path));
        let builtin = offline::impact_plan(
            request,
            index,
            &display,
            focus_symbol.as_deref().or(focus_file.as_deref()),
            doc_files,
        );
        let mut files = HashMap::new();
        for (path, analysis) in index.files() {
            let mut symbols = Vec::new();
            let outline = analysis.outline();
            let mut stack: Vec<&Symbol> = outline.symbols.iter().collect();
            while let Some(s) = stack.pop() {
                symbols.push((s.qualified_name.clone(), s.range.clone()));
                stack.extend(&s.children);
            }
            files.insert(
                display(path),
                FileFacts {
                    text: analysis.text(),
                    symbols,
                },
            );
        }

        // The context of the place; without one, of the first symbol the request names.
        let place: Option<(PathBuf, Option<usize>)> = match focus {
            Some(f) => {
                let line = f.range.as_ref().and_then(|r| {
                    let text = index.file(&f.path)?.text();
                    Some(text[..r.start.min(text.len())].matches('\n').count() + 1)
                });
                Some((f.path.clone(), line))
            }
            None => offline::named_places(request, index, &display)
                .into_iter()
                .next(),
        };
        let profile = profile_of(root, index);
        let map = repo_map_of(root, index);
        let context = match place {
            Some((path, line)) => {
                let display_path = display(&path);
                let focus = ContextFocus {
                    path: &path,
                    display_path: &display_path,
                    line,
                };
                assemble(
                    index,
                    &profile,
                    &map,
                    &focus,
                    settings.context_budget,
                    &display,
                )
                .map(|b| b.render())
            }
            None => None,
        };
        let context = context.unwrap_or_else(|| {
            let project = format!("# Project\n{}", profile.render());
            let left = settings
                .context_budget
                .saturating_sub(crate::context::tokens::estimate_tokens(&project));
            let body = map.render(&crate::context::repomap::Focus::default(), left);
            format!("{project}\n\n# Repository map\n{body}")
        });
        PlanInputs {
            request: request.trim().to_string(),
            context,
            files,
            root: root.to_path_buf(),
            builtin,
            settings,
        }
    }

    fn file_exists(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.root.join(path).is_file()
    }
}

const SYSTEM_PROMPT: &str = "You are the planner of Tandem, a coding agent for Python projects. \
Break the user's request into a plan of small steps that a coder can carry out one at a time, \
seeing only the step and the code it names. Rules: every `file` is relative to the workspace \
root with `/` separators and stays inside it; `modify` only files that exist (they appear in \
the context); a new file is `create`; behaviour changes get `test` items (pytest) and, where \
documentation must change, `docs` items; ids are short and unique (s1, s2, ...); `depends_on` \
names only ids of the plan and never forms a cycle; `symbols` are qualified names \
(package.module.Class.method); each description says precisely what to do. Never touch \
.git/, .tandem/, .vscode/, .idea/ or tandem.toml. Answer with the plan as JSON only.";

fn prompt(inputs: &PlanInputs) -> String {
    let mut files: Vec<&String> = inputs.files.keys().collect();
    files.sort();
    let mut p = format!("The request:\n{}\n\n", inputs.request);
    p.push_str("Context of the place the request is about:\n\n");
    p.push_str(inputs.context.trim_end());
    p.push_str("\n\nPython files of the workspace:\n");
    for f in files.iter().take(300) {
        p.push_str(&format!("- {f}\n"));
    }
    if files.len() > 300 {
        p.push_str(&format!("- … and {} more\n", files.len() - 300));
    }
    p
}

/// The offline engine's answer, attached to the planner's request as facts.
#[derive(Debug, Clone)]
pub struct BuiltinPlan(pub Result<Value, String>);

/// The planner's offline engine: answers with the impact plan attached to the request.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPlanner;

impl crate::models::builtin::OfflineEngine for BuiltinPlanner {
    fn answer(&self, request: &ModelRequest) -> Result<Value, ModelError> {
        let facts = request
            .facts
            .as_ref()
            .and_then(|f| f.downcast_ref::<BuiltinPlan>())
            .ok_or_else(|| crate::models::builtin::Unserved::error(Role::Planner))?;
        facts.0.clone().map_err(|hint| ModelError::Offline {
            role: Role::Planner,
            setting: "roles.planner".to_string(),
            hint,
        })
    }
}

/// The summary and items of a `tandem_plan` answer (already valid against the schema).
pub fn items_of_answer(value: &Value) -> Result<(String, Vec<PlanItem>), Vec<String>> {
    #[derive(Deserialize)]
    struct Answer {
        summary: String,
        items: Vec<PlanItem>,
    }
    let answer: Answer =
        serde_json::from_value(value.clone()).map_err(|e| vec![format!("the answer: {e}")])?;
    let items = answer
        .items
        .into_iter()
        .map(|mut i| {
            i.title = i.title.split_whitespace().collect::<Vec<_>>().join(" ");
            i.description = i.description.replace("\r\n", "\n").trim().to_string();
            i.symbols.retain(|s| !s.trim().is_empty());
            i.enabled = true;
            i
        })
        .collect();
    Ok((answer.summary.trim().to_string(), items))
}

/// Asks the planner, validates its plan (one repair round with the problems as feedback),
/// estimates it and gives it a fresh id.
pub async fn plan_with(
    inputs: &PlanInputs,
    router: &ModelRouter,
    cancel: CancellationToken,
    progress: &(dyn Fn(StreamEvent) + Send + Sync),
) -> Result<Plan, PlanError> {
    if inputs.request.is_empty() {
        return Err(PlanError::EmptyRequest);
    }
    let mut request = ModelRequest::new(SchemaName::Plan, SYSTEM_PROMPT, prompt(inputs))
        .with_facts(BuiltinPlan(inputs.builtin.clone()));
    let exists = |p: &str| inputs.file_exists(p);
    for round in 0..2 {
        let answer = router
            .complete(Role::Planner, request.clone(), cancel.clone(), progress)
            .await
            .map_err(|e| match e {
                ModelError::Cancelled => PlanError::Cancelled,
                e => PlanError::Model(e.to_string()),
            })?;
        let checked = items_of_answer(&answer.value).and_then(|(summary, items)| {
            validate::validate_items(&items, &exists).map(|items| (summary, items))
        });
        match checked {
            Ok((summary, items)) => {
                let estimate =
                    estimate::estimate(&items, &inputs.files, inputs.settings.max_iterations);
                return Ok(Plan {
                    id: store::new_plan_id(),
                    request: inputs.request.clone(),
                    summary,
                    planner: answer.model,
                    estimate,
                    items,
                });
            }
            Err(problems) if round == 0 && answer.model != BUILTIN_MODEL => {
                tracing::info!(
                    "plan from `{}` invalid, asking once more: {}",
                    answer.model,
                    problems.join("; ")
                );
                request = request
                    .with_message(Message::assistant(answer.value.to_string()))
                    .with_message(Message::user(format!(
                        "That plan cannot be used:\n- {}\nAnswer again with the whole corrected plan.",
                        problems.join("\n- ")
                    )));
            }
            Err(problems) => {
                return Err(PlanError::Invalid {
                    planner: answer.model,
                    repaired: round > 0,
                    problems,
                })
            }
        }
    }
    unreachable!("the loop returns in its second round")
}

/// Gathers the inputs from `index` and plans: the whole flow for callers that own the index
/// (the command line). Reads the workspace's documentation files from disk.
pub async fn plan(
    request: &str,
    focus: Option<&PlanFocus>,
    index: &mut ProjectIndex,
    root: &Path,
    router: &ModelRouter,
    settings: PlanSettings,
    cancel: CancellationToken,
) -> Result<Plan, PlanError> {
    let docs = store::read_doc_files(root);
    let inputs = PlanInputs::gather(request, focus, index, root, &docs, settings);
    plan_with(&inputs, router, cancel, &|_| {}).await
}
