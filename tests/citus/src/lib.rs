//! Nothing but a home for the Citus test suite (`tests/`, behind the `cluster` feature): see
//! `Cargo.toml`, and `pgrls::testing::CitusCluster` for the cluster the tests run on.
