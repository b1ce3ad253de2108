//! `deptoken`: the local runner (HTTP API on loopback with embedded adapters), the DEP
//! simulator, and operator tools.

mod inspect;
mod loopback;
mod serve;
mod simulator;
mod sweep;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "deptoken", version, about = "Keeps Apple DEP server tokens alive: local runner, DEP simulator and operator tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API on a loopback address with an SQLite store, a local key file and an outbox.
    Serve(serve::ServeArgs),
    /// Decrypt a server token file offline and print a JSON summary, never the credentials.
    Inspect(inspect::InspectArgs),
    /// Run the DEP simulator alone.
    DepSim(simulator::DepSimArgs),
    /// Run one expiry sweep over the local store, write due notifications to the outbox, and print the report as JSON.
    Sweep(sweep::SweepArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    deptoken_shared::dep::install_crypto_provider();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Serve(args) => run_async(serve::run(args)),
        Command::DepSim(args) => run_async(simulator::run(args)),
        Command::Sweep(args) => run_async(sweep::run(args)),
    }
}

/// Runs an async command on a multi-threaded runtime; an error is printed with its causes.
fn run_async(command: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
