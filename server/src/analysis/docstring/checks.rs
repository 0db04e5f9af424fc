//! Docstrings: checks (being written).
