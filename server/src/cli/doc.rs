//! `tandem doc`: docstrings for every undocumented symbol of Python files or folders, printed as
//! a unified diff (the default), written to the files (`--write`), or checked (`--check`: exit
//! code 1 when something would change). The same engine as the editor's "Document file": the
//! built-in engine, or the documenter model when one is configured, validated either way.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::ValueEnum;
use rayon::prelude::*;

use super::display_path;

use crate::agent::document::{
    document_offline, document_with_model, DocContext, DocError, DocFile, DocOutcome, DocScope,
    DocSettings, Origin,
};
use crate::analysis::docstring::placement::DocEdit;
use crate::context::profile::DocstringStyle;
use crate::session::config::LoadedConfig;
use crate::session::workspace::{discover_python_files, read_source, SourceRoots};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocMode {
    /// Print a unified diff (nothing is written).
    Diff,
    /// Write the docstrings into the files.
    Write,
    /// Print which files would change; exit code 1 if any.
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StyleArg {
    Google,
    Numpy,
    Sphinx,
}

pub struct DocArgs<'a> {
    pub paths: &'a [PathBuf],
    pub root: &'a Path,
    pub style: Option<StyleArg>,
    pub mode: DocMode,
}

struct Prepared {
    path: PathBuf,
    display: String,
    file: DocFile,
}

/// Documents the files and reports; the exit code follows `--check`.
pub fn run(args: &DocArgs<'_>, loaded: &LoadedConfig, out: &mut impl Write) -> Result<ExitCode> {
    for path in args.paths {
        if !path.exists() {
            anyhow::bail!("{}: no such file or directory", path.display());
        }
    }
    let config = &loaded.config;
    let found = discover_python_files(args.paths, &config.workspace);
    for (path, reason) in &found.skipped {
        eprintln!("tandem: skipping {}: {reason}", path.display());
    }
    let roots = SourceRoots::for_workspace(&[args.root.to_path_buf()]);
    let files: Vec<Prepared> = found
        .files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .filter_map(
            |path| match read_source(path, config.workspace.max_file_size) {
                Ok(text) => Some(Prepared {
                    path: path.clone(),
                    display: display_path(path, args.root),
                    file: DocFile {
                        path: PathBuf::from(display_path(path, args.root)),
                        module: roots.module_of(path).name,
                        source: Arc::from(text),
                    },
                }),
                Err(reason) => {
                    eprintln!("tandem: skipping {}: {reason}", path.display());
                    None
                }
            },
        )
        .collect();
    let style = match args.style {
        Some(StyleArg::Google) => DocstringStyle::Google,
        Some(StyleArg::Numpy) => DocstringStyle::Numpy,
        Some(StyleArg::Sphinx) => DocstringStyle::Sphinx,
        None => config
            .docs
            .style
            .fixed()
            .or_else(|| majority_style(&files))
            .unwrap_or_default(),
    };
    let settings = DocSettings {
        style,
        concurrency: config.docs.concurrency.clamp(1, 32),
        streams: if config.docs.streams == 2 { 2 } else { 1 },
    };
    let router = crate::models::ModelRouter::from_config(config, Some(args.root))
        .map_err(|e| anyhow::anyhow!("models configuration: {e}"))?;
    crate::agent::register_offline_engines(&router);
    let uses_model = router
        .chain(crate::models::Role::Documenter)
        .iter()
        .any(|m| m != crate::session::config::BUILTIN_MODEL);

    let outcomes: Vec<(usize, Result<DocOutcome, DocError>)> = if uses_model {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        // The prompts carry the call graph and the profile: index the workspace once.
        let (index, _) = crate::session::indexer::build_index(
            &[args.root.to_path_buf()],
            &config.workspace,
            &|_, _| {},
        );
        let display = |p: &Path| crate::session::project_files::relative_path(args.root, p);
        let profile = crate::session::project_files::profile_of(args.root, &index).render();
        files
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut context = DocContext::from_index(&index, &p.file.module, &display);
                context.profile = profile.clone();
                let result = runtime.block_on(document_with_model(
                    &p.file,
                    &DocScope::File,
                    &settings,
                    &router,
                    &context,
                    tokio_util::sync::CancellationToken::new(),
                    &|progress| {
                        eprintln!(
                            "tandem: {} {}/{} {}",
                            p.display, progress.done, progress.total, progress.symbol
                        )
                    },
                ));
                (i, result)
            })
            .collect()
    } else {
        files
            .par_iter()
            .enumerate()
            .map(|(i, p)| (i, document_offline(&p.file, &DocScope::File, &settings)))
            .collect()
    };

    let mut changed = 0usize;
    let mut symbols = 0usize;
    let mut fallbacks = 0usize;
    for (i, result) in outcomes {
        let prepared = &files[i];
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(DocError::Nothing(_)) => continue,
            Err(e) => {
                eprintln!("tandem: {}: {e}", prepared.display);
                continue;
            }
        };
        for (symbol, why) in &outcome.skipped {
            eprintln!(
                "tandem: {}: not documented {symbol}: {why}",
                prepared.display
            );
        }
        for d in &outcome.documented {
            if let Origin::BuiltinAfterModel { reason } = &d.origin {
                fallbacks += 1;
                eprintln!(
                    "tandem: {}: {}: built-in docstring used: {reason}",
                    prepared.display, d.qualified_name
                );
            }
        }
        changed += 1;
        symbols += outcome.documented.len();
        match args.mode {
            DocMode::Diff => {
                out.write_all(
                    unified_diff(&prepared.display, &prepared.file.source, &outcome.edits)
                        .as_bytes(),
                )?;
            }
            DocMode::Check => writeln!(
                out,
                "{}: {} docstring{} missing",
                prepared.display,
                outcome.documented.len(),
                if outcome.documented.len() == 1 {
                    ""
                } else {
                    "s"
                }
            )?,
            DocMode::Write => {
                write_edits(&prepared.path, &prepared.file.source, &outcome.edits)?;
            }
        }
    }
    let verb = match args.mode {
        DocMode::Write => "wrote",
        _ => "would write",
    };
    eprintln!(
        "tandem: {verb} {symbols} docstring{} in {changed} file{} ({} style){}",
        if symbols == 1 { "" } else { "s" },
        if changed == 1 { "" } else { "s" },
        style.as_str(),
        if fallbacks > 0 {
            format!(", {fallbacks} from the built-in engine after the model's failed")
        } else {
            String::new()
        }
    );
    Ok(if args.mode == DocMode::Check && changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The majority docstring style of the files' existing docstrings.
fn majority_style(files: &[Prepared]) -> Option<DocstringStyle> {
    let outlines: Vec<crate::analysis::outline::Outline> = files
        .iter()
        .map(|p| {
            let tree = crate::analysis::parse::parse_str(&p.file.source, None);
            crate::analysis::outline::outline(&tree, &p.file.source, "")
        })
        .collect();
    crate::agent::document::majority_style(outlines.iter())
}

/// `source` with `edits` (sorted, non-overlapping) applied.
pub fn apply_edits(source: &str, edits: &[DocEdit]) -> String {
    let mut out =
        String::with_capacity(source.len() + edits.iter().map(|e| e.new_text.len()).sum::<usize>());
    let mut at = 0;
    for e in edits {
        out.push_str(&source[at..e.range.start]);
        out.push_str(&e.new_text);
        at = e.range.end;
    }
    out.push_str(&source[at..]);
    out
}

/// Writes the edited text, unless the file changed since it was read (then nothing is written
/// and the error says so): through a temporary file in the same folder and a rename, so the
/// file is never half-written.
fn write_edits(path: &Path, original: &str, edits: &[DocEdit]) -> Result<()> {
    let now = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if now != original.as_bytes() {
        anyhow::bail!(
            "{} changed while it was being documented; nothing written to it",
            path.display()
        );
    }
    let new_text = apply_edits(original, edits);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tandem-{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        std::fs::write(&tmp, new_text.as_bytes())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(&tmp, meta.permissions());
        }
        std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub use crate::edits::diff::unified_diff;

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(at: usize, text: &str) -> DocEdit {
        DocEdit {
            range: at..at,
            new_text: text.to_string(),
            literal_offset: at,
        }
    }

    #[test]
    fn an_inserted_line_is_one_hunk_with_context() {
        let src = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let at = src.find("e\n").unwrap();
        let diff = unified_diff("m.py", src, &[edit(at, "X\n")]);
        assert_eq!(
            diff,
            "--- a/m.py\n+++ b/m.py\n@@ -2,6 +2,7 @@\n b\n c\n d\n+X\n e\n f\n g\n"
        );
    }

    #[test]
    fn a_split_line_is_removed_and_added_and_later_hunks_shift() {
        let src = "def f(): return 1\n1\n2\n3\n4\n5\n6\n7\n8\nz\n";
        let colon = src.find(':').unwrap() + 1;
        let e1 = DocEdit {
            range: colon..colon + 1,
            new_text: "\n    \"\"\"F.\"\"\"\n    ".to_string(),
            literal_offset: 0,
        };
        let z = src.find("z\n").unwrap();
        let diff = unified_diff("m.py", src, &[e1, edit(z, "Y\n")]);
        assert_eq!(
            diff,
            "--- a/m.py\n+++ b/m.py\n@@ -1,4 +1,6 @@\n-def f(): return 1\n+def f():\n+    \"\"\"F.\"\"\"\n+    return 1\n 1\n 2\n 3\n@@ -7,4 +9,5 @@\n 6\n 7\n 8\n+Y\n z\n"
        );
    }

    #[test]
    fn applying_edits_and_missing_final_newline() {
        let src = "x = 1";
        assert_eq!(
            apply_edits(src, &[edit(0, "\"\"\"M.\"\"\"\n\n")]),
            "\"\"\"M.\"\"\"\n\nx = 1"
        );
        let diff = unified_diff("m.py", src, &[edit(0, "\"\"\"M.\"\"\"\n\n")]);
        assert_eq!(
            diff,
            "--- a/m.py\n+++ b/m.py\n@@ -1 +1,3 @@\n+\"\"\"M.\"\"\"\n+\n x = 1\n\\ No newline at end of file\n"
        );
    }
}
