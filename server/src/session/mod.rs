//! Session state: open documents, positions and configuration.

pub mod config;
