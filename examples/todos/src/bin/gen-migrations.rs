fn main() -> std::process::ExitCode {
    rls::gen_migrations!(todos_example::SCHEMA)
}
