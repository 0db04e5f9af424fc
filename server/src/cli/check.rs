//! `tandem check`: runs the built-in review rules (TDM) and the docstring checks (DOC) over
//! files and folders on all cores and prints the findings as `path:line:col: CODE message`, as
//! the JSON array other tools read (see GUIDE.md), or as SARIF 2.1.0 for code scanning. `# noqa`
//! comments suppress findings of both families; `--select`/`--ignore` (else `review.select` /
//! `review.ignore` from the configuration) choose codes by prefix. Exit code 1 when there are
//! findings, 0 when there are none, 2 for usage errors.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use super::check_cache::{CheckCache, FileResult, TextKey};
use super::display_path;

use crate::analysis::outline::Outline;
use crate::analysis::project_rules::{
    bad_calls_in, file_facts, unused_definitions_of, FactsWalk, FileFacts, Project, ProjectFile,
    Usage, BAD_CALL, UNUSED,
};
use serde::{Deserialize, Serialize};
use tree_sitter::Node;

use crate::analysis::docstring::checks::{
    check_source_deferred, is_mention_known, DocCheckOptions,
};
use crate::analysis::docstring::parse::DocstringStyle;
use crate::analysis::finding::{apply_noqa, CodeSelection, Finding, Severity};
use crate::analysis::parse::parse_str;
use crate::analysis::rules::{self, catalog, RuleOptions};
use crate::session::config::{DocsStyle, ReviewConfig, WorkspaceConfig};
use crate::session::position::LineIndex;
use crate::session::workspace::{discover_python_files, read_source};

/// The arguments of `tandem check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders; folders are walked honouring .gitignore and .tandemignore.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only these codes or code prefixes, comma-separated (`TDM`, `DOC1,TDM004`); replaces
    /// `review.select` from the configuration.
    #[arg(long, value_name = "CODES")]
    pub select: Vec<String>,
    /// Leave out these codes or code prefixes, comma-separated; replaces `review.ignore`.
    #[arg(long, value_name = "CODES")]
    pub ignore: Vec<String>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// The docstring style (default: `docs.style` from the configuration; `auto` reads each
    /// docstring in the style it shows).
    #[arg(long, value_enum, value_name = "STYLE")]
    pub style: Option<StyleArg>,
    /// Docstrings give argument types (DOC105 compares them with the annotations).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "true")]
    pub arg_type_hints_in_docstring: bool,
    /// Signatures give argument types (DOC105 compares them with the docstring).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "true")]
    pub arg_type_hints_in_signature: bool,
    /// Report arguments documented in another order than the signature's (DOC104).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "true")]
    pub check_arg_order: bool,
    /// Do not check docstrings that have only a summary and description.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "true")]
    pub skip_checking_short_docstrings: bool,
    /// Do not check Raises sections (DOC501-DOC503).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "false")]
    pub skip_checking_raises: bool,
    /// Let `__init__` have its own docstring, checked instead of the class docstring.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "false")]
    pub allow_init_docstring: bool,
    /// Compare Returns types with the return annotation (DOC203).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "true")]
    pub check_return_types: bool,
    /// Compare Yields types with the return annotation (DOC404).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, value_parser = parse_bool, default_value = "true")]
    pub check_yield_types: bool,
    /// Neither read nor write the cache of results (`.tandem/cache/check/` of the
    /// workspace): check every file from scratch.
    #[arg(long)]
    pub no_cache: bool,
    /// Keep the cache of results in this folder instead of `.tandem/cache/check/`.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Also have the reviewer model review each file (codes AI001-AI005; needs a model in
    /// `[roles] reviewer`, see docs/review.md).
    #[arg(long)]
    pub ai: bool,
}

/// `true`/`false` in any case (pydoclint writes `True`/`False`), or `1`/`0`.
fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("`{value}` is not true or false")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code scanning in CI.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StyleArg {
    Auto,
    Google,
    Numpy,
    Sphinx,
}

/// A finding with its file and 1-based place, as printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrintedFinding {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

fn located(path: &str, index: &LineIndex<'_>, finding: Finding) -> PrintedFinding {
    let (line, column) = index.human_line_column(finding.range.start);
    let (end_line, end_column) = index.human_line_column(finding.range.end);
    PrintedFinding {
        path: path.to_string(),
        line,
        column,
        end_line,
        end_column,
        code: finding.code,
        severity: finding.severity,
        message: finding.message,
    }
}

/// Runs `tandem check`; `config_style` is `docs.style` and `review` the `[review]` section
/// from the configuration.
pub fn run(
    args: &CheckArgs,
    root: &Path,
    workspace: &WorkspaceConfig,
    config_style: DocsStyle,
    review: &ReviewConfig,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let selection = match selection(args, review) {
        Ok(selection) => selection,
        Err(message) => {
            eprintln!("tandem: error: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    for path in &args.paths {
        if !path.exists() {
            eprintln!(
                "tandem: error: {}: no such file or directory",
                path.display()
            );
            return Ok(ExitCode::from(2));
        }
    }
    let style = match args.style {
        Some(StyleArg::Auto) => None,
        Some(StyleArg::Google) => Some(DocstringStyle::Google),
        Some(StyleArg::Numpy) => Some(DocstringStyle::Numpy),
        Some(StyleArg::Sphinx) => Some(DocstringStyle::Sphinx),
        None => match config_style {
            DocsStyle::Auto => None,
            DocsStyle::Google => Some(DocstringStyle::Google),
            DocsStyle::Numpy => Some(DocstringStyle::Numpy),
            DocsStyle::Sphinx => Some(DocstringStyle::Sphinx),
        },
    };
    let opts = DocCheckOptions {
        style,
        arg_type_hints_in_signature: args.arg_type_hints_in_signature,
        arg_type_hints_in_docstring: args.arg_type_hints_in_docstring,
        check_arg_order: args.check_arg_order,
        skip_checking_short_docstrings: args.skip_checking_short_docstrings,
        skip_checking_raises: args.skip_checking_raises,
        allow_init_docstring: args.allow_init_docstring,
        check_return_types: args.check_return_types,
        check_yield_types: args.check_yield_types,
        ..DocCheckOptions::default()
    };
    let found = discover_python_files(&args.paths, workspace);
    for (path, reason) in &found.skipped {
        eprintln!("tandem: skipping {}: {reason}", path.display());
    }
    let run_doc = selection.wants_family("DOC");
    let rule_opts = RuleOptions {
        max_complexity: review.max_complexity,
        max_statements: review.max_statements,
        selection: selection.clone(),
        test_file: false,
    };
    let run_project = selection.is_selected(UNUSED) || selection.is_selected(BAD_CALL);
    let mut cache = (!args.no_cache).then(|| {
        let dir = args
            .cache_dir
            .clone()
            .unwrap_or_else(|| CheckCache::default_dir(root));
        CheckCache::open(
            root,
            &dir,
            &format!("{selection:?}\n{opts:?}\n{rule_opts:?}\n{run_doc}"),
        )
    });
    // The project is what is being checked: the given files and folders, with module names
    // counted from the workspace root (as `tandem graph` does).
    let roots = crate::session::workspace::SourceRoots::for_workspace(&[root.to_path_buf()]);
    let texts: Vec<(&PathBuf, String)> = found
        .files
        .par_iter()
        .filter_map(|path| match read_source(path, workspace.max_file_size) {
            Ok(text) => Some((path, text)),
            Err(reason) => {
                eprintln!("tandem: skipping {}: {reason}", path.display());
                None
            }
        })
        .collect();
    // What the cache knows texts by (hashing every text is wasted without a cache).
    let keys: Vec<TextKey> = match cache {
        Some(_) => texts
            .par_iter()
            .map(|(_, text)| TextKey::of(text))
            .collect(),
        None => Vec::new(),
    };
    let entry_points = if run_project {
        entry_points(root)
    } else {
        Vec::new()
    };
    // The cache knows files by their absolute paths (the paths given may be relative to the
    // current folder).
    let absolute: Vec<PathBuf> = texts
        .iter()
        .map(|(p, _)| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
        .collect();
    let project_key = (run_project && cache.is_some()).then(|| {
        let keys: Vec<(&Path, TextKey)> = absolute
            .iter()
            .zip(&keys)
            .map(|(p, k)| (p.as_path(), *k))
            .collect();
        CheckCache::project_key(&keys, &entry_points)
    });
    let cached_project: Option<Vec<PrintedFinding>> = cache
        .as_ref()
        .zip(project_key.as_ref())
        .and_then(|(c, key)| c.project_findings(key))
        .map(<[PrintedFinding]>::to_vec);
    let need_parts = run_project && cached_project.is_none();
    // The largest files first, so that no core is left alone with a big file at the end, and
    // one file per task: with rayon's default splitting, one core sometimes ran out of work
    // about 40 ms before the other on Django (wall times of 0.30 or 0.34 s for the same CPU
    // time). The results go back into path order afterwards.
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(texts[i].1.len()));
    let mut checked: Vec<(usize, FileResult, Option<ProjectPart>)> = order
        .into_par_iter()
        .with_max_len(1)
        .map(|i| {
            let ((path, text), absolute) = (&texts[i], &absolute[i]);
            let shown = display_path(path, root);
            let stored = cache
                .as_ref()
                .and_then(|c| c.file_result(absolute, keys[i]));
            let module = need_parts.then(|| roots.module_of(path));
            let facts_of = module.as_ref().map(|m| (m.name.as_str(), m.is_package));
            let (result, tree, facts) = match stored {
                Some(result) => (result.clone(), None, None),
                None => {
                    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        check_text(&shown, text, &opts, run_doc, &rule_opts, facts_of)
                    }));
                    match checked {
                        Ok(checked) => checked,
                        Err(_) => {
                            eprintln!("tandem: error: checking {shown} failed (a bug); skipped");
                            (FileResult::default(), None, None)
                        }
                    }
                }
            };
            let part = module.and_then(|module| {
                project_part(module, path.as_path(), text, tree.as_ref(), facts)
            });
            (i, result, part)
        })
        .collect();
    checked.sort_unstable_by_key(|(i, _, _)| *i);
    let (results, parts): (Vec<FileResult>, Vec<Option<ProjectPart>>) =
        checked.into_iter().map(|(_, r, p)| (r, p)).unzip();

    let mut known: HashSet<&str> = HashSet::new();
    for result in &results {
        known.extend(result.names.iter().map(String::as_str));
    }
    let mut findings: Vec<PrintedFinding> = Vec::new();
    for result in &results {
        findings.extend(
            result
                .findings
                .iter()
                .filter(|f| selection.is_selected(&f.code))
                .cloned(),
        );
        if selection.is_selected("DOC701") {
            findings.extend(
                result
                    .mentions
                    .iter()
                    .filter(|(name, _)| !is_mention_known(name, &|n| known.contains(n)))
                    .map(|(_, printed)| printed.clone()),
            );
        }
    }
    let project = match cached_project {
        Some(found) => Some(found),
        None if run_project => {
            let parts: Vec<ProjectPart<'_>> = parts.into_iter().flatten().collect();
            Some(project_findings(root, &parts, &entry_points, &selection))
        }
        None => None,
    };
    if let Some(cache) = cache.as_mut() {
        let files = keys
            .iter()
            .zip(absolute)
            .zip(&results)
            .map(|((key, absolute), result)| (absolute, *key, result.clone()))
            .collect();
        cache.update(files, project_key.zip(project.clone()));
        cache.save();
    }
    findings.extend(project.into_iter().flatten());
    if args.ai {
        match ai_review(&found.files, root, workspace) {
            Ok(more) => {
                findings.extend(more.into_iter().filter(|f| selection.is_selected(&f.code)))
            }
            Err(code) => return Ok(code),
        }
    }
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.code).cmp(&(&b.path, b.line, b.column, &b.code))
    });
    match args.format {
        CheckFormat::Text => {
            for f in &findings {
                writeln!(
                    out,
                    "{}:{}:{}: {} {}",
                    f.path, f.line, f.column, f.code, f.message
                )?;
            }
        }
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &findings)?;
            writeln!(out)?;
        }
        CheckFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(&findings, &selection))?;
            writeln!(out)?;
        }
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A file's part of the project pass, from the same parse as its per-file checks: its
/// outline (definitions and signatures) and what TDM021 resolves calls with.
struct ProjectPart<'t> {
    path: &'t Path,
    text: &'t str,
    module: String,
    outline: Outline,
    facts: FileFacts<'t>,
}

/// The project part of a file from its tree (parsed here when the per-file checks needed none)
/// and its facts (read here when the per-file checks did not read them in their walk).
fn project_part<'t>(
    module: crate::session::workspace::ModuleName,
    path: &'t Path,
    text: &'t str,
    tree: Option<&tree_sitter::Tree>,
    facts: Option<FileFacts<'t>>,
) -> Option<ProjectPart<'t>> {
    let parsed;
    let tree = match tree {
        Some(tree) => tree,
        None => {
            parsed = parse_str(text, None);
            &parsed
        }
    };
    let part = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let outline = crate::analysis::outline::outline(tree, text, &module.name);
        let facts =
            facts.unwrap_or_else(|| file_facts(text, tree, &module.name, module.is_package));
        (outline, facts)
    }));
    match part {
        Ok((outline, facts)) => Some(ProjectPart {
            path,
            text,
            module: module.name,
            outline,
            facts,
        }),
        Err(_) => {
            eprintln!(
                "tandem: {}: analysis failed (a bug); left out of TDM020/TDM021",
                path.display()
            );
            None
        }
    }
}

/// TDM020 and TDM021 for the checked files: they need the whole project (which names are
/// used anywhere, what each call reaches), read from every file's part.
fn project_findings(
    root: &Path,
    parts: &[ProjectPart<'_>],
    entry_points: &[String],
    selection: &CodeSelection,
) -> Vec<PrintedFinding> {
    // The two rules read different things; each is parallel inside, and running them side
    // by side also overlaps their serial parts.
    let (unused, bad_calls) = rayon::join(
        || {
            if !selection.is_selected(UNUSED) {
                return Vec::new();
            }
            let files: Vec<(&Path, &Outline, &str)> =
                parts.iter().map(|p| (p.path, &p.outline, p.text)).collect();
            let usage = Usage::of_files(&files);
            unused_definitions_of(files.into_iter(), &usage, entry_points)
        },
        || {
            if !selection.is_selected(BAD_CALL) {
                return Vec::new();
            }
            let project = Project::new(
                parts
                    .iter()
                    .map(|p| ProjectFile {
                        path: p.path,
                        module: &p.module,
                        outline: &p.outline,
                        facts: &p.facts,
                    })
                    .collect(),
            );
            bad_calls_in(&project, None)
        },
    );
    let texts: HashMap<&Path, &str> = parts.iter().map(|p| (p.path, p.text)).collect();
    let mut by_file: std::collections::BTreeMap<PathBuf, Vec<Finding>> =
        std::collections::BTreeMap::new();
    for (path, finding) in unused.into_iter().chain(bad_calls) {
        by_file.entry(path).or_default().push(finding);
    }
    let mut out = Vec::new();
    for (path, mut findings) in by_file {
        let Some(text) = texts.get(path.as_path()) else {
            continue;
        };
        crate::analysis::finding::apply_noqa(text, &mut findings);
        let lines = LineIndex::new(text);
        let shown = display_path(&path, root);
        out.extend(findings.into_iter().map(|f| located(&shown, &lines, f)));
    }
    out
}

/// `module:function` entry points from `pyproject.toml` (`[project.scripts]`,
/// `[project.gui-scripts]`, `[project.entry-points.*]`).
fn entry_points(root: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(root.join("pyproject.toml")) else {
        return Vec::new();
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(project) = value.get("project").and_then(|p| p.as_table()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push_table = |t: &toml::Table| {
        out.extend(t.values().filter_map(|v| v.as_str().map(str::to_string)));
    };
    for key in ["scripts", "gui-scripts"] {
        if let Some(t) = project.get(key).and_then(|t| t.as_table()) {
            push_table(t);
        }
    }
    if let Some(groups) = project.get("entry-points").and_then(|t| t.as_table()) {
        for group in groups.values().filter_map(|g| g.as_table()) {
            push_table(group);
        }
    }
    out
}

/// The selection of a run: `--select`/`--ignore` when given, each replacing the
/// configuration's `review.select`/`review.ignore`.
fn selection(args: &CheckArgs, review: &ReviewConfig) -> Result<CodeSelection, String> {
    let from_config = review.selection()?;
    let command_line = CodeSelection::parse(&args.select, &args.ignore)?;
    Ok(CodeSelection {
        select: if args.select.is_empty() {
            from_config.select
        } else {
            command_line.select
        },
        ignore: if args.ignore.is_empty() {
            from_config.ignore
        } else {
            command_line.ignore
        },
    })
}

/// The per-file checks of one file: its result and its tree (None when nothing needed
/// parsing), and, when `facts_of` names its module (and whether it is a package), the project
/// rules' facts, read in the same walk as the built-in rules.
fn check_text<'t>(
    path: &str,
    text: &'t str,
    opts: &DocCheckOptions,
    run_doc: bool,
    rule_opts: &RuleOptions,
    facts_of: Option<(&str, bool)>,
) -> (FileResult, Option<tree_sitter::Tree>, Option<FileFacts<'t>>) {
    let mut result = FileResult::default();
    let run_rules = rule_opts.selection.wants_family("TDM");
    if !run_doc && !run_rules {
        return (result, None, None);
    }
    let tree = parse_str(text, None);
    let index = LineIndex::new(text);
    // The project rules are TDM codes: when their facts are wanted, the rules' walk runs (with
    // no per-file rule selected it still walks, for the observer).
    let mut facts = facts_of
        .filter(|_| run_rules)
        .map(|(module, package)| FactsWalk::new(text, &tree, module, package));
    if run_rules {
        let opts = RuleOptions {
            test_file: rules::is_test_path(path),
            ..rule_opts.clone()
        };
        result.findings.extend(
            rules::check_file_observed(text, &tree, &opts, &mut facts)
                .into_iter()
                .map(|f| located(path, &index, f)),
        );
    }
    let facts = facts.map(FactsWalk::finish);
    if !run_doc {
        return (result, Some(tree), facts);
    }
    let (mut findings, mut mentions) = check_source_deferred(text, &tree, opts);
    apply_noqa(text, &mut findings);
    let mut mentioned: Vec<Finding> = mentions.iter().map(|m| m.finding.clone()).collect();
    apply_noqa(text, &mut mentioned);
    mentions.retain(|m| mentioned.contains(&m.finding));
    result
        .findings
        .extend(findings.into_iter().map(|f| located(path, &index, f)));
    result.mentions = mentions
        .into_iter()
        .map(|m| {
            let printed = located(path, &index, m.finding);
            (m.name, printed)
        })
        .collect();
    result.names = defined_names(tree.root_node(), text);
    (result, Some(tree), facts)
}

/// The findings as a SARIF 2.1.0 log: one run whose driver lists the selected rules (with
/// their documentation anchors) and one result per finding. Columns count Unicode code points,
/// as the text and JSON formats do, and the run says so (`columnKind`).
fn sarif(findings: &[PrintedFinding], selection: &CodeSelection) -> serde_json::Value {
    use serde_json::json;
    let level = |severity: Severity| match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "note",
    };
    let mut rule_ids: Vec<&str> = catalog::RULES
        .iter()
        .map(|r| r.code)
        .filter(|code| selection.is_selected(code))
        .collect();
    for f in findings {
        if !rule_ids.contains(&f.code.as_str()) {
            rule_ids.push(&f.code);
        }
    }
    let rules: Vec<serde_json::Value> = rule_ids
        .iter()
        .map(|code| {
            let info = catalog::rule_info(code);
            let mut rule = json!({
                "id": code,
                "shortDescription": {"text": info.map_or(*code, |i| i.summary)},
                "helpUri": catalog::help_uri(code),
            });
            if let Some(info) = info {
                rule["name"] = json!(info.name);
                rule["defaultConfiguration"] = json!({"level": level(info.severity)});
            }
            rule
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.code,
                "ruleIndex": rule_ids.iter().position(|c| *c == f.code).unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri_reference(&f.path)},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        }
                    }
                }]
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tandem",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// A path as a relative URI reference: forward slashes, and everything but unreserved
/// characters and `/` percent-encoded.
fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The names of the functions, methods and classes defined in a module: each bare name and,
/// for methods, `Class.method`.
fn defined_names(root: Node<'_>, source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack: Vec<(Node<'_>, Option<String>)> = vec![(root, None)];
    while let Some((node, class)) = stack.pop() {
        let mut inner_class = None;
        if matches!(node.kind(), "function_definition" | "class_definition") {
            if let Some(name) = node
                .child_by_field_name("name")
                .and_then(|n| source.get(n.byte_range()))
            {
                names.push(name.to_string());
                if let Some(class) = &class {
                    names.push(format!("{class}.{name}"));
                }
                if node.kind() == "class_definition" {
                    inner_class = Some(name.to_string());
                }
            }
        }
        let next_class = if node.kind() == "function_definition" {
            None
        } else {
            inner_class.or(class)
        };
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            if matches!(
                child.kind(),
                "function_definition"
                    | "class_definition"
                    | "decorated_definition"
                    | "block"
                    | "if_statement"
                    | "else_clause"
                    | "elif_clause"
                    | "try_statement"
                    | "except_clause"
                    | "finally_clause"
                    | "with_statement"
            ) {
                stack.push((child, next_class.clone()));
            }
        }
    }
    names
}

/// `--ai`: the reviewer model reviews each file whole, with the call graph and the profile as
/// context (see docs/review.md). Without a reviewer model it says so and the run ends as a
/// usage error (exit code 2); a model that fails on a file is reported and the run goes on.
fn ai_review(
    files: &[PathBuf],
    root: &Path,
    workspace: &WorkspaceConfig,
) -> std::result::Result<Vec<PrintedFinding>, ExitCode> {
    use crate::agent::review::{review, ReviewFile, ReviewScope, Reviewer};
    let config = crate::session::config::load_workspace_config(root).config;
    let router = match crate::models::ModelRouter::from_config(&config, Some(root)) {
        Ok(router) => router,
        Err(e) => {
            eprintln!("tandem: error: models configuration: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let has_model = router
        .chain(crate::models::Role::Reviewer)
        .iter()
        .any(|m| m != crate::session::config::BUILTIN_MODEL);
    if !has_model {
        eprintln!(
            "tandem: error: --ai needs a reviewer model: define one under [models.<name>] and \
             set [roles] reviewer = [\"<name>\"] in tandem.toml (see docs/review.md)"
        );
        return Err(ExitCode::from(2));
    }
    crate::agent::register_offline_engines(&router);
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        eprintln!("tandem: error: cannot start the async runtime");
        return Err(ExitCode::FAILURE);
    };
    let (index, _) =
        crate::session::indexer::build_index(&[root.to_path_buf()], workspace, &|_, _| {});
    let profile = crate::session::project_files::profile_of(root, &index).render();
    let roots = crate::session::workspace::SourceRoots::for_workspace(&[root.to_path_buf()]);
    let mut out = Vec::new();
    for path in files {
        let Ok(text) = read_source(path, workspace.max_file_size) else {
            continue;
        };
        let shown = display_path(path, root);
        let module = roots.module_of(path).name;
        let display = |p: &Path| crate::session::project_files::relative_path(root, p);
        let mut context = crate::agent::document::DocContext::from_index(&index, &module, &display);
        context.profile = profile.clone();
        let file = ReviewFile {
            path: PathBuf::from(&shown),
            module,
            source: std::sync::Arc::from(text.as_str()),
        };
        let cancel = tokio_util::sync::CancellationToken::new();
        match runtime.block_on(review(
            &file,
            &ReviewScope::File,
            &router,
            &context,
            &[],
            cancel,
        )) {
            Ok(outcome) => {
                if let Reviewer::BuiltinAfterModel { reason } = &outcome.reviewer {
                    eprintln!("tandem: {shown}: the AI review failed: {reason}");
                } else if outcome.dropped.findings() + outcome.dropped.replacements > 0 {
                    eprintln!("tandem: {shown}: {}", outcome.summary());
                }
                let lines = LineIndex::new(&text);
                out.extend(
                    outcome
                        .findings
                        .into_iter()
                        .map(|f| located(&shown, &lines, f.finding)),
                );
            }
            Err(e) => eprintln!("tandem: {shown}: the AI review failed: {e}"),
        }
    }
    Ok(out)
}
