//! `tandem run PLAN [--apply] [--resume RUN_ID]`: a plan's items through the coder and the
//! quality gate, headless. Reads the plan file (the user's edits included), runs the checked
//! items, prints a unified diff of what the succeeded items change, and writes it only with
//! `--apply` (atomically, each file checked against the text the edits were computed from).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use crate::agent::execute::{execute, item_contexts, ExecEvent, ExecSettings};
use crate::agent::plan::{parse_plan, store::plan_path};
use crate::runs::{NewRun, RunStatus, RunStore};
use crate::session::config::LoadedConfig;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A plan id or the path of a plan file (`.tandem/plans/<id>.md`). With --resume it may
    /// be left out: the run's plan is used.
    #[arg(value_name = "PLAN")]
    pub plan: Option<String>,
    /// Write the changes of the succeeded items into the files (default: print a diff).
    #[arg(long)]
    pub apply: bool,
    /// Finish a failed or interrupted run: only its items not yet done run.
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Seconds the test command (`run.test_command`) may take.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub test_timeout: u64,
}

fn plan_file(root: &Path, plan: &str) -> PathBuf {
    let given = PathBuf::from(plan);
    if given.is_file() || plan.ends_with(".md") || plan.contains('/') {
        given
    } else {
        plan_path(root, plan)
    }
}

pub fn run(
    args: &RunArgs,
    root: &Path,
    loaded: &LoadedConfig,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let config = &loaded.config;
    let store = RunStore::open(root).context("cannot open the run store")?;
    // A run killed while writing its files is completed before this one reads them.
    for note in crate::edits::finish_interrupted(root) {
        eprintln!("tandem: {note}");
    }
    let resumed = match &args.resume {
        Some(id) => Some(store.show_run(id)?),
        None => None,
    };
    let plan_ref = match (&args.plan, &resumed) {
        (Some(p), _) => p.clone(),
        (None, Some(details)) => details
            .run
            .plan_id
            .clone()
            .ok_or_else(|| anyhow::anyhow!("run {} has no plan; name it", details.run.id))?,
        (None, None) => anyhow::bail!("name a plan (its id or its file), or --resume a run"),
    };
    let path = plan_file(root, &plan_ref);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the plan {}", path.display()))?;
    let parsed = parse_plan(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.problems.join("; ")))?;
    for w in &parsed.warnings {
        eprintln!("tandem: {}: {w}", path.display());
    }
    let plan = parsed.plan;
    let skipped: Vec<&str> = plan
        .items
        .iter()
        .filter(|i| !i.enabled)
        .map(|i| i.id.as_str())
        .collect();
    if !skipped.is_empty() {
        eprintln!("tandem: skipped (unchecked): {}", skipped.join(", "));
    }
    let (mut items, notes) = plan.runnable();
    for n in &notes {
        eprintln!("tandem: {n}");
    }
    let run_id = match &resumed {
        Some(details) => {
            let pending = store.pending_items(&details.run.id)?;
            items.retain(|i| pending.contains(&i.id));
            eprintln!(
                "tandem: resuming run {}: {}",
                details.run.id,
                if items.is_empty() {
                    "nothing left to do".to_string()
                } else {
                    items
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            details.run.id.clone()
        }
        None => {
            let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
            store.create_run(&NewRun {
                kind: "execute",
                request: &plan.request,
                plan_id: Some(&plan.id),
                items: &ids,
            })?
        }
    };
    eprintln!(
        "tandem: run {run_id} of plan {}: {} items",
        plan.id,
        items.len()
    );

    let (mut index, report) =
        crate::session::indexer::build_index(&[root.to_path_buf()], &config.workspace, &|_, _| {});
    for (p, reason) in &report.failed {
        eprintln!("tandem: not analysed {}: {reason}", p.display());
    }
    let contexts = item_contexts(&items, &mut index, root);
    drop(index);
    let router = crate::models::ModelRouter::from_config(config, Some(root))
        .map_err(|e| anyhow::anyhow!("models configuration: {e}"))?;
    crate::agent::register_offline_engines(&router);
    let settings = ExecSettings {
        max_attempts: plan
            .estimate
            .iterations
            .min(config.run.max_iterations)
            .max(1),
        concurrency: config.run.concurrency.max(1),
        quality_threshold: config.run.quality_threshold,
        test_command: config.run.test_command.clone(),
        test_timeout: Duration::from_secs(args.test_timeout.max(1)),
        review: config.review.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let progress = |event: ExecEvent| eprintln!("tandem: {}", event.describe(true));
    let outcome = runtime.block_on(async {
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c.cancel();
            }
        });
        execute(
            &items,
            root,
            &contexts,
            &router,
            &store,
            &run_id,
            &settings,
            cancel.clone(),
            &progress,
        )
        .await
    });
    runtime.shutdown_timeout(Duration::from_millis(100));

    let diff = outcome.changes.diff();
    write!(out, "{diff}")?;
    out.flush()?;
    if outcome.status == RunStatus::Cancelled {
        eprintln!("tandem: run {run_id} was cancelled; nothing was written");
        return Ok(ExitCode::FAILURE);
    }
    if args.apply && !outcome.changes.is_empty() {
        let written =
            crate::edits::apply(root, &outcome.changes).map_err(|e| anyhow::anyhow!("{e}"))?;
        let names: Vec<String> = written.iter().map(|p| p.relative().to_string()).collect();
        eprintln!("tandem: wrote {}", names.join(", "));
    } else if !outcome.changes.is_empty() {
        eprintln!("tandem: nothing written; run again with --apply to write these changes");
    }
    for item in &outcome.items {
        if let Some(n) = &item.notes {
            eprintln!("tandem: {}: note: {n}", item.id);
        }
    }
    eprintln!("tandem: run {run_id}: {}", outcome.status);
    Ok(if outcome.status == RunStatus::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
