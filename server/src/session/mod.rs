//! Session state: open documents, positions and configuration. Nothing here knows LSP types.

pub mod config;
pub mod documents;
pub mod indexer;
pub mod position;
pub mod project_files;
pub mod workspace;
