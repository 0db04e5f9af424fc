//! Unit tests: small programs and the edges they must (and must not) produce.
