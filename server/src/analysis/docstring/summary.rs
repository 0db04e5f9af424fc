//! Docstrings: summary (being written).
