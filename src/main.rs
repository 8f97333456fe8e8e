//! The `switchboard` binary: parse the command line, load the configuration, run.

use clap::Parser;

use switchboard::cli::{self, Cli};
use switchboard::config::Config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    switchboard::telemetry::init(config.log_format);
    let code = match cli::run(cli, config).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("switchboard: {e:#}");
            1
        }
    };
    // Everything that matters has finished (requests in flight, commits); background workers
    // keep their state in the database, so leave now instead of waiting on them to wind down.
    std::process::exit(code)
}
