//! Define, run, track and publish Azure Machine Learning pipelines as typed Rust functions.
