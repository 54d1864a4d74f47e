fn main() -> std::process::ExitCode {
    flask_bind_guard::cli::main()
}
