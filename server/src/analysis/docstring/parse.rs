//! Docstrings: parse (being written).
