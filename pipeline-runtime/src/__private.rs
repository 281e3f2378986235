//! What generated code reaches; not a public API.
