//! The history of runs (plans, executions, implementations): a SQLite store at
//! `.tandem/tandem.db` with runs, the items of each run, step attempts and an append-only
//! event log of every transition (`store`), and the state machine that says which transitions
//! are allowed (`state`). The executor records through `RunStore`; `tandem runs` reads it.
//! See `docs/runs.md`.

pub mod state;
pub mod store;
pub mod time;

pub use state::RunStatus;
pub use store::{
    EventRecord, NewRun, RunDetails, RunError, RunStore, RunSummary, StepId, StepOutcome,
    StepRecord, Tokens,
};
