use std::process::ExitCode;

fn main() -> ExitCode {
    portcullis_server::cli::main()
}
