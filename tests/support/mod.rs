//! Shared helpers for integration tests. Use from a test file with `mod support;`. The
//! PostgreSQL harness itself is `pgrls::testing`.
#![allow(dead_code)]

pub mod pgbouncer;
pub mod proxy;
pub mod replica;
pub mod service;
pub mod tokens;
