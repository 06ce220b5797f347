//! Harness for browser end-to-end tests (work in progress).
