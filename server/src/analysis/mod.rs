//! Pure analysis of Python source: text in, facts out. Nothing in here does I/O.

pub mod display;
pub mod outline;
pub mod parse;
