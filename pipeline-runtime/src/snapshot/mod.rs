//! The `snapshot` room.
