fn main() -> std::process::ExitCode {
    pgrls::gen_migrations!(todos_example::SCHEMA)
}
