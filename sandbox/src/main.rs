//! `postern-sandbox`: runs the sandbox until SIGTERM or Ctrl-C and prints its endpoints and
//! admin token as one JSON line on standard output; logs go to standard error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use postern_sandbox::{start, Profile, SandboxConfig};

/// A local emulator of Google's OAuth 2.0 endpoints and Gmail's SMTP server.
#[derive(Debug, Parser)]
#[command(name = "postern-sandbox", version, about)]
struct Args {
    /// Directory for ca.pem (default: a temporary directory removed at exit).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// HTTPS port: token, revoke, tokeninfo, userinfo, discovery (0 = any free port).
    #[arg(long, default_value_t = 0)]
    https_port: u16,
    /// Plain-HTTP port: the consent page and /admin (0 = any free port).
    #[arg(long, default_value_t = 0)]
    http_port: u16,
    /// SMTP port with implicit TLS, like 465 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    smtp_tls_port: u16,
    /// SMTP port with STARTTLS, like 587 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    smtp_starttls_port: u16,
    /// Which provider to play: google, or strict (a standards-conformant OAuth 2.0 /
    /// OpenID Connect provider).
    #[arg(long, default_value = "google")]
    profile: Profile,
    /// Lifetime of access tokens in seconds (default 3599, as Google).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    access_token_lifetime: Option<u64>,
}

/// Listens for SIGTERM and SIGINT (Ctrl-C). Installed before the endpoints are printed,
/// so a supervisor that signals as soon as it reads the line is never too early.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let stop = match shutdown_signal() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("postern-sandbox: could not listen for SIGTERM/Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = SandboxConfig {
        state_dir: args.state_dir,
        https_port: args.https_port,
        http_port: args.http_port,
        smtp_tls_port: args.smtp_tls_port,
        smtp_starttls_port: args.smtp_starttls_port,
        profile: args.profile,
        access_token_lifetime: args.access_token_lifetime.map(Duration::from_secs),
        // Random at each start and printed in the JSON line only: a flag would show it to
        // every local user in the process list.
        admin_token: None,
    };
    let sandbox = match start(config).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("postern-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", sandbox.json_line());
    stop.await;
    tracing::info!("stopping");
    sandbox.stop().await;
    ExitCode::SUCCESS
}
