//! `data-event-records`: parses the configuration, then runs the API. A bad setting or a start failure is one
//! line on stderr and a non-zero exit; a provider that does not answer yet is not a failure.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use data_event_records::{Cli, run};
use portcullis_validation::SystemClock;

/// Exit status for a configuration that cannot work (as clap uses for bad arguments).
const BAD_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match cli.settings(Arc::new(SystemClock)) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("data-event-records: {error}");
            return ExitCode::from(BAD_CONFIG);
        }
    };
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(&settings.log)).init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("data-event-records: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("data-event-records: {failure}");
            ExitCode::FAILURE
        }
    }
}
