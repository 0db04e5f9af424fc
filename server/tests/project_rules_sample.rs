//! Prints a sample of the project rules' findings on a corpus, for judging their precision by
//! hand (`docs/rules.md`). Ignored by default:
//! `TANDEM_CORPUS=bench/corpora/django-5.1.4/django cargo test -p tandem --release --test project_rules_sample -- --ignored --nocapture`

use std::path::PathBuf;

#[test]
#[ignore]
fn sample_project_rule_findings() {
    let corpus = std::env::var("TANDEM_CORPUS")
        .expect("set TANDEM_CORPUS to the folder to sample (this test only runs by hand)");
    let root = PathBuf::from(corpus);
    let config = tandem::session::config::WorkspaceConfig::default();
    let (mut index, _) =
        tandem::session::indexer::build_index(std::slice::from_ref(&root), &config, &|_, _| {});
    index.graph();
    for (label, found) in [
        (
            "TDM020",
            tandem::analysis::project_rules::unused_definitions(&index, &[]),
        ),
        (
            "TDM021",
            tandem::analysis::project_rules::bad_calls(&index, None),
        ),
    ] {
        let found: Vec<_> = found
            .into_iter()
            .filter(|(p, _)| !p.to_string_lossy().contains("site-packages"))
            .collect();
        println!("== {label}: {} findings", found.len());
        let step = (found.len() / 30).max(1);
        for (path, f) in found.iter().step_by(step).take(30) {
            let text = index.file(path).unwrap().text();
            let line = text[..f.range.start].matches('\n').count() + 1;
            let start = text[..f.range.start].rfind('\n').map_or(0, |i| i + 1);
            let end = text[f.range.start..]
                .find('\n')
                .map_or(text.len(), |i| f.range.start + i);
            println!(
                "{}:{line}: {}\n    {}",
                path.strip_prefix(&root).unwrap_or(path).display(),
                f.message,
                &text[start..end].trim()
            );
        }
    }
}
