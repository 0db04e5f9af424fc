//! Docstrings: placement (being written).
