//! The `azure` room.

pub mod blob;
pub mod sas;
