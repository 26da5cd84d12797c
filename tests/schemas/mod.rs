//! Schemas shared by the integration tests.
#![allow(dead_code)]

pub mod blog;
pub mod changes;
pub mod lint_fixture;
pub mod orgs;
pub mod parity;
pub mod projects;
pub mod supabase;
pub mod teams;
