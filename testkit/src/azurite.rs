//! Starts a real Azurite blob service on 127.0.0.1 for tests.
