//! The `kefu` binary: a thin shell around [`kefu_server::cli::run`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    kefu_server::init_tracing();
    match kefu_server::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kefu: {error:#}");
            ExitCode::FAILURE
        }
    }
}
