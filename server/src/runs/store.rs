//! `RunStore`: the SQLite history of runs at `.tandem/tandem.db`.
//!
//! Four tables: `runs` (one row per run, its status, timings, token usage and last error),
//! `run_items` (the plan items a run is to carry out, in order, for resuming), `steps` (one row
//! per attempt at an item) and `events` (append-only, enforced by triggers: every transition,
//! with a JSON payload). Every change of state is one immediate transaction that checks the
//! transition against the state machine, updates the row and appends the event, so a crash
//! leaves either the whole transition or none of it.
//!
//! The database is in WAL mode with a busy timeout, so the language server and a headless
//! `tandem run` can share it. Opening the store marks runs left `running` by a process that
//! no longer exists as `interrupted` (crash recovery); runs of a live process are left alone.
//! The schema version is `PRAGMA user_version`, and `migrate` brings older databases up to
//! date.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use serde_json::json;

use super::state::RunStatus;
use super::time::{compact_utc, now_ms};

/// Where the database lives in a workspace.
pub const DB_PATH: &str = ".tandem/tandem.db";

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// The migration to each version, from the one before (index 0 creates version 1).
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    request     TEXT NOT NULL,
    plan_id     TEXT,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    tokens_in   INTEGER NOT NULL DEFAULT 0,
    tokens_out  INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    owner_pid   INTEGER
);
CREATE INDEX runs_status ON runs(status);
CREATE TABLE run_items (
    run_id   TEXT NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    item_id  TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id)
);
CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs(id),
    item_id     TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    error       TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    tokens_in   INTEGER NOT NULL DEFAULT 0,
    tokens_out  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_id, item_id, attempt)
);
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    run_id  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_run ON events(run_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
"#];

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no run `{0}`")]
    NotFound(String),
    #[error("run id `{id}` is ambiguous: {}", .candidates.join(", "))]
    Ambiguous { id: String, candidates: Vec<String> },
    #[error("run {run}: cannot go from {from} to {to}")]
    IllegalTransition {
        run: String,
        from: RunStatus,
        to: RunStatus,
    },
    #[error("step {step} of run {run}: cannot go from {from} to {to}")]
    IllegalStepTransition {
        run: String,
        step: i64,
        from: RunStatus,
        to: RunStatus,
    },
    #[error("run {run} is {status}; steps are recorded only while it is running")]
    NotRunning { run: String, status: RunStatus },
    #[error(
        "{path}: the run database has schema version {found}, newer than this Tandem's {supported}"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("run database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("run database holds an unknown status: {0}")]
    Corrupt(String),
}

pub type Result<T, E = RunError> = std::result::Result<T, E>;

/// Model tokens spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
}

/// What a new run is.
#[derive(Debug, Clone, Default)]
pub struct NewRun<'a> {
    /// `plan`, `execute`, `implement`, ...
    pub kind: &'a str,
    /// The user's request or what the run carries out.
    pub request: &'a str,
    pub plan_id: Option<&'a str>,
    /// The ids of the items to carry out, in order (empty for runs without items).
    pub items: &'a [String],
}

/// An attempt at an item, as `start_step` returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepId(pub i64);

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Succeeded,
    Failed(String),
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub kind: String,
    pub request: String,
    pub plan_id: Option<String>,
    pub status: RunStatus,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// When it first started running.
    pub started_at: Option<i64>,
    /// When it last reached succeeded, failed, cancelled or interrupted.
    pub finished_at: Option<i64>,
    pub tokens: Tokens,
    pub error: Option<String>,
}

impl RunSummary {
    /// From start to finish, or to now for a run still going.
    pub fn duration_ms(&self, now: i64) -> Option<i64> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now) - start)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    pub id: StepId,
    pub item_id: String,
    /// 1 for the first attempt at the item.
    pub attempt: u32,
    pub status: RunStatus,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub tokens: Tokens,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    pub at: i64,
    pub kind: String,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunDetails {
    #[serde(flatten)]
    pub run: RunSummary,
    pub items: Vec<String>,
    /// Items without a successful attempt, in order.
    pub pending_items: Vec<String>,
    /// Every attempt, by item order then attempt.
    pub steps: Vec<StepRecord>,
    pub events: Vec<EventRecord>,
}

/// The run history of one workspace.
pub struct RunStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    recovered: Vec<String>,
}

impl std::fmt::Debug for RunStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStore")
            .field("path", &self.path)
            .finish()
    }
}

impl RunStore {
    /// Opens (creating it if needed) the store of the workspace at `root`, migrates it, and
    /// marks runs left `running` by a dead process as `interrupted`.
    pub fn open(root: &Path) -> Result<RunStore> {
        let path = root.join(DB_PATH);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|error| RunError::Io {
                path: dir.display().to_string(),
                error,
            })?;
        }
        Self::open_file(&path)
    }

    /// Like `open`, but `None` when the workspace has no database yet (nothing is created).
    pub fn open_existing(root: &Path) -> Result<Option<RunStore>> {
        let path = root.join(DB_PATH);
        if !path.is_file() {
            return Ok(None);
        }
        Self::open_file(&path).map(Some)
    }

    /// Opens the database file at `path`.
    pub fn open_file(path: &Path) -> Result<RunStore> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn, path)?;
        let recovered = recover(&mut conn)?;
        Ok(RunStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            recovered,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The runs this `open` found left running by a dead process and marked `interrupted`.
    pub fn recovered(&self) -> &[String] {
        &self.recovered
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done transaction behind (it is
        // rolled back when dropped), so the connection is still good.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a new `pending` run and returns its id (`20260501-123456-3fa2`: sortable).
    pub fn create_run(&self, new: &NewRun<'_>) -> Result<String> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_ms();
        let id = loop {
            let id = format!("{}-{:04x}", compact_utc(now), random_u16());
            let taken: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM runs WHERE id = ?1)",
                [&id],
                |r| r.get(0),
            )?;
            if !taken {
                break id;
            }
        };
        // The creator owns the run from the start, so a run whose process died before it
        // started is recovered too.
        tx.execute(
            "INSERT INTO runs (id, kind, request, plan_id, status, created_at, updated_at, owner_pid)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            params![
                id,
                new.kind,
                new.request,
                new.plan_id,
                RunStatus::Pending.as_str(),
                now,
                std::process::id()
            ],
        )?;
        for (position, item) in new.items.iter().enumerate() {
            tx.execute(
                "INSERT INTO run_items (run_id, position, item_id) VALUES (?1, ?2, ?3)",
                params![id, position as i64, item],
            )?;
        }
        append_event(
            &tx,
            &id,
            now,
            "created",
            &json!({"kind": new.kind, "request": new.request, "plan_id": new.plan_id, "items": new.items}),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// pending, interrupted or failed → running (a start or a resume). The run belongs to
    /// this process until it ends.
    pub fn start_run(&self, id: &str) -> Result<()> {
        self.transition(id, RunStatus::Running, None)
    }

    /// running → succeeded.
    pub fn finish_run(&self, id: &str) -> Result<()> {
        self.transition(id, RunStatus::Succeeded, None)
    }

    /// → failed, with the reason.
    pub fn fail_run(&self, id: &str, error: &str) -> Result<()> {
        self.transition(id, RunStatus::Failed, Some(error))
    }

    /// pending or running → interrupted, with the reason: the process stops before the run
    /// ends (its editor went away). Later transitions other than a resume or a cancel are
    /// refused, so work still in flight cannot record a failure the stop caused.
    pub fn interrupt_run(&self, id: &str, reason: &str) -> Result<()> {
        self.transition(id, RunStatus::Interrupted, Some(reason))
    }

    /// → cancelled, with an optional reason.
    pub fn cancel_run(&self, id: &str, reason: Option<&str>) -> Result<()> {
        self.transition(id, RunStatus::Cancelled, reason)
    }

    fn transition(&self, id: &str, to: RunStatus, error: Option<&str>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transition_in(&tx, id, to, error, "status", std::process::id())?;
        tx.commit()?;
        Ok(())
    }

    /// Appends an event that is no transition (e.g. what the editor did with a run's edits).
    pub fn record_event(&self, id: &str, kind: &str, payload: &serde_json::Value) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let _ = run_status(&tx, id)?;
        append_event(&tx, id, now_ms(), kind, payload)?;
        tx.commit()?;
        Ok(())
    }

    /// Adds model usage that belongs to the run but to no step (the planner's call).
    pub fn record_usage(&self, id: &str, tokens: Tokens) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let _ = run_status(&tx, id)?;
        let now = now_ms();
        tx.execute(
            "UPDATE runs SET tokens_in = tokens_in + ?2, tokens_out = tokens_out + ?3,
             updated_at = ?4 WHERE id = ?1",
            params![id, tokens.input as i64, tokens.output as i64, now],
        )?;
        append_event(
            &tx,
            id,
            now,
            "usage",
            &json!({"tokens_in": tokens.input, "tokens_out": tokens.output}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Starts the next attempt at `item` of a running run.
    pub fn start_step(&self, run: &str, item: &str) -> Result<StepId> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let status = run_status(&tx, run)?;
        if status != RunStatus::Running {
            return Err(RunError::NotRunning {
                run: run.to_string(),
                status,
            });
        }
        let attempt: i64 = tx.query_row(
            "SELECT COALESCE(MAX(attempt), 0) + 1 FROM steps WHERE run_id = ?1 AND item_id = ?2",
            params![run, item],
            |r| r.get(0),
        )?;
        let now = now_ms();
        tx.execute(
            "INSERT INTO steps (run_id, item_id, attempt, status, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![run, item, attempt, RunStatus::Running.as_str(), now],
        )?;
        let step = tx.last_insert_rowid();
        tx.execute(
            "UPDATE runs SET updated_at = ?2 WHERE id = ?1",
            params![run, now],
        )?;
        append_event(
            &tx,
            run,
            now,
            "step_started",
            &json!({"step": step, "item": item, "attempt": attempt}),
        )?;
        tx.commit()?;
        Ok(StepId(step))
    }

    /// Ends an attempt with its outcome and the tokens it spent (added to the run's too).
    pub fn finish_step(&self, step: StepId, outcome: &StepOutcome, tokens: Tokens) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (run, item, attempt, status): (String, String, i64, String) = tx
            .query_row(
                "SELECT run_id, item_id, attempt, status FROM steps WHERE id = ?1",
                [step.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?
            .ok_or_else(|| RunError::NotFound(format!("step {}", step.0)))?;
        let from = parse_status(&status)?;
        let (to, error) = match outcome {
            StepOutcome::Succeeded => (RunStatus::Succeeded, None),
            StepOutcome::Failed(e) => (RunStatus::Failed, Some(e.as_str())),
            StepOutcome::Cancelled => (RunStatus::Cancelled, None),
        };
        if !from.step_may_become(to) {
            return Err(RunError::IllegalStepTransition {
                run,
                step: step.0,
                from,
                to,
            });
        }
        let now = now_ms();
        tx.execute(
            "UPDATE steps SET status = ?2, error = ?3, finished_at = ?4,
             tokens_in = tokens_in + ?5, tokens_out = tokens_out + ?6 WHERE id = ?1",
            params![
                step.0,
                to.as_str(),
                error,
                now,
                tokens.input as i64,
                tokens.output as i64
            ],
        )?;
        tx.execute(
            "UPDATE runs SET tokens_in = tokens_in + ?2, tokens_out = tokens_out + ?3,
             updated_at = ?4 WHERE id = ?1",
            params![run, tokens.input as i64, tokens.output as i64, now],
        )?;
        append_event(
            &tx,
            &run,
            now,
            "step_finished",
            &json!({"step": step.0, "item": item, "attempt": attempt, "status": to.as_str(),
                    "error": error, "tokens_in": tokens.input, "tokens_out": tokens.output}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The most recent runs first.
    pub fn list_runs(&self, limit: usize) -> Result<Vec<RunSummary>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs ORDER BY created_at DESC, id DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit.min(i64::MAX as usize) as i64], run_row)?;
        rows.map(|r| r?).collect()
    }

    /// A run with its items, attempts and events (`id` may be an unambiguous prefix).
    pub fn show_run(&self, id_or_prefix: &str) -> Result<RunDetails> {
        let conn = self.conn();
        let id = find_id(&conn, id_or_prefix)?;
        let run = conn.query_row(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
            [&id],
            run_row,
        )??;
        let items = items_of(&conn, &id)?;
        let pending_items = pending_of(&conn, &id)?;
        let mut stmt = conn.prepare(
            "SELECT s.id, s.item_id, s.attempt, s.status, s.error, s.started_at, s.finished_at,
                    s.tokens_in, s.tokens_out
             FROM steps s LEFT JOIN run_items i ON i.run_id = s.run_id AND i.item_id = s.item_id
             WHERE s.run_id = ?1 ORDER BY COALESCE(i.position, 1e18), s.item_id, s.attempt",
        )?;
        let steps = stmt
            .query_map([&id], |r| {
                let status: String = r.get(3)?;
                Ok((
                    StepRecord {
                        id: StepId(r.get(0)?),
                        item_id: r.get(1)?,
                        attempt: r.get::<_, i64>(2)? as u32,
                        status: RunStatus::Pending,
                        error: r.get(4)?,
                        started_at: r.get(5)?,
                        finished_at: r.get(6)?,
                        tokens: Tokens {
                            input: r.get::<_, i64>(7)? as u64,
                            output: r.get::<_, i64>(8)? as u64,
                        },
                    },
                    status,
                ))
            })?
            .map(|r| {
                let (mut step, status) = r?;
                step.status = parse_status(&status)?;
                Ok(step)
            })
            .collect::<Result<Vec<_>>>()?;
        drop(stmt);
        let events = events_of(&conn, &id)?;
        Ok(RunDetails {
            run,
            items,
            pending_items,
            steps,
            events,
        })
    }

    /// The event log of a run, oldest first.
    pub fn events(&self, id: &str) -> Result<Vec<EventRecord>> {
        let conn = self.conn();
        let id = find_id(&conn, id)?;
        events_of(&conn, &id)
    }

    /// The items of a run that have no successful attempt yet, in order: what a resume
    /// carries out.
    pub fn pending_items(&self, id: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let id = find_id(&conn, id)?;
        pending_of(&conn, &id)
    }
}

const RUN_COLUMNS: &str = "id, kind, request, plan_id, status, created_at, updated_at, \
                           started_at, finished_at, tokens_in, tokens_out, error";

/// Reads a `RUN_COLUMNS` row; the inner result is a bad status.
fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<RunSummary>> {
    let status: String = r.get(4)?;
    let summary = RunSummary {
        id: r.get(0)?,
        kind: r.get(1)?,
        request: r.get(2)?,
        plan_id: r.get(3)?,
        status: RunStatus::Pending,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        started_at: r.get(7)?,
        finished_at: r.get(8)?,
        tokens: Tokens {
            input: r.get::<_, i64>(9)? as u64,
            output: r.get::<_, i64>(10)? as u64,
        },
        error: r.get(11)?,
    };
    Ok(parse_status(&status).map(|status| RunSummary { status, ..summary }))
}

fn parse_status(s: &str) -> Result<RunStatus> {
    s.parse().map_err(RunError::Corrupt)
}

fn find_id(conn: &Connection, id_or_prefix: &str) -> Result<String> {
    let exact: Option<String> = conn
        .query_row("SELECT id FROM runs WHERE id = ?1", [id_or_prefix], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(id) = exact {
        return Ok(id);
    }
    if id_or_prefix.is_empty() {
        return Err(RunError::NotFound(String::new()));
    }
    let mut stmt = conn
        .prepare("SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 6")?;
    let found = stmt
        .query_map([id_or_prefix], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    match found.len() {
        0 => Err(RunError::NotFound(id_or_prefix.to_string())),
        1 => Ok(found.into_iter().next().expect("one id")),
        _ => Err(RunError::Ambiguous {
            id: id_or_prefix.to_string(),
            candidates: found,
        }),
    }
}

fn run_status(conn: &Connection, id: &str) -> Result<RunStatus> {
    let status: String = conn
        .query_row("SELECT status FROM runs WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| RunError::NotFound(id.to_string()))?;
    parse_status(&status)
}

fn items_of(conn: &Connection, id: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT item_id FROM run_items WHERE run_id = ?1 ORDER BY position")?;
    let items = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(items)
}

fn pending_of(conn: &Connection, id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT i.item_id FROM run_items i WHERE i.run_id = ?1 AND NOT EXISTS (
             SELECT 1 FROM steps s WHERE s.run_id = i.run_id AND s.item_id = i.item_id
             AND s.status = 'succeeded')
         ORDER BY i.position",
    )?;
    let items = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(items)
}

fn events_of(conn: &Connection, id: &str) -> Result<Vec<EventRecord>> {
    let mut stmt =
        conn.prepare("SELECT at, kind, payload FROM events WHERE run_id = ?1 ORDER BY id")?;
    let events = stmt
        .query_map([id], |r| {
            let payload: String = r.get(2)?;
            Ok(EventRecord {
                at: r.get(0)?,
                kind: r.get(1)?,
                payload: serde_json::from_str(&payload)
                    .unwrap_or(serde_json::Value::String(payload)),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(events)
}

fn append_event(
    tx: &Connection,
    run: &str,
    at: i64,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<()> {
    tx.execute(
        "INSERT INTO events (run_id, at, kind, payload) VALUES (?1, ?2, ?3, ?4)",
        params![run, at, kind, payload.to_string()],
    )?;
    Ok(())
}

/// One checked transition inside `tx`: the run row, its open attempts and the event.
fn transition_in(
    tx: &Transaction<'_>,
    id: &str,
    to: RunStatus,
    error: Option<&str>,
    event: &str,
    pid: u32,
) -> Result<()> {
    let from = run_status(tx, id)?;
    if !from.run_may_become(to) {
        return Err(RunError::IllegalTransition {
            run: id.to_string(),
            from,
            to,
        });
    }
    let now = now_ms();
    if to == RunStatus::Running {
        tx.execute(
            "UPDATE runs SET status = ?2, updated_at = ?3, started_at = COALESCE(started_at, ?3),
             finished_at = NULL, error = NULL, owner_pid = ?4 WHERE id = ?1",
            params![id, to.as_str(), now, pid],
        )?;
    } else {
        tx.execute(
            "UPDATE runs SET status = ?2, updated_at = ?3, error = COALESCE(?4, error),
             finished_at = CASE WHEN ?5 THEN ?3 ELSE finished_at END WHERE id = ?1",
            params![
                id,
                to.as_str(),
                now,
                error,
                from == RunStatus::Running || from == RunStatus::Pending
            ],
        )?;
        // Attempts still open end with the run.
        let (step_status, step_error) = match to {
            RunStatus::Cancelled => (RunStatus::Cancelled, None),
            RunStatus::Interrupted => (RunStatus::Interrupted, None),
            _ => (
                RunStatus::Failed,
                Some("the run ended before this attempt did"),
            ),
        };
        tx.execute(
            "UPDATE steps SET status = ?2, error = COALESCE(?3, error), finished_at = ?4
             WHERE run_id = ?1 AND status = 'running'",
            params![id, step_status.as_str(), step_error, now],
        )?;
    }
    append_event(
        tx,
        id,
        now,
        event,
        &json!({"from": from.as_str(), "to": to.as_str(), "error": error, "pid": pid}),
    )?;
    Ok(())
}

/// Brings the schema to `SCHEMA_VERSION`, one migration per version, each in a transaction.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(RunError::TooNew {
                path: path.display().to_string(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

/// Marks runs left `running` (or `pending`) by a process that is gone as `interrupted`.
fn recover(conn: &mut Connection) -> Result<Vec<String>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let open: Vec<(String, String, Option<i64>)> = {
        let mut stmt = tx.prepare(
            "SELECT id, status, owner_pid FROM runs WHERE status IN ('running', 'pending')",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows
    };
    let mut recovered = Vec::new();
    for (id, status, owner) in open {
        // A pending run without an owner comes from an older version, which recorded none:
        // whether its process lives cannot be known, so it is left alone.
        if status == "pending" && owner.is_none() {
            continue;
        }
        if owner.is_some_and(|pid| process_alive(pid as u32)) {
            continue;
        }
        let owner = owner.map_or(0, |p| p as u32);
        transition_in(
            &tx,
            &id,
            RunStatus::Interrupted,
            Some("the process running it stopped"),
            "recovered",
            owner,
        )?;
        recovered.push(id);
    }
    tx.commit()?;
    Ok(recovered)
}

/// Whether a process with this id exists (this process always does). Also used by the
/// headless writer to recognise the temporary files of a process that died.
pub(crate) fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        // A zombie (killed, not yet reaped) still has its folder but is not running.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
            Err(_) => false,
        }
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    {
        std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// Sixteen bits that differ between calls and processes (for run ids).
fn random_u16() -> u16 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_i64(now_ms());
    hasher.finish() as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    fn items(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn store() -> (tempfile::TempDir, RunStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn new_run<'a>(items: &'a [String]) -> NewRun<'a> {
        NewRun {
            kind: "execute",
            request: "add a discount",
            plan_id: Some("p1"),
            items,
        }
    }

    #[test]
    fn a_run_from_start_to_finish() {
        let (dir, store) = store();
        assert!(dir.path().join(".tandem/tandem.db").is_file());
        let its = items(&["s1", "s2"]);
        let id = store.create_run(&new_run(&its)).unwrap();
        assert_eq!(id.len(), "20260501-123456-3fa2".len());
        store.start_run(&id).unwrap();
        store
            .record_usage(
                &id,
                Tokens {
                    input: 100,
                    output: 20,
                },
            )
            .unwrap();
        let a = store.start_step(&id, "s1").unwrap();
        store
            .finish_step(
                a,
                &StepOutcome::Failed("syntax error".into()),
                Tokens {
                    input: 10,
                    output: 5,
                },
            )
            .unwrap();
        let b = store.start_step(&id, "s1").unwrap();
        store
            .finish_step(
                b,
                &StepOutcome::Succeeded,
                Tokens {
                    input: 11,
                    output: 6,
                },
            )
            .unwrap();
        assert_eq!(store.pending_items(&id).unwrap(), vec!["s2"]);
        let c = store.start_step(&id, "s2").unwrap();
        store
            .finish_step(c, &StepOutcome::Succeeded, Tokens::default())
            .unwrap();
        store.finish_run(&id).unwrap();

        let details = store.show_run(&id[..17]).unwrap();
        assert_eq!(details.run.status, RunStatus::Succeeded);
        assert_eq!(
            details.run.tokens,
            Tokens {
                input: 121,
                output: 31
            }
        );
        assert_eq!(details.run.plan_id.as_deref(), Some("p1"));
        assert!(details.run.started_at.is_some() && details.run.finished_at.is_some());
        assert_eq!(details.items, its);
        assert!(details.pending_items.is_empty());
        let attempts: Vec<(&str, u32, RunStatus, Option<&str>)> = details
            .steps
            .iter()
            .map(|s| (s.item_id.as_str(), s.attempt, s.status, s.error.as_deref()))
            .collect();
        assert_eq!(
            attempts,
            vec![
                ("s1", 1, RunStatus::Failed, Some("syntax error")),
                ("s1", 2, RunStatus::Succeeded, None),
                ("s2", 1, RunStatus::Succeeded, None),
            ]
        );
        let kinds: Vec<&str> = details.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "created",
                "status",
                "usage",
                "step_started",
                "step_finished",
                "step_started",
                "step_finished",
                "step_started",
                "step_finished",
                "status"
            ]
        );
        assert_eq!(details.events[9].payload["to"], "succeeded");
        assert_eq!(store.list_runs(10).unwrap().len(), 1);
    }

    #[test]
    fn illegal_transitions_are_refused_and_change_nothing() {
        let (_dir, store) = store();
        let id = store.create_run(&new_run(&[])).unwrap();
        let err = store.finish_run(&id).unwrap_err();
        assert!(matches!(
            err,
            RunError::IllegalTransition {
                from: RunStatus::Pending,
                to: RunStatus::Succeeded,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            format!("run {id}: cannot go from pending to succeeded")
        );
        assert!(matches!(
            store.start_step(&id, "s1"),
            Err(RunError::NotRunning { .. })
        ));
        store.start_run(&id).unwrap();
        let step = store.start_step(&id, "s1").unwrap();
        store.cancel_run(&id, Some("user")).unwrap();
        // The open attempt ended with the run, so it cannot end again.
        assert!(matches!(
            store.finish_step(step, &StepOutcome::Succeeded, Tokens::default()),
            Err(RunError::IllegalStepTransition { .. })
        ));
        assert!(store.start_run(&id).is_err());
        let details = store.show_run(&id).unwrap();
        assert_eq!(details.run.status, RunStatus::Cancelled);
        assert_eq!(details.run.error.as_deref(), Some("user"));
        assert_eq!(details.steps[0].status, RunStatus::Cancelled);
        // Only the successful transitions were logged.
        assert_eq!(
            details.events.iter().filter(|e| e.kind == "status").count(),
            2
        );
        assert!(matches!(store.show_run("nope"), Err(RunError::NotFound(_))));
    }

    #[test]
    fn events_are_append_only() {
        let (_dir, store) = store();
        let id = store.create_run(&new_run(&[])).unwrap();
        let conn = store.conn();
        let err = conn
            .execute("UPDATE events SET kind = 'x'", [])
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(conn
            .execute("DELETE FROM events WHERE run_id = ?1", [&id])
            .is_err());
    }

    #[test]
    fn failed_and_interrupted_runs_resume_with_the_items_not_done() {
        let (dir, store) = store();
        let its = items(&["a", "b", "c"]);
        let id = store.create_run(&new_run(&its)).unwrap();
        store.start_run(&id).unwrap();
        let s = store.start_step(&id, "a").unwrap();
        store
            .finish_step(s, &StepOutcome::Succeeded, Tokens::default())
            .unwrap();
        store.start_step(&id, "b").unwrap();
        let store = reopen_after_the_owner_died(dir.path(), store);
        assert_eq!(store.recovered(), std::slice::from_ref(&id));
        let details = store.show_run(&id).unwrap();
        assert_eq!(details.run.status, RunStatus::Interrupted);
        assert_eq!(details.steps[1].status, RunStatus::Interrupted);
        assert_eq!(details.events.last().unwrap().kind, "recovered");
        assert_eq!(store.pending_items(&id).unwrap(), vec!["b", "c"]);
        store.start_run(&id).unwrap();
        let s = store.start_step(&id, "b").unwrap();
        assert_eq!(store.show_run(&id).unwrap().steps[2].attempt, 2);
        store
            .finish_step(s, &StepOutcome::Succeeded, Tokens::default())
            .unwrap();
        store.fail_run(&id, "c failed").unwrap();
        store.start_run(&id).unwrap();
        assert_eq!(store.pending_items(&id).unwrap(), vec!["c"]);
    }

    /// Pretends the process that owns every run died, and opens the store again.
    fn reopen_after_the_owner_died(root: &Path, store: RunStore) -> RunStore {
        store
            .conn()
            .execute("UPDATE runs SET owner_pid = ?1", [u32::MAX as i64])
            .unwrap();
        drop(store);
        RunStore::open(root).unwrap()
    }

    #[test]
    fn a_run_created_by_a_process_that_died_before_starting_it_is_recovered() {
        let (dir, store) = store();
        let id = store.create_run(&new_run(&items(&["a"]))).unwrap();
        let live = RunStore::open(dir.path()).unwrap();
        assert!(live.recovered().is_empty(), "its creator still runs");
        drop(live);
        let store = reopen_after_the_owner_died(dir.path(), store);
        assert_eq!(store.recovered(), std::slice::from_ref(&id));
        assert_eq!(
            store.show_run(&id).unwrap().run.status,
            RunStatus::Interrupted
        );
        assert_eq!(store.pending_items(&id).unwrap(), vec!["a"]);
        store.start_run(&id).unwrap();
    }

    #[test]
    fn an_interrupted_run_refuses_a_late_failure() {
        let (_dir, store) = store();
        let id = store.create_run(&new_run(&items(&["a"]))).unwrap();
        store.start_run(&id).unwrap();
        let step = store.start_step(&id, "a").unwrap();
        store.interrupt_run(&id, "the editor went away").unwrap();
        // What the work still in flight would record as the process stops.
        assert!(store
            .finish_step(
                step,
                &StepOutcome::Failed("channel closed".into()),
                Tokens::default()
            )
            .is_err());
        assert!(store.fail_run(&id, "channel closed").is_err());
        assert!(store.start_step(&id, "a").is_err());
        let details = store.show_run(&id).unwrap();
        assert_eq!(details.run.status, RunStatus::Interrupted);
        assert_eq!(details.run.error.as_deref(), Some("the editor went away"));
        assert_eq!(details.steps[0].status, RunStatus::Interrupted);
        assert_eq!(store.pending_items(&id).unwrap(), vec!["a"]);
    }

    #[test]
    fn runs_of_a_live_process_are_not_recovered() {
        let (dir, store) = store();
        let id = store.create_run(&new_run(&[])).unwrap();
        store.start_run(&id).unwrap();
        let again = RunStore::open(dir.path()).unwrap();
        assert!(again.recovered().is_empty());
        assert_eq!(again.show_run(&id).unwrap().run.status, RunStatus::Running);
    }

    #[test]
    fn schema_versions() {
        let (dir, store) = store();
        let version: i64 = store
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        store
            .conn()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(store);
        let err = RunStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, RunError::TooNew { .. }), "{err}");
        assert!(RunStore::open_existing(tempfile::tempdir().unwrap().path())
            .unwrap()
            .is_none());
    }

    #[test]
    fn concurrent_writers_share_the_database() {
        let (dir, store) = store();
        let id = store.create_run(&new_run(&[])).unwrap();
        store.start_run(&id).unwrap();
        let store = std::sync::Arc::new(store);
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                let id = id.clone();
                let root = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    // Two threads through the shared store, two through their own connection.
                    let own = (t % 2 == 1).then(|| RunStore::open(&root).unwrap());
                    let s = own.as_ref().unwrap_or(&*store);
                    for _ in 0..20 {
                        let step = s.start_step(&id, &format!("t{t}")).unwrap();
                        s.finish_step(
                            step,
                            &StepOutcome::Succeeded,
                            Tokens {
                                input: 1,
                                output: 1,
                            },
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let details = store.show_run(&id).unwrap();
        assert_eq!(details.steps.len(), 80);
        assert_eq!(
            details.run.tokens,
            Tokens {
                input: 80,
                output: 80
            }
        );
    }

    /// Not a test on its own: the child process of the crash test, which writes until killed.
    #[test]
    fn crash_test_child_writer() {
        let Ok(root) = std::env::var("TANDEM_RUNS_CRASH_ROOT") else {
            return;
        };
        let store = RunStore::open(Path::new(&root)).unwrap();
        let its = items(&["s1", "s2"]);
        let id = store.create_run(&new_run(&its)).unwrap();
        store.start_run(&id).unwrap();
        println!("CHILD-READY");
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        loop {
            let step = store.start_step(&id, "s1").unwrap();
            store
                .finish_step(
                    step,
                    &StepOutcome::Failed("again".repeat(50)),
                    Tokens {
                        input: 3,
                        output: 4,
                    },
                )
                .unwrap();
            store
                .record_usage(
                    &id,
                    Tokens {
                        input: 1,
                        output: 1,
                    },
                )
                .unwrap();
        }
    }

    #[test]
    fn a_writer_killed_mid_transaction_leaves_a_sound_database() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..3u64 {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "runs::store::tests::crash_test_child_writer",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("TANDEM_RUNS_CRASH_ROOT", dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let mut lines = std::io::BufReader::new(stdout).lines();
            assert!(lines.any(|l| l.is_ok_and(|l| l.contains("CHILD-READY"))));
            std::thread::sleep(Duration::from_millis(150 + 70 * round));
            child.kill().unwrap(); // SIGKILL on Unix.
            child.wait().unwrap();

            let store = RunStore::open(dir.path()).unwrap();
            let check: String = store
                .conn()
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok");
            let runs = store.list_runs(100).unwrap();
            assert_eq!(runs.len() as u64, round + 1);
            assert!(runs.iter().all(|r| r.status == RunStatus::Interrupted));
            assert_eq!(store.recovered().len(), 1);
            let details = store.show_run(&store.recovered()[0]).unwrap();
            assert!(
                details.steps.len() > 1,
                "the child wrote before it was killed"
            );
            assert!(details.steps.iter().all(|s| s.status != RunStatus::Running));
            // The totals of the run agree with its attempts and usage events: no transaction
            // was half applied.
            let step_tokens: u64 = details.steps.iter().map(|s| s.tokens.input).sum();
            let usage = details.events.iter().filter(|e| e.kind == "usage").count() as u64;
            assert_eq!(details.run.tokens.input, step_tokens + usage);
        }
    }
}
