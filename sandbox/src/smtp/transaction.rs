//! MAIL, RCPT, DATA and BDAT: the envelope, Gmail's limits (size, recipients per
//! message, the rolling daily quota), the drop-mid-DATA fault, and delivery.

use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver};
use smtp_proto::{MailFrom, RcptTo};

use super::session::{End, Flow, Session};
use crate::mailbox::StoredMessage;

/// Gmail's per-message recipient cap through smtp.gmail.com.
const MAX_RECIPIENTS: usize = 100;

/// An open mail transaction.
#[derive(Debug, Default)]
pub(super) struct Transaction {
    mail_from: String,
    recipients: Vec<String>,
    /// BDAT chunks so far.
    chunks: Vec<u8>,
    /// A BDAT chunk went over the size limit; the rest is discarded.
    too_big: bool,
}

impl Session {
    pub(super) async fn mail(&mut self, from: MailFrom<String>) -> Flow {
        if !self.ready_for_mail().await? {
            return Ok(());
        }
        if self.tx.is_some() {
            return self.reply("503 5.5.1", "Nested MAIL command.").await;
        }
        if from.size > self.shared.max_message_size() {
            let reply = self.r.too_big();
            return self.send(&reply).await;
        }
        self.tx = Some(Transaction {
            mail_from: from.address,
            ..Transaction::default()
        });
        self.reply("250 2.1.0", "OK").await
    }

    pub(super) async fn rcpt(&mut self, to: RcptTo<String>) -> Flow {
        if !self.ready_for_mail().await? {
            return Ok(());
        }
        let (Some(tx), Some(account)) = (&self.tx, &self.account) else {
            return self.reply("503 5.5.1", "need MAIL before RCPT").await;
        };
        if tx.recipients.len() >= MAX_RECIPIENTS {
            return self
                .reply("452 4.5.3", "Your message has too many recipients.")
                .await;
        }
        if self
            .shared
            .over_daily_quota(account, tx.recipients.len() + 1)
        {
            tracing::info!("smtp: daily recipient quota reached");
            let reply = self.r.daily_quota();
            return self.send(&reply).await;
        }
        if let Some(tx) = &mut self.tx {
            tx.recipients.push(to.address);
        }
        self.reply("250 2.1.5", "OK").await
    }

    /// True when a transaction with at least one recipient is open; otherwise replied.
    async fn ready_for_data(&mut self) -> Result<bool, End> {
        if !self.ready_for_mail().await? {
            return Ok(false);
        }
        match &self.tx {
            None => {
                self.reply("503 5.5.1", "MAIL first.").await?;
                Ok(false)
            }
            Some(tx) if tx.recipients.is_empty() => {
                self.reply("503 5.5.1", "RCPT first.").await?;
                Ok(false)
            }
            Some(_) => Ok(true),
        }
    }

    /// The drop-mid-DATA fault: wait for the first bytes of the message, then vanish.
    async fn maybe_drop(&mut self) -> Flow {
        if !self.shared.faults.take_smtp_drop_in_data() {
            return Ok(());
        }
        tracing::info!("smtp: injected connection drop in the middle of DATA");
        if self.inbuf.is_empty() {
            self.fill().await?;
        }
        self.tx = None;
        Err(End::Dropped)
    }

    pub(super) async fn data(&mut self) -> Flow {
        if !self.ready_for_data().await? {
            return Ok(());
        }
        let go_ahead = format!(" Go ahead {} - gsmtp", self.r.sid);
        self.send(&format!("354 {go_ahead}\r\n")).await?;
        self.maybe_drop().await?;
        let max = self.shared.max_message_size();
        let mut receiver = DataReceiver::new();
        let mut overflow: Option<DummyDataReceiver> = None;
        let mut message = Vec::new();
        loop {
            let mut bytes = self.inbuf.iter();
            let done = match &mut overflow {
                Some(dummy) => dummy.ingest(&mut bytes),
                None => receiver.ingest(&mut bytes, &mut message),
            };
            let consumed = self.inbuf.len() - bytes.len();
            self.inbuf.drain(..consumed);
            if done {
                break;
            }
            if overflow.is_none() && message.len() > max {
                overflow = Some(DummyDataReceiver::new_data(&receiver));
                message = Vec::new();
            }
            self.fill().await?;
        }
        if overflow.is_some() || message.len() > max {
            self.tx = None;
            let reply = self.r.too_big();
            return self.send(&reply).await;
        }
        self.deliver(message).await
    }

    pub(super) async fn bdat(&mut self, size: usize, last: bool) -> Flow {
        if !self.ready_for_data().await? {
            // The chunk still arrives and must not be read as commands.
            return self.discard(size).await;
        }
        self.maybe_drop().await?;
        let max = self.shared.max_message_size();
        let mut left = size;
        while left > 0 {
            if self.inbuf.is_empty() {
                self.fill().await?;
            }
            let take = left.min(self.inbuf.len());
            let Some(tx) = self.tx.as_mut() else {
                return Err(End::Closed);
            };
            if !tx.too_big && tx.chunks.len() + take <= max {
                tx.chunks.extend_from_slice(&self.inbuf[..take]);
            } else {
                tx.too_big = true;
                tx.chunks = Vec::new();
            }
            self.inbuf.drain(..take);
            left -= take;
        }
        let too_big = self.tx.as_ref().is_some_and(|tx| tx.too_big);
        if too_big && last {
            self.tx = None;
            let reply = self.r.too_big();
            return self.send(&reply).await;
        }
        if !last {
            return self
                .reply("250 2.0.0", &format!("OK {size} octets received"))
                .await;
        }
        let message = self
            .tx
            .as_mut()
            .map(|tx| std::mem::take(&mut tx.chunks))
            .unwrap_or_default();
        self.deliver(message).await
    }

    async fn discard(&mut self, mut left: usize) -> Flow {
        while left > 0 {
            if self.inbuf.is_empty() {
                self.fill().await?;
            }
            let take = left.min(self.inbuf.len());
            self.inbuf.drain(..take);
            left -= take;
        }
        Ok(())
    }

    async fn deliver(&mut self, raw: Vec<u8>) -> Flow {
        let (Some(tx), Some(account)) = (self.tx.take(), self.account.clone()) else {
            return Err(End::Closed);
        };
        let message = StoredMessage::parse(account, tx.mail_from, tx.recipients, raw);
        self.shared.deliver(message);
        tracing::info!("smtp: message accepted");
        // The message is stored; a slow 250 lets a test act between the two.
        let delay = self.shared.faults.smtp_accept_delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let reply = self.r.accepted_message(self.shared.clock.now());
        self.send(&reply).await
    }
}
