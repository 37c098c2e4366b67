//! `postern-sandbox`: runs the sandbox until SIGTERM or Ctrl-C and prints its endpoints
//! as one JSON line on standard output; logs go to standard error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use postern_sandbox::{start, SandboxConfig};

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
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let config = SandboxConfig {
        state_dir: args.state_dir,
        https_port: args.https_port,
        http_port: args.http_port,
        smtp_tls_port: args.smtp_tls_port,
        smtp_starttls_port: args.smtp_starttls_port,
    };
    let sandbox = match start(config).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("postern-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    match serde_json::to_string(sandbox.endpoints()) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("postern-sandbox: could not print the endpoints: {e}");
            return ExitCode::FAILURE;
        }
    }
    shutdown_signal().await;
    tracing::info!("stopping");
    sandbox.stop().await;
    ExitCode::SUCCESS
}
