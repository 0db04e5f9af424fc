//! `tandem plan "REQUEST" [--focus FILE[:LINE]]`: the planner headless. Indexes the workspace,
//! plans with the planner's chain (the offline impact plan without a model), writes
//! `.tandem/plans/<id>.md` and prints its path and its Markdown.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::agent::plan::{plan, render_plan, store, PlanFocus, PlanSettings};
use crate::session::config::LoadedConfig;

pub struct PlanArgs<'a> {
    pub request: &'a str,
    pub focus: Option<&'a str>,
    pub root: &'a Path,
}

pub fn run(args: &PlanArgs<'_>, loaded: &LoadedConfig, out: &mut impl Write) -> Result<ExitCode> {
    let config = &loaded.config;
    let (mut index, report) = crate::session::indexer::build_index(
        &[args.root.to_path_buf()],
        &config.workspace,
        &|_, _| {},
    );
    for (path, reason) in &report.failed {
        eprintln!("tandem: not analysed {}: {reason}", path.display());
    }
    let focus = match args.focus {
        Some(target) => Some(focus_of(target, &index, args.root)?),
        None => None,
    };
    let router = crate::models::ModelRouter::from_config(config, Some(args.root))
        .map_err(|e| anyhow::anyhow!("models configuration: {e}"))?;
    crate::agent::register_offline_engines(&router);
    let settings = PlanSettings {
        max_iterations: config.run.max_iterations.max(1),
        ..PlanSettings::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let mut plan = runtime
        .block_on(plan(
            args.request,
            focus.as_ref(),
            &mut index,
            args.root,
            &router,
            settings,
            cancel,
        ))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = store::save_plan(args.root, &mut plan)
        .with_context(|| format!("cannot write the plan under {}", args.root.display()))?;
    writeln!(out, "{}", path.display())?;
    writeln!(out)?;
    write!(out, "{}", render_plan(&plan))?;
    eprintln!(
        "tandem: plan {} by `{}`: {} items; {}",
        plan.id,
        plan.planner,
        plan.items.len(),
        plan.estimate.render().replace("**", "")
    );
    Ok(ExitCode::SUCCESS)
}

/// `FILE[:LINE]` as a place in the index.
fn focus_of(
    target: &str,
    index: &crate::analysis::index::ProjectIndex,
    root: &Path,
) -> Result<PlanFocus> {
    let (file, line) = super::parse_place(target)?;
    if !file.is_file() {
        anyhow::bail!("--focus {}: no such file", file.display());
    }
    let wanted = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
    let (indexed, analysis) = index
        .files()
        .find(|(p, _)| std::fs::canonicalize(p).is_ok_and(|c| c == wanted))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--focus {} is not part of the workspace {} (outside it, ignored, or not Python)",
                file.display(),
                root.display()
            )
        })?;
    if let Some(line) = line {
        super::check_line(
            &format!("--focus {}", file.display()),
            &analysis.text(),
            line,
        )?;
    }
    let range = line.map(|line| {
        let text = analysis.text();
        let text: &str = &text;
        let start = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>()
            .min(text.len());
        // The first non-blank character of the line, so that the line's definition is found.
        let indent = text[start..]
            .find(|c: char| c != ' ' && c != '\t')
            .unwrap_or(0);
        let at = (start + indent).min(text.len());
        at..at
    });
    Ok(PlanFocus {
        path: indexed.to_path_buf(),
        range,
    })
}
