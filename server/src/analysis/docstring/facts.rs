//! Docstrings: facts (being written).
