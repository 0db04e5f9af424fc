//! The command line. Each command calls the same engine as the language server; only the edges
//! differ (print instead of sending LSP messages).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ropey::Rope;
use serde::Serialize;

mod check;
mod check_cache;
mod doc;
mod graph;
mod models;
mod plan;
mod run;
mod runs;

use crate::analysis::display::render_signature;
use crate::analysis::outline::{outline, Outline, Symbol, SymbolKind};
use crate::analysis::parse::parse_str;
use crate::session::config::{find_workspace_root, load_workspace_config, ConfigProblem};
use crate::session::position::human_line_column;
use crate::session::workspace::{discover_python_files, read_source, SourceRoots};

#[derive(Debug, Parser)]
#[command(
    name = "tandem",
    version,
    about = "A language server that brings a coding agent into any editor for Python projects",
    long_about = "Tandem serves documentation, review, planning and code generation for Python \
                  projects over the Language Server Protocol (`tandem serve`), and runs the same \
                  engine headless from the command line."
)]
pub struct Cli {
    /// Also write logs to this file (logs always go to stderr; filter with TANDEM_LOG).
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// The workspace root. Default: the nearest ancestor of the current directory holding
    /// tandem.toml, pyproject.toml or .git, else the current directory.
    #[arg(long, global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the language server over stdin/stdout (what editors start).
    Serve {
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print the outline (classes, functions, methods with signatures) of Python files or
    /// folders.
    Symbols {
        /// Files or folders; folders are walked honouring .gitignore and .tandemignore.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the context block a model request about a place would carry: the focus symbol,
    /// its callers and callees, the project profile and the repo map, cut to a token budget.
    Context {
        /// A Python file of the workspace, optionally with a 1-based line (`src/app.py:42`).
        #[arg(value_name = "FILE[:LINE]")]
        target: String,
        /// The token budget (estimated; see docs/context.md).
        #[arg(long, default_value_t = 4000, value_name = "TOKENS")]
        budget: usize,
    },
    /// Print the call graph of Python files or folders.
    Graph {
        /// Files or folders; folders are walked honouring .gitignore and .tandemignore.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The folder module names are counted from (default: the workspace root; a project
        /// folder or `src/` inside it is found by itself).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// `json` with locations and call sites, `pycg` (PyCG's adjacency lists), `dot`
        /// (Graphviz) or `mermaid`.
        #[arg(long, value_enum, default_value_t = graph::GraphFormat::Json)]
        format: graph::GraphFormat,
        /// Only the part of the graph around this function, method or class (a qualified
        /// name, or its unambiguous end such as `Cart.add`).
        #[arg(long, value_name = "SYMBOL")]
        focus: Option<String>,
        /// With --focus: how many calls away from the focus to go, both ways.
        #[arg(long, default_value_t = 2, requires = "focus")]
        depth: usize,
    },
    /// Check Python files or folders: docstrings against the code (DOC codes, pydoclint's
    /// numbering). Exit code 1 when there are findings.
    Check(check::CheckArgs),
    /// Write docstrings for every undocumented module, class, function and method: printed as
    /// a unified diff by default, written with --write, checked with --check. Placement, style
    /// and content follow the code; a configured documenter model writes the descriptions,
    /// validated against the code, else the built-in engine does.
    Doc {
        /// Files or folders; folders are walked honouring .gitignore and .tandemignore.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// The docstring style (default: the majority style of the files' docstrings, google
        /// when there is none).
        #[arg(long, value_enum)]
        style: Option<doc::StyleArg>,
        /// Print a unified diff (the default).
        #[arg(long, group = "mode")]
        diff: bool,
        /// Write the docstrings into the files.
        #[arg(long, group = "mode")]
        write: bool,
        /// Exit with code 1 when a docstring is missing (nothing is written).
        #[arg(long, group = "mode")]
        check: bool,
    },
    /// Plan a change: the planner model (or, offline, an impact plan from static analysis)
    /// writes `.tandem/plans/<id>.md`; prints its path and its Markdown.
    Plan {
        /// What to change, in plain words; name symbols in backticks (`Cart.add`).
        #[arg(value_name = "REQUEST")]
        request: String,
        /// The place the request is about: a Python file, optionally with a 1-based line.
        #[arg(long, value_name = "FILE[:LINE]")]
        focus: Option<String>,
    },
    /// List the configured models and each role's chain of models.
    Models {
        /// Also send each model a tiny request and report its latency or the exact failure
        /// (exit code 1 if any fails).
        #[arg(long)]
        check: bool,
    },
    /// Carry out a plan: each checked item through the coder model and the quality gate;
    /// prints a unified diff, writes it with --apply. Exit code 1 unless every item succeeded.
    Run(run::RunArgs),
    /// Print the history of runs (`runs`) or one run's attempts, timings, tokens and errors
    /// (`runs show ID`).
    Runs(runs::RunsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    if let Err(e) = crate::logging::init(cli.log_file.as_deref(), default_level) {
        eprintln!("tandem: error: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Serve { .. } => serve(),
        Command::Symbols { ref paths, format } => symbols(&cli, paths, format),
        Command::Context { ref target, budget } => context(&cli, target, budget),
        Command::Graph {
            ref paths,
            ref root,
            format,
            ref focus,
            depth,
        } => call_graph(
            &cli,
            paths,
            root.as_deref(),
            format,
            focus.as_deref(),
            depth,
        ),
        Command::Doc {
            ref paths,
            style,
            write,
            check,
            ..
        } => document(
            &cli,
            paths,
            style,
            if write {
                doc::DocMode::Write
            } else if check {
                doc::DocMode::Check
            } else {
                doc::DocMode::Diff
            },
        ),
        Command::Plan {
            ref request,
            ref focus,
        } => make_plan(&cli, request, focus.as_deref()),
        Command::Models { check } => list_models(&cli, check),
        Command::Check(ref args) => run_check(&cli, args),
        Command::Runs(ref args) => list_runs(&cli, args),
        Command::Run(ref args) => run_plan(&cli, args),
    };
    match result {
        Ok(code) => code,
        // A reader that stopped early (`tandem symbols … | head`) is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn serve() -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let code = runtime.block_on(crate::lsp::serve());
    // Don't wait for blocking tasks (a workspace scan) after the client asked to exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(ExitCode::from(code as u8))
}

fn call_graph(
    cli: &Cli,
    paths: &[PathBuf],
    root: Option<&Path>,
    format: graph::GraphFormat,
    focus: Option<&str>,
    depth: usize,
) -> Result<ExitCode> {
    let workspace = workspace_root(cli)?;
    let config = report_config(&workspace).config;
    let root = match root {
        Some(root) if !root.is_dir() => {
            anyhow::bail!("--root {} is not a directory", root.display())
        }
        Some(root) => root.to_path_buf(),
        None => workspace,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let args = graph::GraphArgs {
        paths,
        root: &root,
        format,
        focus,
        depth,
    };
    graph::run(&args, &config.workspace, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn run_check(cli: &Cli, args: &check::CheckArgs) -> Result<ExitCode> {
    let root = workspace_root(cli)?;
    let config = report_config(&root).config;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = check::run(
        args,
        &root,
        &config.workspace,
        config.docs.style,
        &config.review,
        &mut out,
    )?;
    out.flush()?;
    Ok(code)
}

fn document(
    cli: &Cli,
    paths: &[PathBuf],
    style: Option<doc::StyleArg>,
    mode: doc::DocMode,
) -> Result<ExitCode> {
    let root = workspace_root(cli)?;
    let loaded = report_config(&root);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let args = doc::DocArgs {
        paths,
        root: &root,
        style,
        mode,
    };
    let code = doc::run(&args, &loaded, &mut out)?;
    out.flush()?;
    Ok(code)
}

fn make_plan(cli: &Cli, request: &str, focus: Option<&str>) -> Result<ExitCode> {
    let root = workspace_root(cli)?;
    let loaded = report_config(&root);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let args = plan::PlanArgs {
        request,
        focus,
        root: &root,
    };
    let code = plan::run(&args, &loaded, &mut out)?;
    out.flush()?;
    Ok(code)
}

fn run_plan(cli: &Cli, args: &run::RunArgs) -> Result<ExitCode> {
    let root = workspace_root(cli)?;
    let loaded = report_config(&root);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = run::run(args, &root, &loaded, &mut out)?;
    out.flush()?;
    Ok(code)
}

fn list_runs(cli: &Cli, args: &runs::RunsArgs) -> Result<ExitCode> {
    let root = workspace_root(cli)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = runs::run(&root, args, &mut out)?;
    out.flush()?;
    Ok(code)
}

fn list_models(cli: &Cli, check: bool) -> Result<ExitCode> {
    let root = workspace_root(cli)?;
    let loaded = report_config(&root);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let code = models::run(&root, &loaded, check, &mut out)?;
    out.flush()?;
    Ok(code)
}

fn context(cli: &Cli, target: &str, budget: usize) -> Result<ExitCode> {
    use crate::context::assemble::{assemble, ContextFocus};
    use crate::session::project_files::{profile_of, relative_path, repo_map_of};

    let (file, line) = parse_place(target)?;
    if !file.is_file() {
        anyhow::bail!("{}: no such file", file.display());
    }
    let root = workspace_root(cli)?;
    let config = report_config(&root).config;
    let (mut index, report) = crate::session::indexer::build_index(
        std::slice::from_ref(&root),
        &config.workspace,
        &|_, _| {},
    );
    for (path, reason) in &report.failed {
        eprintln!("tandem: not analysed {}: {reason}", path.display());
    }
    let wanted = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
    let indexed = index
        .files()
        .map(|(p, _)| p.to_path_buf())
        .find(|p| std::fs::canonicalize(p).is_ok_and(|c| c == wanted))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} is not part of the workspace {} (outside it, ignored, or not Python)",
                file.display(),
                root.display()
            )
        })?;
    if let (Some(line), Some(analysed)) = (line, index.file(&indexed)) {
        check_line(&file.display().to_string(), &analysed.text(), line)?;
    }
    let profile = profile_of(&root, &index);
    let map = repo_map_of(&root, &index);
    let display_path = relative_path(&root, &indexed);
    let focus = ContextFocus {
        path: &indexed,
        display_path: &display_path,
        line,
    };
    let display = |p: &Path| relative_path(&root, p);
    let block = assemble(&mut index, &profile, &map, &focus, budget, &display)
        .ok_or_else(|| anyhow::anyhow!("{} is not in the index", file.display()))?;
    print!("{}", block.render());
    let layers: Vec<String> = block
        .layers
        .iter()
        .map(|l| {
            format!(
                "{} {}{}",
                l.title,
                l.tokens,
                if l.truncated { " (cut)" } else { "" }
            )
        })
        .collect();
    eprintln!(
        "tandem: context for {}: {} of {} tokens ({})",
        block.focus,
        block.tokens(),
        budget,
        layers.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `FILE[:LINE]`: the path and the line (counted from 1) when one is given. A path that
/// itself ends in `:digits` is unlikely for Python.
pub(crate) fn parse_place(target: &str) -> Result<(PathBuf, Option<usize>)> {
    Ok(match target.rsplit_once(':') {
        Some((path, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => (
            PathBuf::from(path),
            Some(line.parse::<usize>().context("line number")?),
        ),
        _ => (PathBuf::from(target), None),
    })
}

/// Refuses a line `text` does not have: a mistake (a stale line number, say), not a request
/// about the module. `what` names the file in the error.
pub(crate) fn check_line(what: &str, text: &str, line: usize) -> Result<()> {
    // The empty line after a final newline counts, as an editor's cursor can be there (it
    // is outside every definition, so the module is the focus).
    let places = crate::session::position::LineIndex::new(text).line_count();
    if line == 0 || line > places {
        let lines = text.lines().count();
        anyhow::bail!("{what}: no line {line} (lines are counted from 1; the file has {lines})");
    }
    Ok(())
}

fn workspace_root(cli: &Cli) -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = find_workspace_root(cli.workspace.as_deref(), &cwd);
    if !root.is_dir() {
        anyhow::bail!("workspace {} is not a directory", root.display());
    }
    Ok(root)
}

/// Prints configuration problems to stderr, as the command line's way of showing them.
fn report_config(root: &Path) -> crate::session::config::LoadedConfig {
    let loaded = load_workspace_config(root);
    for problem in &loaded.problems {
        match problem {
            ConfigProblem::Warning(m) => eprintln!("tandem: warning: {m}"),
            ConfigProblem::Error(m) => eprintln!("tandem: error: {m} (using defaults)"),
        }
    }
    loaded
}

#[derive(Serialize)]
struct FileOutline<'a> {
    path: String,
    module: &'a str,
    docstring: Option<&'a str>,
    symbols: Vec<JsonSymbol<'a>>,
    syntax_errors: Vec<JsonSpan>,
}

#[derive(Serialize)]
struct JsonSpan {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct JsonSymbol<'a> {
    name: &'a str,
    qualified_name: &'a str,
    kind: SymbolKind,
    is_async: bool,
    #[serde(flatten)]
    span: JsonSpan,
    signature: Option<&'a crate::analysis::outline::Signature>,
    bases: &'a [String],
    decorators: &'a [String],
    docstring: Option<&'a str>,
    is_stub: bool,
    children: Vec<JsonSymbol<'a>>,
}

fn span(rope: &Rope, range: std::ops::Range<usize>) -> JsonSpan {
    let (line, column) = human_line_column(rope, range.start);
    let (end_line, end_column) = human_line_column(rope, range.end);
    JsonSpan {
        line,
        column,
        end_line,
        end_column,
    }
}

fn json_symbol<'a>(s: &'a Symbol, rope: &Rope) -> JsonSymbol<'a> {
    JsonSymbol {
        name: &s.name,
        qualified_name: &s.qualified_name,
        kind: s.kind,
        is_async: s.is_async,
        span: span(rope, s.range.clone()),
        signature: s.signature.as_ref(),
        bases: &s.bases,
        decorators: &s.decorators,
        docstring: s.docstring.as_ref().map(|d| d.text.as_str()),
        is_stub: s.is_stub,
        children: s.children.iter().map(|c| json_symbol(c, rope)).collect(),
    }
}

fn symbols(cli: &Cli, paths: &[PathBuf], format: Format) -> Result<ExitCode> {
    let root = workspace_root(cli)?;
    let config = report_config(&root).config;
    for path in paths {
        if !path.exists() {
            anyhow::bail!("{}: no such file or directory", path.display());
        }
    }
    let found = discover_python_files(paths, &config.workspace);
    let roots = SourceRoots::for_workspace(std::slice::from_ref(&root));
    for (path, reason) in &found.skipped {
        eprintln!("tandem: skipping {}: {reason}", path.display());
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut json_files = Vec::new();
    let mut parsed: Vec<(String, Rope, Outline)> = Vec::new();
    for path in &found.files {
        let text = match read_source(path, config.workspace.max_file_size) {
            Ok(text) => text,
            Err(reason) => {
                eprintln!("tandem: skipping {}: {reason}", path.display());
                continue;
            }
        };
        let tree = parse_str(&text, None);
        let module = roots.module_of(path).name;
        let outline = outline(&tree, &text, &module);
        parsed.push((display_path(path, &root), Rope::from_str(&text), outline));
    }
    for (path, rope, outline) in &parsed {
        match format {
            Format::Text => write_text(&mut out, path, rope, outline)?,
            Format::Json => json_files.push(FileOutline {
                path: path.clone(),
                module: &outline.module,
                docstring: outline.docstring.as_ref().map(|d| d.text.as_str()),
                symbols: outline
                    .symbols
                    .iter()
                    .map(|s| json_symbol(s, rope))
                    .collect(),
                syntax_errors: outline
                    .syntax_errors
                    .iter()
                    .map(|r| span(rope, r.clone()))
                    .collect(),
            }),
        }
    }
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &json_files)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Paths print relative to the workspace root when they are inside it, else as given.
/// `path` relative to `root` when it is inside it (both canonicalized), else as given: how
/// every command names files in its output.
pub(super) fn display_path(path: &Path, root: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    match absolute.strip_prefix(&root) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

fn write_text(out: &mut impl Write, path: &str, rope: &Rope, outline: &Outline) -> Result<()> {
    for error in &outline.syntax_errors {
        let (line, col) = human_line_column(rope, error.start);
        writeln!(out, "{path}:{line}:{col}: syntax error")?;
    }
    let mut stack: Vec<(&Symbol, usize)> = outline.symbols.iter().rev().map(|s| (s, 0)).collect();
    while let Some((symbol, depth)) = stack.pop() {
        let (line, col) = human_line_column(rope, symbol.name_range.start);
        let keyword = match (symbol.kind, symbol.is_async) {
            (SymbolKind::Class, _) => "class",
            (_, true) => "async def",
            (_, false) => "def",
        };
        let detail = match (&symbol.signature, symbol.bases.is_empty()) {
            (Some(sig), _) => render_signature(sig),
            (None, false) => format!("({})", symbol.bases.join(", ")),
            (None, true) => String::new(),
        };
        let mut notes = Vec::new();
        if symbol.docstring.is_none() {
            notes.push("undocumented");
        }
        if symbol.is_stub {
            notes.push("stub");
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  [{}]", notes.join(", "))
        };
        writeln!(
            out,
            "{path}:{line}:{col}: {:indent$}{keyword} {}{detail}{notes}",
            "",
            symbol.qualified_name,
            indent = depth * 2
        )?;
        stack.extend(symbol.children.iter().rev().map(|c| (c, depth + 1)));
    }
    Ok(())
}
