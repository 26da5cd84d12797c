fn main() -> std::process::ExitCode {
    pgrls::gen_migrations!(orgs_example::citus::SCHEMA, dir = "migrations-citus")
}
