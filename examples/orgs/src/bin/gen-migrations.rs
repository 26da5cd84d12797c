fn main() -> std::process::ExitCode {
    rls::gen_migrations!(orgs_example::SCHEMA)
}
