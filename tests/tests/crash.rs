//! End-to-end: `kill -9` at random points of 50 runs (issue 9, item 7). Each run is a headless
//! `tandem run PLAN --apply` (four in five) or a plan run in `tandem serve` (one in five) of a
//! two-item plan that changes two files and creates a third, with the coder played by a
//! scripted HTTP server; the process is killed with SIGKILL after a random delay drawn from a
//! seeded generator (the seed is printed; `TANDEM_CRASH_SEED=<seed>` replays it). After each
//! kill, the database passes `PRAGMA integrity_check`, every run is final, failed or
//! `interrupted` once the store has been opened again, every file the plan touches holds
//! either its original text or its complete new text, and when the kill came between the
//! writes of two files, the next `tandem run` completes the set from its journal. The database is shared by all 50 runs;
//! the files are reset between them (the writer's temporary files are not: a last complete
//! run must remove those the kills left).
//!
//! `cargo test -p tandem-e2e --test crash -- --nocapture` prints the seed and what the kills
//! hit. The longer variant (500 runs) is ignored by default:
//! `cargo test -p tandem-e2e --test crash -- --ignored --nocapture`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tandem_e2e::faults::{
    all_runs, count_events, integrity_check, model_config, start_editor, tandem_in,
    writer_temporaries,
};
use tandem_e2e::mock::openai;
use tandem_e2e::{tandem_binary, Rng};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ORDER_PY: &str = "class Order:\n    def __init__(self):\n        self.items = []\n\n    def total(self):\n        return sum(p * q for p, q in self.items)\n";

const ORDER_TOTAL: &str = "def total(self):\n    \"\"\"The sum of price times quantity.\"\"\"\n    return sum(p * q for p, q in self.items if q > 0)\n";

const STOCK_PY: &str = "class Stock:\n    def __init__(self):\n        self.levels = {}\n\n    def take(self, sku, qty):\n        self.levels[sku] = self.levels.get(sku, 0) - qty\n";

const STOCK_TAKE: &str = "def take(self, sku, qty):\n    \"\"\"Takes `qty` of `sku` out of stock.\"\"\"\n    if qty > self.levels.get(sku, 0):\n        raise ValueError(sku)\n    self.levels[sku] = self.levels.get(sku, 0) - qty\n";

const LIMITS_PY: &str = "MAX_QTY = 99\n";

const PLAN: &str = "# Plan `k1`\n\n## Request\n\nHarden orders and stock\n\n## Summary\n\nTwo small fixes.\n\n\
## Estimate\n\n**small**: 2 items, 2 files, 8 lines of existing code touched, cyclomatic complexity 2; up to 2 attempts per item\n\n\
Planner: `plan`\n\n## Items\n\n\
- [x] **s1** modify `order.py` — Skip empty lines (MARK-ORDER)\n  - symbols: `order.Order.total`\n  - depends on: none\n\n  Ignore lines without quantity in `Order.total`.\n\n\
- [x] **s2** modify `stock.py` — Refuse overdrafts (MARK-STOCK)\n  - symbols: `stock.Stock.take`\n  - depends on: none\n\n  Refuse to take more than is in stock, and add `limits.py`.\n";

fn answer(ops: Value) -> ResponseTemplate {
    openai(&json!({"operations": ops, "notes": null})).set_delay(Duration::from_millis(120))
}

async fn coder() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("MARK-ORDER"))
        .respond_with(answer(json!([
            {"op": "replace_symbol", "path": "order.py", "symbol": "Order.total", "content": ORDER_TOTAL}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("MARK-STOCK"))
        .respond_with(answer(json!([
            {"op": "replace_symbol", "path": "stock.py", "symbol": "Stock.take", "content": STOCK_TAKE},
            {"op": "create_file", "path": "limits.py", "content": LIMITS_PY}
        ])))
        .mount(&server)
        .await;
    server
}

/// The files the plan touches, with their original text (`None`: the file does not exist).
const FILES: [(&str, Option<&str>); 3] = [
    ("order.py", Some(ORDER_PY)),
    ("stock.py", Some(STOCK_PY)),
    ("limits.py", None),
];

fn reset(root: &Path) {
    for (name, original) in FILES {
        match original {
            Some(text) => std::fs::write(root.join(name), text).unwrap(),
            None => {
                let _ = std::fs::remove_file(root.join(name));
            }
        }
    }
}

fn workspace(server: &MockServer) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".tandem/plans")).unwrap();
    std::fs::write(root.join(".tandem/plans/k1.md"), PLAN).unwrap();
    std::fs::write(
        root.join("tandem.toml"),
        model_config(&server.uri(), false, 0, 10.0),
    )
    .unwrap();
    reset(root);
    dir
}

/// What a complete run leaves: the files' intended texts, read after one run to its end.
fn run_to_the_end(root: &Path) -> Vec<(String, Option<String>)> {
    tandem_in(root, &["run", "k1", "--apply"], true);
    let result = FILES
        .iter()
        .map(|(name, _)| {
            (
                name.to_string(),
                std::fs::read_to_string(root.join(name)).ok(),
            )
        })
        .collect::<Vec<_>>();
    for ((name, original), (_, now)) in FILES.iter().zip(&result) {
        assert_ne!(original.map(str::to_string), *now, "{name} was not changed");
    }
    result
}

/// What the kills hit, for the report.
#[derive(Default, Debug)]
struct Tally {
    /// Kills after which no file was changed.
    untouched: usize,
    /// Kills after which every file was changed, at once or once the next run completed them.
    complete: usize,
    /// Kills that left some files written and others not (completed by the next run).
    mixed: usize,
    /// Kills that left a journal, so the next run completed the writes.
    journals: usize,
    /// Temporary files of killed writers seen (each counted once).
    temporaries: std::collections::BTreeSet<std::path::PathBuf>,
    statuses: std::collections::BTreeMap<String, usize>,
}

/// Checks the workspace after a kill; returns whether the files were untouched, complete, or
/// some of each.
fn check_after_kill(
    root: &Path,
    intended: &[(String, Option<String>)],
    what: &str,
    tally: &mut Tally,
) {
    assert_eq!(integrity_check(root), "ok", "{what}");
    for run in all_runs(root) {
        let status = run["status"].as_str().unwrap().to_string();
        assert!(
            matches!(
                status.as_str(),
                "succeeded" | "failed" | "cancelled" | "interrupted"
            ),
            "{what}: run {} is {status} after recovery",
            run["id"]
        );
    }
    let untouched = files_untouched(root, intended, what);
    tally.temporaries.extend(writer_temporaries(root));
    if untouched.iter().any(|&u| u) && untouched.iter().any(|&u| !u) {
        tally.mixed += 1;
    }
    // A kill in the middle of the writes leaves their journal; the next `tandem run` (here
    // one that only shows its diff) completes the set before anything else.
    if journals(root) > 0 {
        tally.journals += 1;
        let out = tandem_in(root, &["run", "k1"], false);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(journals(root), 0, "{what}: {stderr}");
        let untouched = files_untouched(root, intended, what);
        assert!(
            untouched.iter().all(|&u| !u),
            "{what}: the interrupted set was not completed: {stderr}"
        );
        tally.complete += 1;
    } else if untouched.iter().all(|&u| u) {
        tally.untouched += 1;
    } else {
        assert!(
            untouched.iter().all(|&u| !u),
            "{what}: some files were written and some not, with no journal to complete them"
        );
        tally.complete += 1;
    }
}

/// Checks each file holds its original or its complete new text; whether each is untouched.
fn files_untouched(root: &Path, intended: &[(String, Option<String>)], what: &str) -> Vec<bool> {
    let mut untouched = Vec::new();
    for ((name, original), (_, complete)) in FILES.iter().zip(intended) {
        let now = std::fs::read_to_string(root.join(name)).ok();
        let original = original.map(str::to_string);
        assert!(
            now == original || now == *complete,
            "{what}: {name} holds neither its original nor its new text: {now:?}"
        );
        untouched.push(now == original);
    }
    untouched
}

/// Journals of sets of files being written (`.tandem/writes/*.json`).
fn journals(root: &Path) -> usize {
    std::fs::read_dir(root.join(".tandem/writes"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

fn kill_headless(root: &Path, after: Duration) {
    let mut child = Command::new(tandem_binary())
        .args(["run", "k1", "--apply"])
        .current_dir(root)
        .env("TANDEM_E2E_KEY", "k")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    // `Child::kill` is SIGKILL on Unix: the process gets no chance to clean up.
    let _ = child.kill();
    child.wait().unwrap();
}

fn kill_server(root: &Path, after: Duration) {
    let mut client = start_editor(root);
    let started = Instant::now();
    // Sent without waiting for the answer: the kill may come before it.
    client.send(&json!({
        "jsonrpc": "2.0", "id": "kill", "method": "workspace/executeCommand",
        "params": {"command": "tandem.executePlan", "arguments": [{"planId": "k1"}]}
    }));
    std::thread::sleep(after.saturating_sub(started.elapsed()));
    // Dropping the client kills the server with SIGKILL.
    drop(client);
}

/// How long a whole run takes in the server, measured once.
fn server_run_time(root: &Path) -> Duration {
    let started = Instant::now();
    let mut client = start_editor(root);
    let (response, edit) = client.execute_until_edit(
        json!({"command": "tandem.executePlan", "arguments": [{"planId": "k1"}]}),
    );
    assert!(response.get("error").is_none(), "{response}");
    let took = started.elapsed();
    client.send(&json!({"jsonrpc": "2.0", "id": edit["id"], "result": {"applied": false}}));
    client.shutdown_and_exit();
    took
}

async fn kill_runs(runs: usize) {
    let seed = std::env::var("TANDEM_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("crash: seed {seed} (TANDEM_CRASH_SEED={seed} replays it)");
    let server = coder().await;
    let dir = workspace(&server);
    let root = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let headless_started = Instant::now();
        let intended = run_to_the_end(&root);
        let headless = headless_started.elapsed();
        reset(&root);
        let served = server_run_time(&root);
        reset(&root);
        println!(
            "crash: a whole run takes {:.0} ms headless, {:.0} ms in the server",
            headless.as_secs_f64() * 1e3,
            served.as_secs_f64() * 1e3
        );
        let mut rng = Rng::new(seed);
        let mut tally = Tally::default();
        for i in 0..runs {
            let in_server = i % 5 == 4;
            let span = if in_server { served } else { headless };
            // Up to 20% past the usual end, so some kills come after it.
            let after = span.mul_f64(rng.below(1200) as f64 / 1000.0);
            let what = format!(
                "run {i} ({}, killed after {} ms, seed {seed})",
                if in_server { "server" } else { "headless" },
                after.as_millis()
            );
            if in_server {
                kill_server(&root, after);
            } else {
                kill_headless(&root, after);
            }
            check_after_kill(&root, &intended, &what, &mut tally);
            reset(&root);
        }
        // The kills' temporary files are litter the next write of their targets removes.
        let left = tally.temporaries.len();
        run_to_the_end(&root);
        assert_eq!(writer_temporaries(&root), Vec::<std::path::PathBuf>::new());
        for run in all_runs(&root) {
            *tally
                .statuses
                .entry(run["status"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        let from_pending = count_events(&root, "recovered", "\"from\":\"pending\"");
        println!(
            "crash: {} runs were recovered from `pending` (killed before they started)",
            from_pending
        );
        println!(
            "crash: {runs} kills in {:.1} s: files untouched {}, complete {} ({} completed by the next \
             run, {} of them half written); writer temporaries left by the kills {} (all removed by the next write); runs by status {:?}",
            started.elapsed().as_secs_f64(),
            tally.untouched,
            tally.complete,
            tally.journals,
            tally.mixed,
            left,
            tally.statuses
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_at_random_points_of_50_runs() {
    kill_runs(50).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a few minutes; cargo test -p tandem-e2e --test crash -- --ignored --nocapture"]
async fn kill_9_at_random_points_of_500_runs() {
    kill_runs(500).await;
}
