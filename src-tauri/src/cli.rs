//! The command line: the same core as the window, for scripts and other mail programs.
//! Errors go to standard error in the words the window uses, with the fix, and the exit code
//! says what kind of failure it was (see [`EXIT_CODES`]).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use postern_core::auth::flow::{Launcher, SystemLauncher};
use postern_core::mail::compose::Draft;
use postern_core::provider::PublishingStatus;
use postern_core::settings::Settings;
use postern_core::{App, Error};
use postern_core::{OutboxItem, OutboxState};

use crate::{exit, foreground_sandbox, render, startup};

/// Documented in `--help` and the README.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  unexpected error (storage, internal)
  2  bad usage or bad input (an address, a file, a setting); nothing was sent or changed
  3  the account needs you: unknown, revoked, a scope missing, consent declined, a secret
     gone from the keychain, a revocation pending, no Google client set up yet (a message
     being sent waits in the outbox and goes out after `postern authorize`)
  4  the OS keychain is locked or missing
  5  temporary failure (network, server busy, a revocation the provider has not confirmed
     yet); a message is kept and retried, a revocation is retried
  6  the server refused (the message, the sign-in, the sending quota, a certificate, a
     token request)";

#[derive(Parser)]
#[command(
    name = "postern",
    version,
    about = "Send mail through Gmail with OAuth 2.0, and see and control the tokens.",
    long_about = "Send mail through Gmail with OAuth 2.0, and see and control the tokens.\n\n\
        Without a command, starts the desktop app (in sandbox mode when no Google client is configured).",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Work in the sandbox's world (its own data folder and keychain service, never your
    /// real accounts'), against a running `postern sandbox`. `authorize --provider sandbox`
    /// implies it.
    #[arg(long, global = true)]
    pub sandbox: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the accounts and the state of their tokens.
    Accounts {
        /// One JSON array of accounts (shapes as in docs/ipc.md).
        #[arg(long)]
        json: bool,
    },
    /// Show the token status of one account, or of all.
    Status {
        address: Option<String>,
        /// JSON: one TokenStatus, or an array of them.
        #[arg(long)]
        json: bool,
    },
    /// Add an account: opens the browser for consent and catches the redirect.
    Authorize {
        /// The provider: "google" (default), "sandbox" while `postern sandbox` runs, or a
        /// profile from providers.toml.
        #[arg(long, default_value = "google")]
        provider: String,
        /// The address to suggest on the consent page; authorizing it again replaces its grant.
        #[arg(long)]
        login_hint: Option<String>,
        /// Do not open a browser: print the consent address and read back the address the
        /// browser was sent to.
        #[arg(long)]
        no_browser: bool,
    },
    /// Revoke an account's grant at the provider and delete its secrets.
    Revoke { address: String },
    /// Print a valid access token (refreshed first when needed), for msmtp's `passwordeval`.
    Token { address: String },
    /// Send a message: the body from standard input, or a whole RFC 5322 message with --raw.
    Send(SendArgs),
    /// List the outbox, or retry, flush or discard messages.
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxAction>,
        /// JSON: the outbox as an array, or the retried message (also after `retry ID`).
        #[arg(long, global = true)]
        json: bool,
    },
    /// Set a provider's OAuth client: ID as an option, secret from standard input (kept in
    /// the keychain), or both from the JSON file Google's console downloads.
    Client {
        /// "google", or a profile from providers.toml.
        #[arg(default_value = "google")]
        provider: String,
        #[arg(long, conflicts_with = "import")]
        id: Option<String>,
        /// The client JSON file (Desktop client, "installed" form).
        #[arg(long)]
        import: Option<PathBuf>,
        /// Where the client's project stands in Google Cloud Console (Google Auth Platform →
        /// Audience): testing (Google ends grants 7 days after consent), production,
        /// internal, or unknown. Alone, it changes only the status.
        #[arg(long, value_parser = parse_publishing_status)]
        publishing_status: Option<PublishingStatus>,
    },
    /// Run the local Google + Gmail emulator in the foreground, as provider "sandbox".
    Sandbox(foreground_sandbox::SandboxArgs),
    /// Keep tokens fresh and deliver the outbox without a window (for headless machines; a
    /// systemd user unit runs it). One Postern process delivers at a time.
    Daemon,
    /// Postern in the tray with no window open (the desktop app becomes this when its last
    /// window closes, see src-tauri/src/resident.rs).
    #[command(hide = true)]
    Resident,
    /// Sandbox mode's emulator, as a child of the desktop app (src-tauri/src/sandbox_child.rs).
    #[command(hide = true)]
    SandboxChild {
        #[arg(long)]
        state_dir: PathBuf,
        /// The app's process ID: the child ends once its parent is another process.
        #[arg(long)]
        parent: u32,
    },
}

fn parse_publishing_status(s: &str) -> Result<PublishingStatus, String> {
    PublishingStatus::parse(s)
        .ok_or_else(|| "use testing, production, internal or unknown".to_owned())
}

#[derive(Subcommand)]
pub enum OutboxAction {
    /// Try a failed or waiting message again now, and wait for the outcome.
    Retry {
        id: i64,
        /// Take back a message stuck in "sending" from the process carrying it. If that
        /// process did reach the server, the recipients get the message twice.
        #[arg(long)]
        force: bool,
    },
    /// Deliver now everything that can go (waiting mail of accounts that work again, and
    /// every queued message that is due), and wait for the outcomes.
    Flush,
    /// Remove a message from the outbox without sending it.
    Discard { id: i64 },
}

#[derive(Args)]
pub struct SendArgs {
    /// The account to send from (and the From address).
    #[arg(long)]
    pub from: Option<String>,
    /// Recipients, comma-separated (repeatable).
    #[arg(long)]
    pub to: Vec<String>,
    #[arg(long)]
    pub cc: Vec<String>,
    #[arg(long)]
    pub bcc: Vec<String>,
    #[arg(long, default_value = "")]
    pub subject: String,
    /// An HTML alternative of the body, from a file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// A file to attach (repeatable).
    #[arg(long = "attach")]
    pub attachments: Vec<PathBuf>,
    /// Standard input is a whole RFC 5322 message; its headers name the sender and recipients.
    #[arg(long, conflicts_with_all = ["to", "cc", "bcc", "html", "attachments"])]
    pub raw: bool,
    /// Queue the message and return at once instead of waiting for the server's answer.
    #[arg(long)]
    pub no_wait: bool,
}

/// Runs one command; returns the exit code.
pub fn run(command: Command, sandbox: bool) -> i32 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("postern: could not start: {e}");
            return 1;
        }
    };
    match runtime.block_on(dispatch(command, sandbox)) {
        Ok(code) => code,
        Err(e) => exit::report(&e),
    }
}

async fn dispatch(command: Command, sandbox: bool) -> Result<i32, Error> {
    if let Command::Sandbox(args) = command {
        return foreground_sandbox::run(args).await;
    }
    if let Command::SandboxChild { state_dir, parent } = command {
        return Ok(crate::sandbox_child::run_child(state_dir, parent).await);
    }
    let sandbox = sandbox
        || std::env::var_os("POSTERN_SANDBOX").is_some()
        || matches!(&command, Command::Authorize { provider, .. } if provider == startup::SANDBOX_PROVIDER);
    let app = open(sandbox).await?;
    match command {
        Command::Accounts { json } => render::accounts(&app.accounts().await?, json),
        Command::Status { address, json } => match address {
            Some(a) => render::status(&app.status(&a).await?, json),
            None => render::statuses(&app.accounts().await?, json),
        },
        Command::Authorize {
            provider,
            login_hint,
            no_browser,
        } => authorize(&app, &provider, login_hint.as_deref(), no_browser).await,
        Command::Revoke { address } => match app.revoke(&address).await {
            Ok(status) => render::status(&status, false),
            // Not confirmed: say what the account is now (revocation pending), then why.
            Err(e @ Error::RevocationNotConfirmed { .. }) => {
                if let Ok(status) = app.status(&address).await {
                    render::status(&status, false)?;
                }
                Err(e)
            }
            Err(e) => Err(e),
        },
        Command::Token { address } => {
            let token = app.access_token(&address).await?;
            let mut out = std::io::stdout().lock();
            // The one place a token is meant to leave Postern: to the program that asked.
            let _ = writeln!(out, "{}", token.expose());
            Ok(0)
        }
        Command::Send(args) => send(&app, args).await,
        Command::Outbox { action, json } => match action {
            None => render::outbox(&app.outbox().await?, json),
            Some(OutboxAction::Retry { id, force }) => {
                if force {
                    let back = app.take_back_outbox(id).await?;
                    if back.state == OutboxState::Sent {
                        eprintln!("Message {id} had been accepted by the server: it is marked sent, not sent again.");
                        return render::outbox_item(&back, json);
                    }
                    eprintln!("Message {id} was taken back from the process sending it. Warning: if that process reached the server, the recipients get it twice.");
                }
                let item = app.retry_outbox_now(id, DELIVERY_TIMEOUT).await?;
                render::outbox_item(&item, json)?;
                Ok(outcome_code(std::slice::from_ref(&item)))
            }
            Some(OutboxAction::Flush) => {
                let items = app.deliver_now(None, DELIVERY_TIMEOUT).await?;
                if items.is_empty() && !json {
                    eprintln!("Nothing to deliver now.");
                }
                render::outbox(&items, json)?;
                Ok(outcome_code(&items))
            }
            Some(OutboxAction::Discard { id }) => {
                app.discard_outbox(id).await?;
                eprintln!("Message {id} removed from the outbox.");
                Ok(0)
            }
        },
        Command::Client {
            provider,
            id,
            import,
            publishing_status,
        } => client(&app, &provider, id, import, publishing_status).await,
        Command::Daemon => daemon(&app).await,
        Command::Sandbox(_) | Command::SandboxChild { .. } | Command::Resident => {
            unreachable!("handled above")
        }
    }
}

/// The command line's app: the person's own, or the sandbox's world (its own data folder and
/// keychain service) with the running `postern sandbox` as provider "sandbox".
async fn open(sandbox: bool) -> Result<App, Error> {
    let settings = Settings::from_env()?;
    if !sandbox {
        return App::open(settings).await;
    }
    let running = foreground_sandbox::running_provider(&settings);
    let mut world = startup::sandbox_world(&settings);
    world.extra_providers.extend(running);
    App::open(world).await
}

async fn authorize(
    app: &App,
    provider: &str,
    login_hint: Option<&str>,
    no_browser: bool,
) -> Result<i32, Error> {
    let launcher: Arc<dyn Launcher> = if no_browser {
        Arc::new(PasteLauncher { app: app.clone() })
    } else {
        Arc::new(FallbackLauncher { app: app.clone() })
    };
    let account = app.authorize(provider, login_hint, launcher).await?;
    let code = render::status(&account.status, false)?;
    deliver_waiting(app, &account.address).await;
    Ok(code)
}

/// Mail that waited for this authorization goes out now, with progress on standard error.
async fn deliver_waiting(app: &App, address: &str) {
    let waiting = app
        .outbox()
        .await
        .map(|all| {
            all.iter()
                .filter(|i| i.account.eq_ignore_ascii_case(address))
                .filter(|i| matches!(i.state, OutboxState::Waiting | OutboxState::Queued))
                .count()
        })
        .unwrap_or(0);
    if waiting == 0 {
        return;
    }
    eprintln!("Delivering {waiting} message(s) that waited for {address}…");
    match app.deliver_now(Some(address), DELIVERY_TIMEOUT).await {
        Ok(items) => {
            for i in &items {
                eprintln!("  message {} “{}”: {}", i.id, i.subject, i.state);
            }
        }
        Err(e) => {
            let (message, fix) = exit::words(&e);
            eprintln!("postern: not all waiting mail went out: {message}\n  What to do: {fix}");
        }
    }
}

/// How long the command line carries mail before it leaves the rest to a later run.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(300);

/// The exit code for a message after delivery: 0 sent, 3 waiting for the person, 5 still
/// queued (temporary trouble), 6 refused for good.
fn outcome_code(items: &[OutboxItem]) -> i32 {
    items
        .iter()
        .map(|i| match i.state {
            OutboxState::Sent => 0,
            OutboxState::Waiting => 3,
            OutboxState::Queued | OutboxState::Sending => 5,
            OutboxState::Failed => 6,
        })
        .max()
        .unwrap_or(0)
}

/// `postern daemon`: the refresher and the outbox worker with no window, until stopped.
async fn daemon(app: &App) -> Result<i32, Error> {
    app.start_background();
    eprintln!(
        "Postern is running without a window: tokens are refreshed before they expire and the \
         outbox is delivered. Stop it with Ctrl-C (or SIGTERM)."
    );
    foreground_sandbox::wait_for_stop().await;
    // What is under way (a refresh, a message on the wire) finishes first, for a while.
    if !app.stop_background(Duration::from_secs(10)).await {
        eprintln!("Postern stopped while a message or a refresh was still under way; it is settled on the next start.");
    }
    eprintln!("Postern stopped.");
    Ok(0)
}

/// Opens the system browser; when that fails, falls back to asking for the pasted address.
struct FallbackLauncher {
    app: App,
}

impl Launcher for FallbackLauncher {
    fn open(&self, url: &str) -> postern_core::Result<()> {
        if SystemLauncher.open(url).is_ok() {
            eprintln!("The browser is open for consent; waiting for you there (Ctrl-C to stop)…");
            return Ok(());
        }
        PasteLauncher {
            app: self.app.clone(),
        }
        .open(url)
    }
}

/// Shows the consent address and reads back the address the browser was sent to.
struct PasteLauncher {
    app: App,
}

impl Launcher for PasteLauncher {
    fn open(&self, url: &str) -> postern_core::Result<()> {
        eprintln!("Open this address in a browser and allow access:\n\n  {url}\n");
        eprintln!("If the browser cannot reach this computer, paste here the address it was sent to (it starts with http://127.0.0.1):");
        let app = self.app.clone();
        std::thread::spawn(move || {
            // Until an address is taken or standard input ends; a wrong paste may be corrected.
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                match app.complete_authorize(line.trim()) {
                    Ok(()) => break,
                    Err(e) => {
                        let (message, fix) = exit::words(&e);
                        eprintln!(
                            "postern: {message}\n  What to do: {fix}\nPaste the address again:"
                        );
                    }
                }
            }
        });
        Ok(())
    }
}

async fn send(app: &App, args: SendArgs) -> Result<i32, Error> {
    let input = read_stdin("the message", app.largest_message_bytes())?;
    let item = if args.raw {
        app.send_raw(args.from.as_deref().unwrap_or(""), input)
            .await?
    } else {
        let draft = draft_from(&args, input, app.largest_message_bytes())?;
        if args.no_wait {
            app.send(draft).await?
        } else {
            app.send_and_wait(draft, Duration::from_secs(120)).await?
        }
    };
    render::sent(&item)
}

fn draft_from(args: &SendArgs, body: Vec<u8>, max_message_bytes: u64) -> Result<Draft, Error> {
    let text = String::from_utf8(body).map_err(|_| Error::InvalidInput {
        what: "the message body".into(),
        why: "it is not UTF-8 text".into(),
    })?;
    let html = match &args.html {
        Some(path) => Some(read_text(path)?),
        None => None,
    };
    let mut attachments = Vec::new();
    for path in &args.attachments {
        attachments.push(render::attachment(path, max_message_bytes)?);
    }
    Ok(Draft {
        from: args.from.clone().unwrap_or_default(),
        to: args.to.join(", "),
        cc: args.cc.join(", "),
        bcc: args.bcc.join(", "),
        subject: args.subject.clone(),
        text,
        html,
        attachments,
    })
}

/// A small text file (an HTML body, a client JSON), refused while reading once it passes
/// `TEXT_LIMIT`, so `--html /dev/zero` cannot spend the memory.
fn read_text(path: &PathBuf) -> Result<String, Error> {
    let what = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::InvalidInput {
        what: what.clone(),
        why: format!("cannot read it: {}", render::io_words(&e)),
    })?;
    let bytes = postern_core::mail::input::read_input(file, &what, TEXT_LIMIT)?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidInput {
        what,
        why: "it is not UTF-8 text".into(),
    })
}

/// An HTML body or a client JSON file is far smaller than this.
const TEXT_LIMIT: u64 = 16 * 1024 * 1024;

/// A client secret is a few dozen bytes; anything near this is not one.
const SECRET_LIMIT: u64 = 64 * 1024;

/// Standard input, refused once it passes `limit` (checked while reading).
fn read_stdin(what: &str, limit: u64) -> Result<Vec<u8>, Error> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Type {what}, then Ctrl-D on a line of its own:");
    }
    postern_core::mail::input::read_input(stdin.lock(), what, limit)
}

async fn client(
    app: &App,
    provider: &str,
    id: Option<String>,
    import: Option<PathBuf>,
    status: Option<PublishingStatus>,
) -> Result<i32, Error> {
    if let (None, None, Some(status)) = (&id, &import, status) {
        app.set_publishing_status(provider, status).await?;
        eprintln!(
            "The publishing status of {provider}'s client is now {}.",
            status.as_str()
        );
        return Ok(0);
    }
    let status = status.unwrap_or_default();
    if provider != "google" {
        if id.is_some() || import.is_some() {
            return Err(Error::InvalidInput {
                what: format!("postern client {provider}"),
                why: "the client ID of a custom provider lives in providers.toml; give only the secret, on standard input".into(),
            });
        }
        let secret = read_stdin("the client secret", SECRET_LIMIT)?;
        let secret = String::from_utf8_lossy(&secret).trim().to_string();
        app.set_client_secret(provider, postern_core::Secret::new(secret))?;
        eprintln!("The client secret of {provider} is in the keychain.");
        return Ok(0);
    }
    let info = match (id, import) {
        (_, Some(path)) => app.import_google_client(&read_text(&path)?, status).await?,
        (Some(id), None) => {
            let secret = read_stdin("the client secret", SECRET_LIMIT)?;
            let secret = String::from_utf8_lossy(&secret).trim().to_string();
            app.save_google_client(&id, postern_core::Secret::new(secret), status)
                .await?
        }
        (None, None) => {
            return Err(Error::InvalidInput {
                what: "postern client google".into(),
                why: "give --id ID (and the secret on standard input) or --import FILE".into(),
            })
        }
    };
    eprintln!(
        "Google client saved (ID in {}, secret in the keychain). Next: postern authorize",
        info.config_dir
    );
    Ok(0)
}
