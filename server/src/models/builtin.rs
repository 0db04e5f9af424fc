//! `builtin`: the offline engine, one per role, with no network.
//!
//! Features plug their offline engines in through [`OfflineEngine`], registered in the router
//! per role (`ModelRouter::register_offline`). Until a feature does, its role is served by
//! [`Unserved`], which never pretends: it says that the role needs a model and names the
//! setting to change. The router validates what an engine returns against the request's
//! schema like any model's answer.

use std::any::Any;
use std::sync::Arc;

use serde_json::Value;

use super::error::ModelError;
use super::{ModelRequest, Role};

/// Answers a role's requests without a model.
///
/// Engines work from the facts the caller attached to the request
/// ([`ModelRequest::with_facts`]), such as the outline of the function to document, rather
/// than from the prompt text: the prompt is written for a model. The engine runs on the
/// blocking thread pool, so it may do CPU-heavy analysis.
pub trait OfflineEngine: Send + Sync {
    /// A value that matches `request.schema`, or why the engine cannot give one (usually
    /// `ModelError::Offline`, naming the setting that would bring in a model).
    fn answer(&self, request: &ModelRequest) -> Result<Value, ModelError>;
}

/// Structured input for offline engines, attached to a request by the feature that builds it
/// and read back by that feature's engine with `downcast_ref`.
pub type OfflineFacts = Arc<dyn Any + Send + Sync>;

/// The engine of a role that has no offline implementation (yet).
#[derive(Debug, Clone, Copy)]
pub struct Unserved {
    pub role: Role,
}

impl Unserved {
    /// The error this engine answers with.
    pub fn error(role: Role) -> ModelError {
        let what = match role {
            Role::Planner => "planning a change needs a model; the offline engine cannot plan",
            Role::Coder => "writing code needs a model; the offline engine cannot write code",
            Role::Reviewer => "the offline engine cannot review code in this version",
            Role::Documenter => "the offline engine cannot write docstrings in this version",
        };
        let key = role.as_str();
        ModelError::Offline {
            role,
            setting: format!("roles.{key}"),
            hint: format!(
                "{what}: define a model under [models.<name>] and set [roles] {key} = \
                 [\"<name>\"] in tandem.toml (see docs/models.md)"
            ),
        }
    }
}

impl OfflineEngine for Unserved {
    fn answer(&self, _request: &ModelRequest) -> Result<Value, ModelError> {
        Err(Unserved::error(self.role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::SchemaName;

    #[test]
    fn unserved_roles_name_the_setting() {
        for role in Role::ALL {
            let request = ModelRequest::new(SchemaName::Plan, "", "x");
            let err = Unserved { role }.answer(&request).unwrap_err();
            let ModelError::Offline { setting, hint, .. } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(setting, &format!("roles.{}", role.as_str()));
            assert!(
                hint.contains(&format!("[roles] {} = ", role.as_str())),
                "{hint}"
            );
            assert_eq!(err.to_string(), *hint);
            assert!(!hint.ends_with('.'));
        }
    }
}
