//! The `azure` room.
