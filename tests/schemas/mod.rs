//! Schemas shared by the integration tests.
#![allow(dead_code)]

pub mod changes;
pub mod parity;
pub mod projects;
