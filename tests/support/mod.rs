//! Shared helpers for integration tests. Use from a test file with `mod support;`.
#![allow(dead_code)]

pub mod pg;
pub mod service;
pub mod tokens;
