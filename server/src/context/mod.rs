//! The context layer: what every model request carries besides the user's question, chosen
//! from the workspace. `profile` summarises the project, `repomap` ranks and renders its
//! definitions, `tokens` estimates sizes. Nothing in here does I/O: callers pass in texts.

pub mod assemble;
pub mod profile;
pub mod repomap;
pub mod tokens;
