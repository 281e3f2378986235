//! The `local` room.
