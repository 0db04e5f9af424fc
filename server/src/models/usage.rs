//! Token usage: what each answer cost, and ledgers that add it up per run and per session.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Tokens in and out of one or more calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, as the server counted them (or as estimated, see `estimated`).
    pub input_tokens: u64,
    /// Answer tokens.
    pub output_tokens: u64,
    /// HTTP requests that reached the model (retries and repair rounds included).
    pub requests: u32,
    /// Answers served from the cache, which cost no tokens.
    pub cached: u32,
    /// Some of the counts are our estimate because the server did not report usage.
    pub estimated: bool,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.requests += other.requests;
        self.cached += other.cached;
        self.estimated |= other.estimated;
    }
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let approx = if self.estimated { "~" } else { "" };
        write!(
            f,
            "{approx}{} tokens in, {approx}{} out, {} request{}",
            self.input_tokens,
            self.output_tokens,
            self.requests,
            if self.requests == 1 { "" } else { "s" }
        )?;
        if self.cached > 0 {
            write!(f, ", {} from the cache", self.cached)?;
        }
        Ok(())
    }
}

/// Usage by model name, shared by clones: a run creates one and gives it to the router
/// (`ModelRouter::with_ledger`), and everything the run asks is added to it, including calls
/// whose answers were then rejected.
#[derive(Debug, Clone, Default)]
pub struct UsageLedger {
    by_model: Arc<Mutex<BTreeMap<String, Usage>>>,
}

impl UsageLedger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&self, model: &str, usage: Usage) {
        let mut map = self.by_model.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(model.to_string()).or_default() += usage;
    }

    /// A copy of the usage so far, by model.
    pub fn by_model(&self) -> BTreeMap<String, Usage> {
        self.by_model
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// All models together.
    pub fn total(&self) -> Usage {
        let mut total = Usage::default();
        for usage in self.by_model().into_values() {
            total += usage;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledgers_add_up_by_model_and_share_between_clones() {
        let ledger = UsageLedger::new();
        let clone = ledger.clone();
        ledger.record(
            "a",
            Usage {
                input_tokens: 10,
                output_tokens: 2,
                requests: 1,
                ..Usage::default()
            },
        );
        clone.record(
            "a",
            Usage {
                input_tokens: 5,
                output_tokens: 1,
                requests: 1,
                estimated: true,
                ..Usage::default()
            },
        );
        clone.record(
            "b",
            Usage {
                cached: 1,
                ..Usage::default()
            },
        );
        let a = ledger.by_model()["a"];
        assert_eq!((a.input_tokens, a.output_tokens, a.requests), (15, 3, 2));
        assert!(a.estimated);
        assert_eq!(ledger.total().cached, 1);
        assert_eq!(
            ledger.total().to_string(),
            "~15 tokens in, ~3 out, 2 requests, 1 from the cache"
        );
    }
}
