//! `tandem models [--check]`, run as a user would run it, against model servers on loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY_VAR: &str = "TANDEM_CLI_TEST_KEY";
const KEY: &str = "sk-cli-test-SECRET0123456789abcdefghij";

struct Workspace(PathBuf);

impl Workspace {
    fn new(name: &str, tandem_toml: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tandem-cli-models-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("tandem.toml"), tandem_toml).expect("write tandem.toml");
        Workspace(dir)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tandem --workspace DIR models ARGS` with the test key in its environment, on the
/// blocking pool so that the mock servers keep answering.
async fn tandem_models(dir: &Path, args: &[&str]) -> Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("--workspace")
            .arg(&dir)
            .arg("models")
            .args(&args)
            .env(KEY_VAR, KEY)
            .env("TANDEM_LOG", "trace")
            .output()
            .expect("run tandem")
    })
    .await
    .expect("join")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn models_lists_models_and_roles() {
    let ws = Workspace::new(
        "list",
        &format!(
            "[models.local]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n\
             model = \"qwen2.5-coder:7b\"\ncontext_tokens = 32768\n\
             [models.claude]\nprovider = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n\
             api_key_env = \"{KEY_VAR}\"\ncontext_tokens = 200000\n\
             [roles]\nplanner = [\"claude\", \"local\"]\ndocumenter = [\"local\", \"builtin\"]\n"
        ),
    );
    let out = tandem_models(&ws.0, &[]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "local    openai     qwen2.5-coder:7b   at http://127.0.0.1:9/v1/chat/completions"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("https://api.anthropic.com/v1/messages")
            && stdout.contains(&format!("output 4096, key from {KEY_VAR})")),
        "{stdout}"
    );
    assert!(stdout.contains("planner     claude -> local"), "{stdout}");
    assert!(stdout.contains("documenter  local -> builtin"), "{stdout}");
    assert!(stdout.contains("coder       builtin"), "{stdout}");
    assert!(
        stdout.contains("Cache: on, in .tandem/cache/models"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY));
}

#[tokio::test]
async fn models_check_reports_latency_and_exact_failures_without_leaking_the_key() {
    let good = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"message": {"content": "{\"score\": 1, \"issues\": []}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 31, "completion_tokens": 8}
        })))
        .mount(&good)
        .await;
    let bad = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "type": "error",
            "error": {"type": "authentication_error", "message": format!("invalid x-api-key {KEY}")}
        })))
        .mount(&bad)
        .await;
    let ws = Workspace::new(
        "check",
        &format!(
            "cache = false\n\
             [models.good]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"small\"\n\
             [models.bad]\nprovider = \"anthropic\"\nbase_url = \"{}/v1\"\nmodel = \"big\"\n\
             api_key_env = \"{KEY_VAR}\"\n\
             [roles]\nreviewer = [\"bad\", \"good\"]\n",
            good.uri(),
            bad.uri()
        ),
    );
    let out = tandem_models(&ws.0, &["--check"]).await;
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let good_line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("good") && l.contains(" ms "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        good_line.contains("ok") && good_line.contains("31 tokens in, 8 out"),
        "{good_line}"
    );
    let bad_line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("bad") && l.contains("FAILED"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        bad_line.contains("the API key was rejected (401)") && bad_line.contains(KEY_VAR),
        "{bad_line}"
    );
    // Neither the output nor the trace-level logs (reqwest, hyper and rustls included) hold
    // the key.
    assert!(!stdout.contains(KEY), "{stdout}");
    assert!(!stderr.contains(KEY), "{stderr}");
    assert!(!stderr.contains("SECRET0123456789"), "{stderr}");
    assert!(!stderr.is_empty(), "trace logging was on");
    assert!(
        !ws.0.join(".tandem").exists(),
        "checks never write the cache"
    );
}

#[tokio::test]
async fn an_undefined_model_is_an_error_naming_the_key() {
    let ws = Workspace::new("undefined", "[roles]\nplanner = [\"gpt\"]\n");
    let out = tandem_models(&ws.0, &[]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("tandem.toml: `roles.planner`: model `gpt` is not defined"),
        "{stderr}"
    );
    // The file is ignored as a whole, so every role is back on the offline engine.
    assert!(text(&out.stdout).contains("planner     builtin"));
}

#[tokio::test]
async fn without_models_check_says_there_is_nothing_to_check() {
    let ws = Workspace::new("empty", "");
    let out = tandem_models(&ws.0, &["--check"]).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("no models to check"), "{stdout}");
}
