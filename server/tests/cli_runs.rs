//! `tandem runs` and `tandem runs show`, over a run store filled through the library.

use std::process::{Command, Output};

use tandem::runs::{NewRun, RunStore, StepOutcome, Tokens};

fn tandem(root: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--workspace")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A workspace with one finished run (a failed then a successful attempt) and one failed run.
fn workspace() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::open(dir.path()).unwrap();
    let items = vec!["s1".to_string(), "s2".to_string()];
    let done = store
        .create_run(&NewRun {
            kind: "execute",
            request: "add a discount",
            plan_id: Some("p1"),
            items: &items,
        })
        .unwrap();
    store.start_run(&done).unwrap();
    let a = store.start_step(&done, "s1").unwrap();
    store
        .finish_step(
            a,
            &StepOutcome::Failed("new syntax error at line 3".into()),
            Tokens {
                input: 1200,
                output: 300,
            },
        )
        .unwrap();
    let b = store.start_step(&done, "s1").unwrap();
    store
        .finish_step(
            b,
            &StepOutcome::Succeeded,
            Tokens {
                input: 1300,
                output: 310,
            },
        )
        .unwrap();
    let c = store.start_step(&done, "s2").unwrap();
    store
        .finish_step(c, &StepOutcome::Succeeded, Tokens::default())
        .unwrap();
    store.finish_run(&done).unwrap();
    let failed = store
        .create_run(&NewRun {
            kind: "plan",
            request: "rename Cart",
            plan_id: None,
            items: &[],
        })
        .unwrap();
    store.fail_run(&failed, "the planner timed out").unwrap();
    (dir, done, failed)
}

#[test]
fn runs_lists_the_history_as_a_table() {
    let (dir, done, failed) = workspace();
    let text = stdout(&tandem(dir.path(), &["runs"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("TOKENS IN/OUT"),
        "{text}"
    );
    let done_line = lines.iter().find(|l| l.starts_with(&done)).expect(&text);
    assert!(
        done_line.contains("execute") && done_line.contains("succeeded"),
        "{done_line}"
    );
    assert!(done_line.ends_with("2500/610"), "{done_line}");
    let failed_line = lines.iter().find(|l| l.starts_with(&failed)).expect(&text);
    assert!(failed_line.contains("failed"), "{failed_line}");
}

#[test]
fn runs_json_is_an_array_of_runs() {
    let (dir, done, _) = workspace();
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&tandem(dir.path(), &["runs", "--format", "json"]))).unwrap();
    let runs = json.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let run = runs.iter().find(|r| r["id"] == done.as_str()).unwrap();
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["tokens"]["input"], 2500);
}

#[test]
fn runs_show_prints_attempts_timings_tokens_and_errors() {
    let (dir, done, failed) = workspace();
    let text = stdout(&tandem(dir.path(), &["runs", "show", &done]));
    assert!(
        text.starts_with(&format!("run {done} (execute): succeeded\n")),
        "{text}"
    );
    assert!(text.contains("request: add a discount\n"), "{text}");
    assert!(text.contains("tokens: 2500 in, 610 out\n"), "{text}");
    assert!(text.contains("items: s1, s2\n"), "{text}");
    let attempts: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(attempts.len(), 3, "{text}");
    assert!(attempts[0].starts_with("  s1 #1: failed"), "{text}");
    assert!(attempts[0].contains("tokens 1200/300"), "{text}");
    assert!(
        attempts[0].ends_with("error: new syntax error at line 3"),
        "{text}"
    );
    assert!(attempts[1].starts_with("  s1 #2: succeeded"), "{text}");

    let text = stdout(&tandem(dir.path(), &["runs", "show", &failed]));
    assert!(text.contains("error: the planner timed out\n"), "{text}");
    assert!(text.contains("no attempts"), "{text}");

    let json: serde_json::Value = serde_json::from_str(&stdout(&tandem(
        dir.path(),
        &["runs", "show", &done, "--format", "json"],
    )))
    .unwrap();
    assert_eq!(json["id"], done.as_str());
    assert_eq!(json["steps"].as_array().unwrap().len(), 3);
    assert_eq!(json["steps"][0]["error"], "new syntax error at line 3");
    assert_eq!(json["pending_items"], serde_json::json!([]));
    assert!(json["events"].as_array().unwrap().len() >= 8);
}

#[test]
fn unknown_runs_and_empty_workspaces() {
    let (dir, _, _) = workspace();
    let out = tandem(dir.path(), &["runs", "show", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "tandem: error: no run `nope`"
    );
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(stdout(&tandem(empty.path(), &["runs"])), "no runs yet\n");
    assert_eq!(
        stdout(&tandem(empty.path(), &["runs", "--format", "json"])),
        "[]\n"
    );
    // Listing does not create a database.
    assert!(!empty.path().join(".tandem").exists());
}
