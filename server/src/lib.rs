//! Tandem: a language server that brings a coding agent into any editor for Python projects.
//!
//! The crate is a library plus the `tandem` binary. `lsp` is the only module that knows LSP
//! types and JSON-RPC; `session` owns the open documents, positions and configuration;
//! `analysis` turns Python text into facts and does no I/O; `cli` is the command line, which
//! calls the same engine as the language server. See `ARCHITECTURE.md`.

pub mod agent;
pub mod analysis;
pub mod cli;
pub mod context;
pub mod edits;
pub mod logging;
pub mod lsp;
pub mod models;
pub mod runs;
pub mod session;
