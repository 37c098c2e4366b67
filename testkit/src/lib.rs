//! One test kit for core's suites (`core/tests`) and the app's (`tests/`): free ports, one
//! real headless Chromium, the consent walker (in that browser, or by posting the form), the
//! sandbox as a provider profile, the harness checks, and core's fixtures on top of them (an
//! `App` on a started sandbox, the send suites' outbox hooks).
//!
//! The sandbox's own suites (`sandbox/tests`) keep their own kit: the sandbox imports nothing
//! of Postern's, and its tests check it against the protocol, not against Postern.

pub mod checks;
pub mod chromium;
pub mod consent;
pub mod harness;
pub mod launchers;
pub mod leaks;
pub mod ports;
pub mod process;
pub mod sandbox;
pub mod send;

pub use checks::{collect_files, contains, require_desktop, require_keychain};
pub use chromium::Browser;
pub use consent::{Decision, Landing, Plan};
pub use harness::{log_file, Harness, Options};
pub use launchers::{ChromeLauncher, FormBrowser, RecordingLauncher};
pub use ports::free_port;
pub use postern_sandbox::Profile;
pub use process::{feed, Group};
pub use sandbox::{sandbox_provider, strict_provider};
