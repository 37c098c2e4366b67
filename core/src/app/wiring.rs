//! How the app's services are built and connected: each gets what it needs through its
//! constructor, and the few ways they talk upward (the activity log and the outbox telling
//! the windows, the outbox asking for tokens) are closures and hooks wired here.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast::error::RecvError;

use super::App;
use crate::accounts::{self, Accounts};
use crate::activity::ActivityLog;
use crate::auth::grant::{GrantParts, Grants};
use crate::auth::refresher::Refresher;
use crate::auth::revocation::Revocations;
use crate::auth::statuses::Statuses;
use crate::background::Background;
use crate::error::Result;
use crate::events::{Event, Events};
use crate::outbox::{
    target_of, Courier, Outbox, OutboxHooks, OutboxItem, SendTarget, StatusSource,
};
use crate::retention::Retention;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::store::Store;
use crate::vault::{Keychain, Vault};

/// Builds every service over one store, keychain and event channel.
pub(super) fn assemble(settings: Settings) -> Result<App> {
    // Bad provider profiles are reported before any file is created.
    let providers = accounts::load_providers(&settings)?;
    let store = Arc::new(Store::open(&settings.db_path())?);
    let keychain = Keychain::new(Vault::new(settings.keyring_service.clone()));
    let accounts = Arc::new(Accounts::open(
        store.clone(),
        keychain.clone(),
        providers,
        &settings,
    )?);
    let events = Events::default();
    let publish = events.clone();
    let activity = ActivityLog::new(store.clone(), settings.clock.clone(), move |a| {
        publish.publish(Event::Activity(a.clone()))
    })?;
    let outbox = Outbox::open(store.clone())?;
    let clock = settings.clock.clone();
    let statuses = Arc::new(Statuses::new(
        accounts.clone(),
        events.clone(),
        clock.clone(),
    ));
    let refresher = Arc::new(Refresher::new(
        accounts.clone(),
        keychain.clone(),
        statuses.clone(),
        activity.clone(),
        clock.clone(),
        settings.data_dir.clone(),
    ));
    let revocations = Arc::new(Revocations::new(
        accounts.clone(),
        keychain.clone(),
        statuses.clone(),
        refresher.clone(),
        activity.clone(),
        clock,
    ));
    let grants = Arc::new(Grants::new(
        GrantParts {
            accounts: accounts.clone(),
            keychain: keychain.clone(),
            statuses: statuses.clone(),
            refresher: refresher.clone(),
            revocations: revocations.clone(),
            activity: activity.clone(),
            events: events.clone(),
        },
        &settings,
    ));
    let hooks = Arc::new(SendHooks {
        accounts: accounts.clone(),
        refresher: refresher.clone(),
        events: events.clone(),
        activity: activity.clone(),
    });
    let status_of = statuses.clone();
    let status: StatusSource = Arc::new(move |address| status_of.status(address));
    let courier = Arc::new(Courier::new(outbox, hooks, status));
    let retention = Arc::new(Retention::new(store, activity.clone(), &settings));
    Ok(App {
        settings: Arc::new(settings),
        events,
        activity,
        keychain,
        accounts,
        statuses,
        refresher,
        grants,
        revocations,
        courier,
        retention,
        background: Arc::new(AtomicBool::new(false)),
        loops: Background::default(),
    })
}

/// The outbox's view of the app: profiles from [`Accounts`], tokens from the [`Refresher`],
/// changes to the event channel and the activity log.
struct SendHooks {
    accounts: Arc<Accounts>,
    refresher: Arc<Refresher>,
    events: Events,
    activity: ActivityLog,
}

#[async_trait]
impl OutboxHooks for SendHooks {
    async fn target(&self, account: &str) -> Result<SendTarget> {
        Ok(target_of(&self.accounts.provider_for(account)?))
    }

    async fn access_token(&self, account: &str) -> Result<Secret> {
        self.refresher.access_token(account).await
    }

    async fn refresh_after_rejection(&self, account: &str) -> Result<Secret> {
        self.refresher.refresh_after_rejection(account).await
    }

    fn changed(&self, item: &OutboxItem) {
        self.events.publish(Event::Outbox(item.clone()));
    }

    fn activity(&self, account: &str, kind: &str, summary: &str, ok: bool) {
        if let Err(e) = self.activity.record(Some(account), kind, summary, ok) {
            tracing::warn!("could not log a send: {}", e.code());
        }
    }
}

/// Hands every published status to the courier, which requeues the account's waiting mail
/// when its grant works again (a reauthorization in this process).
pub(super) fn requeue_on_status(events: &Events, courier: Arc<Courier>, loops: &Background) {
    let mut changes = events.subscribe();
    loops.spawn(move |stopping| async move {
        loop {
            let change = tokio::select! {
                _ = stopping.requested() => return,
                change = changes.recv() => change,
            };
            match change {
                Ok(Event::Status(s)) => courier.status_changed(&s),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    });
}
