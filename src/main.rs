//! The `remote-hearing` binary: parses the command line and hands over to the library.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = remote_hearing::cli::Cli::parse();
    match remote_hearing::cli::execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            if e.is::<remote_hearing::audit::monitor::ForkError>() {
                ExitCode::from(3)
            } else if e.is::<remote_hearing::audit::usage::UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn one_line(e: &anyhow::Error) -> String {
    let parts: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    parts.join(": ").replace('\n', " ")
}
