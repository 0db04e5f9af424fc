//! Pure analysis of Python source: text in, facts out. Nothing in here does I/O.

pub mod callgraph;
mod children;
pub mod display;
pub mod docstring;
pub mod finding;
pub(crate) mod flat;
pub mod index;
pub mod outline;
pub mod packed_outline;
pub mod parse;
pub mod project_rules;
pub mod references;
pub mod rules;
pub mod stored_text;
