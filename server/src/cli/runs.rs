//! `tandem runs`: the history of runs (`runs`) and one run's attempts (`runs show ID`), as a
//! table or JSON, read from the workspace's run store.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::Format;
use crate::runs::time::{format_duration, format_utc, now_ms};
use crate::runs::{RunDetails, RunStore, RunSummary};

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub action: Option<RunsAction>,
    /// `text` (a table) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
    /// How many runs to list, most recent first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, Subcommand)]
pub enum RunsAction {
    /// One run: its items, every attempt with timings, tokens and errors, and its events.
    Show {
        /// The run id, or an unambiguous start of it.
        id: String,
    },
}

pub fn run(root: &Path, args: &RunsArgs, out: &mut impl Write) -> Result<ExitCode> {
    let store = RunStore::open_existing(root)?;
    match &args.action {
        None => {
            let runs = match &store {
                Some(store) => store.list_runs(args.limit)?,
                None => Vec::new(),
            };
            match args.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut *out, &runs)?;
                    writeln!(out)?;
                }
                Format::Text if runs.is_empty() => writeln!(out, "no runs yet")?,
                Format::Text => write_table(out, &runs)?,
            }
        }
        Some(RunsAction::Show { id }) => {
            let Some(store) = store else {
                anyhow::bail!(
                    "no run `{id}` (the workspace {} has no runs yet)",
                    root.display()
                );
            };
            let details = store.show_run(id)?;
            match args.format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut *out, &details)?;
                    writeln!(out)?;
                }
                Format::Text => write_details(out, &details)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".to_string())
}

fn write_table(out: &mut impl Write, runs: &[RunSummary]) -> Result<()> {
    let now = now_ms();
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                r.kind.clone(),
                r.status.to_string(),
                or_dash(r.started_at.map(format_utc)),
                or_dash(r.duration_ms(now).map(format_duration)),
                format!("{}/{}", r.tokens.input, r.tokens.output),
            ]
        })
        .collect();
    let header = [
        "ID",
        "KIND",
        "STATUS",
        "STARTED (UTC)",
        "DURATION",
        "TOKENS IN/OUT",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s
    };
    writeln!(out, "{}", line(&header.map(String::from)))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

fn write_details(out: &mut impl Write, d: &RunDetails) -> Result<()> {
    let r = &d.run;
    let now = now_ms();
    writeln!(out, "run {} ({}): {}", r.id, r.kind, r.status)?;
    writeln!(out, "request: {}", r.request)?;
    if let Some(plan) = &r.plan_id {
        writeln!(out, "plan: {plan}")?;
    }
    writeln!(out, "created: {}", format_utc(r.created_at))?;
    if let Some(start) = r.started_at {
        writeln!(out, "started: {}", format_utc(start))?;
    }
    if let Some(end) = r.finished_at {
        writeln!(out, "ended: {}", format_utc(end))?;
    }
    if let Some(ms) = r.duration_ms(now) {
        writeln!(out, "duration: {}", format_duration(ms))?;
    }
    writeln!(
        out,
        "tokens: {} in, {} out",
        r.tokens.input, r.tokens.output
    )?;
    if let Some(error) = &r.error {
        writeln!(out, "error: {error}")?;
    }
    if !d.items.is_empty() {
        writeln!(out, "items: {}", d.items.join(", "))?;
        if !d.pending_items.is_empty() {
            writeln!(out, "not done: {}", d.pending_items.join(", "))?;
        }
    }
    if d.steps.is_empty() {
        writeln!(out, "no attempts")?;
        return Ok(());
    }
    writeln!(out, "attempts:")?;
    for s in &d.steps {
        let duration = s
            .finished_at
            .map(|end| format_duration(end - s.started_at))
            .unwrap_or_else(|| "-".to_string());
        write!(
            out,
            "  {} #{}: {}  started {}  {}  tokens {}/{}",
            s.item_id,
            s.attempt,
            s.status,
            format_utc(s.started_at),
            duration,
            s.tokens.input,
            s.tokens.output
        )?;
        match &s.error {
            Some(e) => writeln!(out, "  error: {}", e.replace('\n', " "))?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}
