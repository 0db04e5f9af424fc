//! Docstrings: render (being written).
