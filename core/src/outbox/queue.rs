//! The outbox as one object: submit, list, retry, discard, wait for a message, and the
//! background loop that carries due messages.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, Notify};
use tokio::task::JoinSet;

use crate::background::{Background, Stopping};
use crate::error::{Error, Result};
use crate::mail::Composed;
use crate::outbox::backoff::Backoff;
use crate::outbox::hooks::OutboxHooks;
use crate::outbox::lease;
use crate::outbox::owner::{new_owner, owner_alive};
use crate::outbox::store::{self, now_unix};
use crate::outbox::worker::{Carrier, PARALLEL};
use crate::outbox::{OutboxItem, OutboxState};
use crate::store::Store;

/// How long the loop sleeps at most: new rows from other processes (a `postern send` while
/// the window or the daemon delivers) are seen within this time.
const IDLE: Duration = Duration::from_secs(5);

/// The durable outbox of one data directory.
pub struct Outbox {
    store: Arc<Store>,
    carrier: Carrier,
    wake: Notify,
    worker_started: AtomicBool,
    /// Until when this process holds the delivery lease (unix seconds; 0: not held). While
    /// more than half of it is left, no other process can take it, so it is not written
    /// again: one database commit fewer per message.
    lease_until: AtomicI64,
}

impl Drop for Outbox {
    fn drop(&mut self) {
        if self.lease_until.load(Ordering::SeqCst) > 0 {
            self.release_lease();
        }
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("owner", &self.carrier.owner())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// Opens the outbox in `store` (running its migrations) with the default backoff.
    pub fn open(store: Arc<Store>) -> Result<Arc<Outbox>> {
        Self::open_with(store, Backoff::default())
    }

    /// Opens the outbox with a chosen backoff (tests use short ones).
    pub fn open_with(store: Arc<Store>, backoff: Backoff) -> Result<Arc<Outbox>> {
        store.migrate("outbox", store::MIGRATIONS)?;
        lease::migrate(&store)?;
        let outbox = Outbox {
            carrier: Carrier::new(store.clone(), backoff, new_owner()),
            store,
            wake: Notify::new(),
            worker_started: AtomicBool::new(false),
            lease_until: AtomicI64::new(0),
        };
        let recovered = outbox.recover_rows()?;
        if !recovered.is_empty() {
            tracing::info!(
                count = recovered.len(),
                "queued again messages left sending by a stopped process"
            );
        }
        Ok(Arc::new(outbox))
    }

    /// Queues again rows abandoned by a process that died; reports them.
    fn recover(&self, hooks: &dyn OutboxHooks) -> Result<()> {
        for id in self.recover_rows()? {
            self.publish(hooks, store::get(&self.store, id)?);
        }
        Ok(())
    }

    /// Rows whose owner is gone go back to the queue. Where processes cannot be looked up
    /// (off Linux), the holder of an unexpired delivery lease counts as alive too, so a row
    /// another running process is sending is not taken from it.
    fn recover_rows(&self) -> Result<Vec<i64>> {
        let lease_holder = if cfg!(target_os = "linux") {
            None
        } else {
            lease::holder(&self.store, now_unix(), |_| true)?
        };
        store::recover_abandoned(&self.store, |o| {
            owner_alive(o, self.carrier.owner()) || lease_holder.as_deref() == Some(o)
        })
    }

    fn publish(&self, hooks: &dyn OutboxHooks, item: OutboxItem) {
        self.carrier.publish(hooks, item);
    }

    /// Every change to any message, for waiting callers.
    pub fn subscribe(&self) -> broadcast::Receiver<OutboxItem> {
        self.carrier.subscribe()
    }

    /// Stores a composed message (after checking its size against the account's limit) and
    /// wakes the worker. Nothing is stored when the check fails.
    pub async fn submit(&self, hooks: &dyn OutboxHooks, message: &Composed) -> Result<OutboxItem> {
        let target = hooks.target(&message.account).await?;
        crate::mail::compose::check_size(message.size(), target.max_message_bytes)?;
        let item = store::insert(&self.store, message)?;
        hooks.activity(
            &message.account,
            "queue",
            &format!(
                "Queued “{}” to {} recipient(s), {} bytes",
                message.subject,
                message.recipients.len(),
                message.size()
            ),
            true,
        );
        self.publish(hooks, item.clone());
        self.wake.notify_one();
        Ok(item)
    }

    /// Every message, newest first.
    pub fn list(&self) -> Result<Vec<OutboxItem>> {
        store::list(&self.store)
    }

    /// One message.
    pub fn get(&self, id: i64) -> Result<OutboxItem> {
        store::get(&self.store, id)
    }

    /// Puts a failed or waiting message back in the queue now.
    pub fn retry(&self, hooks: &dyn OutboxHooks, id: i64) -> Result<OutboxItem> {
        let item = store::requeue(&self.store, id)?;
        self.publish(hooks, item.clone());
        self.wake.notify_one();
        Ok(item)
    }

    /// Takes a message stuck in `sending` back from the process carrying it (which may still
    /// run): sent if the server is known to have accepted it, else queued again — then it
    /// may reach its recipients twice, which the caller must have warned about.
    pub fn take_back(&self, hooks: &dyn OutboxHooks, id: i64) -> Result<OutboxItem> {
        let item = store::take_back(&self.store, id)?;
        self.publish(hooks, item.clone());
        self.wake.notify_one();
        Ok(item)
    }

    /// Deletes a message that is not being sent right now.
    pub fn discard(&self, id: i64) -> Result<()> {
        store::delete(&self.store, id)
    }

    /// The account is valid again (authorized anew): its waiting messages go back in the queue.
    pub fn account_authorized(&self, hooks: &dyn OutboxHooks, account: &str) -> Result<usize> {
        let ids = store::waiting_for(&self.store, account)?;
        for &id in &ids {
            self.retry(hooks, id)?;
        }
        Ok(ids.len())
    }

    /// Accounts that have messages waiting for a reauthorization.
    pub fn waiting_accounts(&self) -> Result<Vec<String>> {
        store::waiting_accounts(&self.store)
    }

    /// Starts the background worker once; later calls do nothing. It runs until the process
    /// ends: see [`Outbox::start_worker_in`] for one that stops.
    pub fn start_worker(self: &Arc<Self>, hooks: Arc<dyn OutboxHooks>) {
        self.start_worker_in(hooks, &Background::default());
    }

    /// Starts the background worker once among `loops`; when they stop, the worker finishes
    /// the messages it is carrying, takes no more and gives up the delivery lease.
    pub fn start_worker_in(self: &Arc<Self>, hooks: Arc<dyn OutboxHooks>, loops: &Background) {
        if self.worker_started.swap(true, Ordering::SeqCst) {
            self.wake.notify_one();
            return;
        }
        let outbox = self.clone();
        loops.spawn(move |stopping| async move {
            outbox.run(hooks, &stopping).await;
            outbox.release_lease();
        });
    }

    /// Whether the background worker runs in this process.
    pub fn worker_running(&self) -> bool {
        self.worker_started.load(Ordering::SeqCst)
    }

    /// Submits `message` and carries it until it is sent, failed or waiting, or `timeout`
    /// passes (then `SendTimedOut`; the message stays queued). Works without the background
    /// worker, for a command line that sends one message and exits.
    pub async fn send_and_wait(
        &self,
        hooks: &dyn OutboxHooks,
        message: &Composed,
        timeout: Duration,
    ) -> Result<OutboxItem> {
        let mut changes = self.subscribe();
        let item = self.submit(hooks, message).await?;
        let mut carried = self.carry(hooks, &[item.id], timeout, &mut changes).await?;
        carried.pop().ok_or(Error::Internal {
            why: "the message was not carried".into(),
        })
    }

    /// [`Outbox::send_and_wait`] that lets go of the message once it is stored: the worker
    /// reads the bytes back from the database, so a large message is not held twice.
    pub async fn send_owned_and_wait(
        &self,
        hooks: &dyn OutboxHooks,
        message: Composed,
        timeout: Duration,
    ) -> Result<OutboxItem> {
        let mut changes = self.subscribe();
        let item = self.submit(hooks, &message).await?;
        drop(message);
        let mut carried = self.carry(hooks, &[item.id], timeout, &mut changes).await?;
        carried.pop().ok_or(Error::Internal {
            why: "the message was not carried".into(),
        })
    }

    /// Carries the messages `ids` until each is settled (sent, failed or waiting) or `timeout`
    /// passes (`SendTimedOut` naming the first one still moving). This process delivers them
    /// itself while it holds the delivery lease; when another process (the window, the daemon)
    /// holds it, that one delivers and this watches the rows.
    pub async fn carry(
        &self,
        hooks: &dyn OutboxHooks,
        ids: &[i64],
        timeout: Duration,
        changes: &mut broadcast::Receiver<OutboxItem>,
    ) -> Result<Vec<OutboxItem>> {
        let deadline = Instant::now() + timeout;
        let result = async {
            loop {
                let here = !self.worker_running() && self.hold_lease(lease::CARRY_LEASE_SECS)?;
                let mut moving = None;
                for &id in ids {
                    if here {
                        self.carrier.attempt(hooks, id).await?;
                    }
                    let now = self.get(id)?;
                    if !now.state.is_settled() && moving.is_none() {
                        moving = Some(now);
                    }
                }
                let Some(moving) = moving else {
                    return ids.iter().map(|&id| self.get(id)).collect();
                };
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::SendTimedOut {
                        id: moving.id,
                        secs: timeout.as_secs(),
                    });
                }
                // Sleep until it is due again (or a change arrives), never past the deadline.
                let due_in = if here && moving.state == OutboxState::Queued {
                    let at: i64 = self.store.with(|c| {
                        c.query_row(
                            "SELECT next_attempt_at FROM outbox WHERE id = ?1",
                            [moving.id],
                            |r| r.get(0),
                        )
                    })?;
                    Duration::from_secs((at - now_unix()).max(0) as u64)
                } else {
                    Duration::from_secs(1)
                };
                let nap = due_in.min(left).max(Duration::from_millis(50));
                let _ = tokio::time::timeout(nap, wait_for(changes, moving.id)).await;
            }
        }
        .await;
        // The lease stays held for the next message (a process that sends many in a row
        // renews it every few seconds, not per message); it lapses within
        // CARRY_LEASE_SECS once this process is idle, and goes at once when this outbox is
        // dropped or with the process, whose end other processes notice (owner.rs).
        result
    }

    /// The background loop: recover abandoned rows, carry due ones (a few at a time), sleep until
    /// the next is due or something is queued.
    /// Returns when a stop is asked, between two batches.
    async fn run(self: &Arc<Self>, hooks: Arc<dyn OutboxHooks>, stopping: &Stopping) {
        let nap = |wait: Duration| async move {
            tokio::select! {
                _ = stopping.requested() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        };
        while !stopping.is_requested() {
            // Another process delivers while it holds the lease; look again after a while.
            match self.hold_lease(lease::LEASE_SECS) {
                Ok(true) => {}
                Ok(false) => {
                    nap(IDLE).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!("the delivery lease could not be read: {e}");
                    nap(IDLE).await;
                    continue;
                }
            }
            if let Err(e) = self.recover(&*hooks) {
                tracing::warn!("outbox recovery failed: {e}");
            }
            let due = store::due(&self.store, 64).unwrap_or_else(|e| {
                tracing::warn!("outbox read failed: {e}");
                Vec::new()
            });
            if !due.is_empty() {
                let mut set = JoinSet::new();
                for id in due {
                    while set.len() >= PARALLEL {
                        set.join_next().await;
                    }
                    // A stop takes no new message; the ones under way finish below.
                    if stopping.is_requested() {
                        break;
                    }
                    let (o, h) = (self.clone(), hooks.clone());
                    set.spawn(async move {
                        if let Err(e) = o.carrier.attempt(&*h, id).await {
                            tracing::warn!("outbox message {id}: {e}");
                        }
                    });
                }
                while set.join_next().await.is_some() {}
                continue;
            }
            let wait = match store::next_due(&self.store) {
                Ok(Some(at)) => {
                    Duration::from_secs((at - now_unix()).clamp(0, IDLE.as_secs() as i64) as u64)
                }
                _ => IDLE,
            };
            nap(wait.max(Duration::from_millis(200))).await;
        }
    }

    /// Takes or renews the delivery lease for this process.
    fn hold_lease(&self, secs: i64) -> Result<bool> {
        let now = now_unix();
        if self.lease_until.load(Ordering::SeqCst) - now > secs / 2 {
            return Ok(true);
        }
        let me = self.carrier.owner();
        let held = lease::try_hold(&self.store, me, now, secs, |o| owner_alive(o, me))?;
        let until = if held { now + secs } else { 0 };
        self.lease_until.store(until, Ordering::SeqCst);
        Ok(held)
    }

    /// Gives the delivery lease up, if this process holds it.
    pub fn release_lease(&self) {
        self.lease_until.store(0, Ordering::SeqCst);
        if let Err(e) = lease::release(&self.store, self.carrier.owner()) {
            tracing::warn!("could not give the delivery lease up: {e}");
        }
    }

    /// Which process delivers now (its owner tag), if any.
    pub fn lease_holder(&self) -> Result<Option<String>> {
        let me = self.carrier.owner();
        lease::holder(&self.store, now_unix(), |o| owner_alive(o, me))
    }

    /// Ids of queued messages (of `account`, or all) that are due now.
    pub fn due_now(&self, account: Option<&str>) -> Result<Vec<i64>> {
        let ids = store::due(&self.store, 10_000)?;
        Ok(match account {
            None => ids,
            Some(a) => ids
                .into_iter()
                .filter(|&id| {
                    self.get(id)
                        .is_ok_and(|i| i.account.eq_ignore_ascii_case(a))
                })
                .collect(),
        })
    }
}

async fn wait_for(changes: &mut broadcast::Receiver<OutboxItem>, id: i64) {
    loop {
        match changes.recv().await {
            Ok(item) if item.id == id && item.state.is_settled() => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            Err(broadcast::error::RecvError::Closed) => {
                std::future::pending::<()>().await;
            }
        }
    }
}
