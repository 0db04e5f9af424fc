//! The language server: the only module that knows LSP types and JSON-RPC.
//!
//! `server.rs` holds the shared state and registers one function per message kind, each in its
//! own file; `convert.rs` is the only place that maps LSP types to the session's and back;
//! `panic_guard.rs` turns a panicking handler into an error response.

mod call_hierarchy;
mod code_action;
mod commands;
mod convert;
pub mod diagnostics;
mod docs;
pub mod document_symbol;
mod execute;
mod lifecycle;
pub mod panic_guard;
mod plan;
mod progress;
mod project;
mod review;
mod server;
mod text_sync;
pub mod transport;
mod workspace_config;

pub use server::{serve, serve_on, ServerState};
