//! Schemas shared by the integration tests.
#![allow(dead_code)]

pub mod changes;
pub mod projects;
