//! Docstrings: what the code says a docstring must contain (`facts`), reading existing
//! docstrings in the google, numpy and sphinx styles (`parse`), the DOC checks with pydoclint's
//! numbering (`checks`), writing new docstrings (`render`, `summary`) and placing them in the
//! source byte for byte (`placement`).

pub mod checks;
pub mod facts;
pub mod generate;
pub mod parse;
pub mod placement;
pub mod render;
pub mod summary;
