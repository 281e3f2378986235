//! A fake Azure ML server over real HTTP.
