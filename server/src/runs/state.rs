//! The states of runs and of step attempts, and which changes between them are allowed.
//!
//! ```text
//! pending ──▶ running ──▶ succeeded
//!    │          │ ▲ ──▶ failed ──┐
//!    │          │ │ ──▶ cancelled│
//!    │          │ └──────────────┘ (resume a failed run)
//!    │          ▼ ▲
//!    ├──▶  interrupted ──▶ cancelled
//!    └──▶ cancelled, failed
//! ```
//!
//! `succeeded` and `cancelled` are final. A run left `running` (or `pending`) by a crash
//! becomes `interrupted`; `interrupted` and `failed` runs can be resumed (back to `running`), which
//! runs only the items not yet done. A step attempt starts `running` and ends once.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

pub const ALL_STATUSES: [RunStatus; 6] = [
    RunStatus::Pending,
    RunStatus::Running,
    RunStatus::Succeeded,
    RunStatus::Failed,
    RunStatus::Cancelled,
    RunStatus::Interrupted,
];

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// No transition leaves this state.
    pub fn is_final(self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Cancelled)
    }

    /// Whether a run may go from `self` to `next`.
    pub fn run_may_become(self, next: RunStatus) -> bool {
        use RunStatus::*;
        matches!(
            (self, next),
            (Pending, Running | Cancelled | Failed | Interrupted)
                | (Running, Succeeded | Failed | Cancelled | Interrupted)
                | (Interrupted, Running | Cancelled)
                | (Failed, Running)
        )
    }

    /// Whether a step attempt may go from `self` to `next`: attempts start `running` and
    /// end once.
    pub fn step_may_become(self, next: RunStatus) -> bool {
        use RunStatus::*;
        matches!(
            (self, next),
            (Running, Succeeded | Failed | Cancelled | Interrupted)
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_STATUSES
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown run status `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::RunStatus::*;
    use super::*;

    #[test]
    fn the_run_state_machine() {
        let allowed = [
            (Pending, Running),
            (Pending, Cancelled),
            (Pending, Failed),
            (Pending, Interrupted),
            (Running, Succeeded),
            (Running, Failed),
            (Running, Cancelled),
            (Running, Interrupted),
            (Interrupted, Running),
            (Interrupted, Cancelled),
            (Failed, Running),
        ];
        for from in ALL_STATUSES {
            for to in ALL_STATUSES {
                assert_eq!(
                    from.run_may_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
        for st in ALL_STATUSES {
            if st.is_final() {
                assert!(ALL_STATUSES.iter().all(|&to| !st.run_may_become(to)));
            }
        }
    }

    #[test]
    fn step_attempts_end_once() {
        for from in ALL_STATUSES {
            for to in ALL_STATUSES {
                let want = from == Running && !matches!(to, Pending | Running);
                assert_eq!(from.step_may_become(to), want, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for st in ALL_STATUSES {
            assert_eq!(st.as_str().parse::<RunStatus>(), Ok(st));
        }
        assert!("done".parse::<RunStatus>().is_err());
    }
}
