//! The agent: the features that turn analysis and models into changes to the user's code.
//! Each feature runs the same way in the editor and on the command line; only `lsp/` and `cli/`
//! differ in how results reach the user.

pub mod document;
pub mod execute;
pub mod oracle;
pub mod plan;
pub mod review;

/// Installs the offline engine of every role that has one.
pub fn register_offline_engines(router: &crate::models::ModelRouter) {
    router.register_offline(
        crate::models::Role::Documenter,
        std::sync::Arc::new(document::BuiltinDocumenter),
    );
    router.register_offline(
        crate::models::Role::Reviewer,
        std::sync::Arc::new(review::BuiltinReviewer),
    );
    router.register_offline(
        crate::models::Role::Planner,
        std::sync::Arc::new(plan::BuiltinPlanner),
    );
}
