fn main() -> std::process::ExitCode {
    pgrls::gen_migrations!(orgs_example::SCHEMA)
}
