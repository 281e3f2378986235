//! The command line of a pipeline binary.
