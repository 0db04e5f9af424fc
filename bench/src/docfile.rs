//! Throughput of "Document file": `tandem doc` on a generated 2,000-line module whose functions
//! call each other, against a model server that answers every request after 200 ms (with the
//! built-in draft its prompt carries, so each symbol costs one request). The wall time of the
//! whole command is compared with the critical path of the callee-first order at the configured
//! concurrency: what the run would take if everything but waiting for the model were free.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem::agent::document::{
    callee_first, local_callees, plan_targets, DocContext, DocFile, DocScope, DocTarget,
};
use tandem::analysis::docstring::render::DocstringStyle;
use tandem::analysis::parse::parse_str;

use crate::model_server::{echo_builtin_docstring, ModelServer, Script};

const MODEL_DELAY: Duration = Duration::from_millis(200);

/// A module of exactly `lines` lines (or just under) of undocumented functions and classes
/// whose calls form chains and fans inside the file.
pub fn generate_calling_module(lines: usize) -> String {
    let mut out = String::from("import math\n\n");
    let mut i = 0;
    while out.lines().count() + 12 < lines {
        if i % 10 == 9 {
            out.push_str(&format!(
                "\nclass Stage{i}:\n    def __init__(self, scale, offset=0):\n        self.scale = scale\n        self.offset = offset\n\n    def apply(self, value):\n        return self.adjust(step_{}(value)) * self.scale\n\n    def adjust(self, value):\n        return value + self.offset\n\n",
                i - 1
            ));
        } else {
            let calls = match i {
                0 => "math.sqrt(abs(value))".to_string(),
                _ if i % 3 == 0 && i >= 3 => {
                    format!("step_{}(value) + step_{}(value, 3)", i - 1, i - 3)
                }
                _ => format!("step_{}(value)", i - 1),
            };
            out.push_str(&format!(
                "\ndef step_{i}(value, factor=2):\n    if value is None:\n        raise ValueError(\"value is required\")\n    total = {calls}\n    for k in range(factor):\n        total += k\n    return total * factor\n\n"
            ));
        }
        i += 1;
    }
    out
}

/// The time the run would take if only the model's answers cost time: the targets in
/// callee-first order, each waiting for its callees, at most `concurrency` at once (a list
/// schedule in the run's order), each request taking `delay`.
fn ideal_schedule(
    order: &[usize],
    waits: &[Vec<usize>],
    concurrency: usize,
    delay: Duration,
) -> (Duration, usize) {
    let n = waits.len();
    let mut finish: Vec<Option<Duration>> = vec![None; n];
    let mut workers: Vec<Duration> = vec![Duration::ZERO; concurrency.max(1)];
    // Tokio's semaphore is fair: permits go in the order the targets asked, and a target asks
    // once its callees are done; so take the ready target whose callees finished first.
    let mut pending: Vec<usize> = order.to_vec();
    while !pending.is_empty() {
        let (pos, ready) = pending
            .iter()
            .enumerate()
            .filter_map(|(p, &t)| {
                let mut at = Duration::ZERO;
                for &w in &waits[t] {
                    at = at.max(finish[w]?);
                }
                Some((p, at))
            })
            .min_by_key(|&(p, at)| (at, p))
            .expect("callee-first order has no waiting cycle");
        let t = pending.remove(pos);
        let worker = workers.iter_mut().min().expect("at least one worker");
        let start = (*worker).max(ready);
        *worker = start + delay;
        finish[t] = Some(start + delay);
    }
    let depth = critical_depth(order, waits);
    (
        finish.into_iter().flatten().max().unwrap_or_default(),
        depth,
    )
}

/// The longest chain of waits, in targets.
fn critical_depth(order: &[usize], waits: &[Vec<usize>]) -> usize {
    let mut depth = vec![0usize; waits.len()];
    for &t in order {
        depth[t] = 1 + waits[t].iter().map(|&w| depth[w]).max().unwrap_or(0);
    }
    depth.into_iter().max().unwrap_or(0)
}

pub fn run(args: &[String]) {
    let lines = crate::flag(args, "--lines")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000usize);
    let concurrency = crate::flag(args, "--concurrency")
        .and_then(|v| v.parse().ok())
        .unwrap_or(4usize);
    let Some(tandem) = crate::tandem_binary() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tandem-bench-docfile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let source = generate_calling_module(lines);
    std::fs::write(dir.join("pipeline.py"), &source).expect("write the module");
    let server = ModelServer::start(Script {
        delay: MODEL_DELAY,
        chunks: 1,
        chunk_gap: Duration::ZERO,
        answer: Arc::new(echo_builtin_docstring),
    });
    std::fs::write(
        dir.join("tandem.toml"),
        format!(
            "[models.doc]\nprovider = \"openai\"\nbase_url = \"{}\"\nmodel = \"m\"\napi_key_env = \"TANDEM_BENCH_KEY\"\nstream = false\nretries = 0\ntimeout_secs = 30.0\ncontext_tokens = 65536\n\n[roles]\ndocumenter = [\"doc\"]\n\n[cache]\nenabled = false\n\n[docs]\nconcurrency = {concurrency}\nstyle = \"google\"\n",
            server.base_url
        ),
    )
    .expect("write tandem.toml");

    let (targets, order, waits) = plan(&dir, &source);
    let (ideal, depth) = ideal_schedule(&order, &waits, concurrency, MODEL_DELAY);
    let unbounded = MODEL_DELAY * depth as u32;

    let started = Instant::now();
    let output = std::process::Command::new(&tandem)
        .args(["doc", "pipeline.py", "--diff"])
        .current_dir(&dir)
        .env("TANDEM_BENCH_KEY", "bench")
        .output()
        .expect("run tandem doc");
    let wall = started.elapsed();
    let requests = server.counters.requests.load(Ordering::Relaxed);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = std::fs::remove_dir_all(&dir);

    println!("## Throughput of \"Document file\"");
    println!();
    println!(
        "`tandem doc pipeline.py --diff` on a generated {}-line module ({} symbols to document, their calls forming chains up to {depth} deep), `docs.concurrency = {concurrency}`, against a model server on loopback that answers each request after {} ms. The ideal is the list schedule of the callee-first order at that concurrency with every request taking exactly the model's delay; the overhead is everything else (start-up, indexing, prompts, validation, the oracle's checks, assembling the edits).",
        source.lines().count(),
        targets.len(),
        MODEL_DELAY.as_millis()
    );
    println!();
    println!("| symbols | model requests | critical path (unbounded concurrency) | ideal at concurrency {concurrency} | wall time | overhead | overhead share |");
    println!("|---|---|---|---|---|---|---|");
    let overhead = wall.saturating_sub(ideal);
    println!(
        "| {} | {requests} | {} | {} | {} | {} | {:.1}% |",
        targets.len(),
        crate::ms(unbounded),
        crate::ms(ideal),
        crate::ms(wall),
        crate::ms(overhead),
        100.0 * overhead.as_secs_f64() / wall.as_secs_f64()
    );
    println!();
    if !output.status.success() || requests != targets.len() {
        println!(
            "Note: exit status {:?}, {requests} requests for {} symbols; stderr ends: {}",
            output.status.code(),
            targets.len(),
            stderr.lines().rev().take(3).collect::<Vec<_>>().join(" / ")
        );
        println!();
    }
    let share = overhead.as_secs_f64() / wall.as_secs_f64();
    crate::target(
        9,
        "Document file: overhead beyond the model's critical path",
        &format!("{:.1}% of {}", 100.0 * share, crate::ms(wall)),
        "reported (no target)",
        None,
    );
}

/// The targets, the callee-first order and the waits, computed as `tandem doc` computes them.
fn plan(dir: &Path, source: &str) -> (Vec<DocTarget>, Vec<usize>, Vec<Vec<usize>>) {
    let config = tandem::session::config::Config::default();
    let (index, _) =
        tandem::session::indexer::build_index(&[dir.to_path_buf()], &config.workspace, &|_, _| {});
    let file = DocFile {
        path: "pipeline.py".into(),
        module: "pipeline".to_string(),
        source: Arc::from(source),
    };
    let tree = parse_str(source, None);
    let targets = plan_targets(&file, &tree, &DocScope::File, DocstringStyle::Google);
    let display = |p: &Path| p.display().to_string();
    let context = DocContext::from_index(&index, &file.module, &display);
    let callees_of = |t: &DocTarget| -> Vec<String> {
        match context.callees.get(&t.qualified_name) {
            Some(c) => c.clone(),
            None => local_callees(t, &file.module),
        }
    };
    let (order, waits) = callee_first(&targets, &callees_of);
    (targets, order, waits)
}
