//! Planning in the editor: `tandem.plan {request, uri?, range?}`.
//!
//! The command answers at once and works in a spawned task: it reads the planner's inputs from
//! the index on the blocking pool, asks the planner (with a cancellable `$/progress`), writes
//! `.tandem/plans/<id>.md`, opens it with `window/showDocument` when the client can, and tells
//! the user the plan's id, item count and estimate (`window/showMessage`); errors are shown
//! as Error messages.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::commands::{command_args, spawn_reported};
use super::convert;
use super::progress::{forward_reports, JobProgress};
use super::server::ServerState;
use crate::agent::plan::{plan_with, store, Plan, PlanFocus, PlanInputs, PlanSettings};
use crate::models::StreamEvent;
use crate::session::position::LineIndex;

/// The command that plans a change.
pub const PLAN_COMMAND: &str = "tandem.plan";

/// How long planning with a model may take.
const PLAN_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a plan waits for the workspace's first index.
const INDEX_WAIT: Duration = Duration::from_secs(120);

/// The arguments of `tandem.plan`.
#[derive(Debug, Deserialize)]
struct PlanArgs {
    request: String,
    uri: Option<Uri>,
    range: Option<Range>,
}

/// `workspace/executeCommand tandem.plan`: checks the arguments, starts the work in a spawned
/// task and answers at once.
pub(super) fn execute(
    client: &Client,
    state: &Arc<ServerState>,
    arguments: Vec<Value>,
) -> Result<Option<Value>> {
    let args: PlanArgs = command_args(PLAN_COMMAND, "{request, uri?, range?}", arguments)?;
    if args.request.trim().is_empty() {
        return Err(Error::invalid_params(
            "tandem.plan: the request is empty; say what to change",
        ));
    }
    if state.folders().is_empty() {
        return Err(Error::invalid_params(
            "tandem.plan needs a workspace folder to write the plan in",
        ));
    }
    let state = state.clone();
    let task_client = client.clone();
    spawn_reported(client, PLAN_COMMAND, async move {
        plan_and_open(&task_client, &state, args).await
    });
    Ok(None)
}

async fn plan_and_open(
    client: &Client,
    state: &Arc<ServerState>,
    args: PlanArgs,
) -> std::result::Result<String, String> {
    let root = state
        .folders()
        .into_iter()
        .next()
        .ok_or("no workspace folder")?;
    let settings = PlanSettings {
        max_iterations: state
            .config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .config
            .run
            .max_iterations
            .max(1),
        ..PlanSettings::default()
    };
    // A plan made from half an index would miss files: wait for the cold build (it reports
    // its own progress), up to a limit.
    let waited = std::time::Instant::now();
    while !state.index_ready.load(std::sync::atomic::Ordering::SeqCst) {
        if waited.elapsed() > INDEX_WAIT {
            return Err(format!(
                "the workspace is still being indexed after {}s; plan again when it is done",
                INDEX_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The index lock may be held by a re-solve: read it on the blocking pool.
    let inputs = {
        let state = state.clone();
        let root = root.clone();
        let encoding = state.encoding();
        tokio::task::spawn_blocking(move || {
            let docs = store::read_doc_files(&root);
            let mut index = state.index.lock().unwrap_or_else(|e| e.into_inner());
            let focus = args.uri.as_ref().map(|uri| {
                let path = uri
                    .to_file_path()
                    .map(|p| p.into_owned())
                    .unwrap_or_else(|| PathBuf::from(uri.path().as_str()));
                let range = args.range.and_then(|r| {
                    let text = index.file(&path)?.text();
                    let lines = LineIndex::new(&text);
                    let start = lines.offset_of(convert::text_position(r.start), encoding);
                    let end = lines.offset_of(convert::text_position(r.end), encoding);
                    Some(start..end.max(start))
                });
                PlanFocus { path, range }
            });
            PlanInputs::gather(
                &args.request,
                focus.as_ref(),
                &mut index,
                &root,
                &docs,
                settings,
            )
        })
        .await
        .map_err(|e| format!("planning failed: {e}"))?
    };

    let router = state.router();
    let cancel = tokio_util::sync::CancellationToken::new();
    let progress = JobProgress::begin(
        client,
        state,
        &cancel,
        "plan",
        "Planning",
        "reading the project".to_string(),
    )
    .await;
    let (tx, forward) = forward_reports(&progress, |message: String| (message, 0, 0));
    let on_event = move |event: StreamEvent| {
        let message = match event {
            StreamEvent::Started { model } => format!("asking {model}"),
            StreamEvent::Repairing { model, .. } => format!("{model}: repairing the answer"),
            StreamEvent::Retrying { model, attempt, .. } => {
                format!("{model}: retry {attempt}")
            }
            StreamEvent::Skipped { model, .. } => format!("{model} skipped"),
            _ => return,
        };
        let _ = tx.send(message);
    };
    let run = tokio::time::timeout(
        PLAN_TIMEOUT,
        plan_with(&inputs, &router, cancel.clone(), &on_event),
    )
    .await;
    drop(on_event);
    if let Some(forward) = forward {
        let _ = forward.await;
    }
    let result = match run {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => {
            cancel.cancel();
            Err(format!(
                "planning took longer than {}s and was stopped",
                PLAN_TIMEOUT.as_secs()
            ))
        }
    };
    if let Some(p) = progress {
        let message = match &result {
            Ok(plan) => format!("planned {} items", plan.items.len()),
            Err(e) => e.clone(),
        };
        p.end(state, message).await;
    }
    let mut plan: Plan = result?;
    let (plan, path) = tokio::task::spawn_blocking(move || {
        store::save_plan(&root, &mut plan).map(|path| (plan, path))
    })
    .await
    .map_err(|e| format!("planning failed: {e}"))?
    .map_err(|e| format!("cannot write the plan: {e}"))?;

    if state
        .client_shows_documents
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        match Uri::from_file_path(&path) {
            Some(uri) => {
                let shown = tokio::time::timeout(
                    Duration::from_secs(10),
                    client.show_document(ShowDocumentParams {
                        uri,
                        external: Some(false),
                        take_focus: Some(true),
                        selection: None,
                    }),
                )
                .await;
                if !matches!(shown, Ok(Ok(true))) {
                    tracing::info!("the editor did not open {}", path.display());
                }
            }
            None => tracing::warn!("no URI for {}", path.display()),
        }
    }
    let n = plan.items.len();
    Ok(format!(
        "plan {} by `{}`: {n} item{} ({}); edit .tandem/plans/{}.md to change what runs",
        plan.id,
        plan.planner,
        if n == 1 { "" } else { "s" },
        plan.estimate.render().replace("**", ""),
        plan.id
    ))
}
