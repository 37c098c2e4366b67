//! One SMTP connection: reading bounded lines, dispatching commands parsed by smtp-proto,
//! STARTTLS and AUTH. MAIL/RCPT/DATA/BDAT live in `transaction.rs`.

use std::net::SocketAddr;
use std::sync::Arc;

use smtp_proto::{Error as ParseError, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::auth::{self, OAuthMechanism, Undecodable};
use super::reply::{self, Replies};
use super::stream::Stream;
use super::transaction::Transaction;
use super::SmtpMode;
use crate::random;
use crate::state::Shared;
use crate::tls::HANDSHAKE_TIMEOUT;

/// The longest command line accepted (smtp-proto's limit); longer ones get 500.
const MAX_LINE: usize = smtp_proto::request::receiver::MAX_LINE_LENGTH;

/// Why a session ended.
#[derive(Debug)]
pub(super) enum End {
    Quit,
    /// The client went away, timed out, or broke TLS.
    Closed,
    /// A fault closed the connection on purpose.
    Dropped,
}

/// `Err` ends the session.
pub(super) type Flow = Result<(), End>;

pub(super) enum Line {
    Text(Vec<u8>),
    TooLong,
}

pub(super) struct Session {
    pub(super) shared: Arc<Shared>,
    stream: Stream,
    /// Bytes received but not consumed yet.
    pub(super) inbuf: Vec<u8>,
    /// Skipping the rest of an over-long line.
    discarding: bool,
    pub(super) r: Replies,
    peer_ip: String,
    mode: SmtpMode,
    pub(super) greeted: bool,
    pub(super) account: Option<String>,
    pub(super) tx: Option<Transaction>,
}

pub(super) async fn run(tcp: TcpStream, peer: SocketAddr, mode: SmtpMode, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    let stream = match mode {
        SmtpMode::StartTls => Stream::Plain(tcp),
        SmtpMode::ImplicitTls => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, shared.tls.accept(tcp)).await {
                Ok(Ok(tls)) => Stream::Tls(Box::new(tls)),
                _ => {
                    tracing::debug!("smtp: TLS handshake failed or timed out");
                    return;
                }
            }
        }
    };
    let mut session = Session {
        shared,
        stream,
        inbuf: Vec::new(),
        discarding: false,
        r: Replies {
            sid: random::smtp_session_id(),
        },
        peer_ip: peer.ip().to_string(),
        mode,
        greeted: false,
        account: None,
        tx: None,
    };
    let end = session.serve().await;
    let _ =
        tokio::time::timeout(std::time::Duration::from_secs(1), session.stream.shutdown()).await;
    tracing::debug!(?end, "smtp session ended");
}

impl Session {
    pub(super) async fn send(&mut self, reply: &str) -> Flow {
        let write = async {
            self.stream.write_all(reply.as_bytes()).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.shared.smtp_idle_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(End::Closed),
        }
    }

    /// Reads more bytes into `inbuf`; the end of the stream or silence ends the session.
    pub(super) async fn fill(&mut self) -> Flow {
        let mut chunk = [0u8; 16 * 1024];
        let read = self.stream.read(&mut chunk);
        match tokio::time::timeout(self.shared.smtp_idle_timeout, read).await {
            Ok(Ok(n)) if n > 0 => {
                self.inbuf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            _ => Err(End::Closed),
        }
    }

    /// The next line including its LF; over-long lines are skipped and reported once.
    pub(super) async fn next_line(&mut self) -> Result<Line, End> {
        loop {
            if let Some(pos) = self.inbuf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.inbuf.drain(..=pos).collect();
                if std::mem::take(&mut self.discarding) || line.len() > MAX_LINE {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Text(line));
            }
            if self.inbuf.len() > MAX_LINE {
                self.inbuf.clear();
                self.discarding = true;
            }
            self.fill().await?;
        }
    }

    /// A SASL continuation line, without CRLF.
    async fn response_line(&mut self) -> Result<String, End> {
        match self.next_line().await? {
            Line::Text(l) => Ok(String::from_utf8_lossy(&l).trim_end().to_owned()),
            Line::TooLong => Ok(String::new()),
        }
    }

    async fn serve(&mut self) -> End {
        let greeting = self.r.greeting();
        if let Err(end) = self.send(&greeting).await {
            return end;
        }
        loop {
            let line = match self.next_line().await {
                Ok(Line::Text(line)) => line,
                Ok(Line::TooLong) => {
                    let reply = self.r.line("500 5.5.2", "Line too long.");
                    if let Err(end) = self.send(&reply).await {
                        return end;
                    }
                    continue;
                }
                Err(end) => return end,
            };
            if self.shared.faults.take_smtp_421() {
                tracing::info!("smtp: injected 421");
                let reply = self.r.closing_421();
                let _ = self.send(&reply).await;
                return End::Dropped;
            }
            if self.shared.faults.take_smtp_silent() {
                tracing::info!("smtp: injected silence");
                // A hung server: the connection stays open and nothing is answered again.
                while self.next_line().await.is_ok() {}
                return End::Dropped;
            }
            if let Err(end) = self.command(&line).await {
                return end;
            }
        }
    }

    pub(super) async fn reply(&mut self, code: &str, text: &str) -> Flow {
        let line = self.r.line(code, text);
        self.send(&line).await
    }

    async fn command(&mut self, line: &[u8]) -> Flow {
        let request = match Request::parse(&mut line.iter()) {
            Ok(request) => request.into_owned(),
            Err(e) => return self.parse_error(e).await,
        };
        match request {
            Request::Ehlo { .. } => self.ehlo().await,
            Request::Helo { .. } => {
                self.greeted = true;
                self.tx = None;
                let reply = self.r.helo(&self.peer_ip);
                self.send(&reply).await
            }
            Request::StartTls => self.starttls().await,
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response).await,
            Request::Mail { from } => self.mail(from).await,
            Request::Rcpt { to } => self.rcpt(to).await,
            Request::Data => self.data().await,
            Request::Bdat {
                chunk_size,
                is_last,
            } => self.bdat(chunk_size, is_last).await,
            Request::Rset => {
                self.tx = None;
                self.reply("250 2.1.5", "Flushed").await
            }
            Request::Noop { .. } => self.reply("250 2.0.0", "OK").await,
            Request::Quit => {
                self.reply("221 2.0.0", "closing connection").await?;
                Err(End::Quit)
            }
            Request::Vrfy { .. } => {
                self.reply("252 2.1.5", "Send some mail, I'll try my best")
                    .await
            }
            Request::Help { .. } => {
                self.reply("214 2.0.0", "https://www.google.com/search?btnI&q=RFC+5321")
                    .await
            }
            _ => self.reply("502 5.5.1", "Unrecognized command.").await,
        }
    }

    async fn parse_error(&mut self, e: ParseError) -> Flow {
        match e {
            ParseError::UnknownCommand => self.reply("502 5.5.1", "Unrecognized command.").await,
            ParseError::SyntaxError { syntax } if syntax.starts_with("AUTH") => {
                self.reply("504 5.7.4", "Unrecognized Authentication Type")
                    .await
            }
            ParseError::ResponseTooLong => self.reply("500 5.5.2", "Line too long.").await,
            _ => self.reply("555 5.5.2", "Syntax error").await,
        }
    }

    async fn ehlo(&mut self) -> Flow {
        self.greeted = true;
        self.tx = None;
        let reply = self.r.ehlo(
            &self.peer_ip,
            self.stream.is_tls(),
            self.shared.max_message_size(),
            self.shared.oauthbearer_offered(),
        );
        self.send(&reply).await
    }

    async fn starttls(&mut self) -> Flow {
        if self.mode == SmtpMode::ImplicitTls || self.stream.is_tls() {
            return self.reply("502 5.5.1", "Unrecognized command.").await;
        }
        self.send("220 2.0.0 Ready to start TLS\r\n").await?;
        // Anything pipelined after STARTTLS was sent in the clear: discard it (RFC 3207).
        self.inbuf.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(End::Closed);
        };
        let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.shared.tls.accept(tcp));
        match handshake.await {
            Ok(Ok(tls)) => self.stream = Stream::Tls(Box::new(tls)),
            _ => return Err(End::Closed),
        }
        self.greeted = false;
        self.account = None;
        self.tx = None;
        Ok(())
    }

    /// Checks that the session may send mail: greeted, TLS, authenticated.
    pub(super) async fn ready_for_mail(&mut self) -> Result<bool, End> {
        if !self.greeted {
            self.reply("503 5.5.1", "EHLO/HELO first.").await?;
            return Ok(false);
        }
        if !self.stream.is_tls() {
            let reply = self.r.must_starttls();
            self.send(&reply).await?;
            return Ok(false);
        }
        if self.account.is_none() {
            let reply = self.r.want_auth();
            self.send(&reply).await?;
            return Ok(false);
        }
        Ok(true)
    }

    async fn auth(&mut self, mechanism: u64, initial: String) -> Flow {
        if !self.greeted {
            return self.reply("503 5.5.1", "EHLO/HELO first.").await;
        }
        if !self.stream.is_tls() {
            let reply = self.r.must_starttls();
            return self.send(&reply).await;
        }
        if self.account.is_some() {
            return self.reply("503 5.5.1", "Already authenticated.").await;
        }
        match mechanism {
            smtp_proto::AUTH_XOAUTH2 => self.auth_oauth(OAuthMechanism::XOAuth2, initial).await,
            smtp_proto::AUTH_OAUTHBEARER if self.shared.oauthbearer_offered() => {
                self.auth_oauth(OAuthMechanism::OAuthBearer, initial).await
            }
            smtp_proto::AUTH_PLAIN => self.auth_password(initial, &[]).await,
            smtp_proto::AUTH_LOGIN => {
                self.auth_password(initial, &["VXNlcm5hbWU6", "UGFzc3dvcmQ6"])
                    .await
            }
            _ => {
                self.reply("504 5.7.4", "Unrecognized Authentication Type")
                    .await
            }
        }
    }

    async fn auth_oauth(&mut self, mech: OAuthMechanism, initial: String) -> Flow {
        let response = if initial.is_empty() {
            // The continuation form: an empty challenge, then the response alone.
            self.send("334 \r\n").await?;
            self.response_line().await?
        } else {
            initial
        };
        if response == "*" {
            return self.reply("501 5.7.0", "Authentication aborted.").await;
        }
        let name = match mech {
            OAuthMechanism::XOAuth2 => "xoauth2",
            OAuthMechanism::OAuthBearer => "oauthbearer",
        };
        let verified = match auth::decode(mech, &response) {
            Err(Undecodable::Base64) => {
                self.shared.counts.bump("smtp.auth_failed");
                self.shared.counts.bump(&format!("smtp.auth_failed.{name}"));
                return self.reply("501 5.5.2", "Cannot Decode response").await;
            }
            Err(Undecodable::Shape) => None,
            Ok(presented) => auth::verify(&self.shared, &presented),
        };
        let Some(account) = verified else {
            self.shared.counts.bump("smtp.auth_failed");
            self.shared.counts.bump(&format!("smtp.auth_failed.{name}"));
            tracing::info!("smtp: OAuth authentication failed");
            let challenge = match mech {
                OAuthMechanism::XOAuth2 => reply::xoauth2_challenge(),
                OAuthMechanism::OAuthBearer => reply::oauthbearer_challenge(),
            };
            self.send(&format!("334 {challenge}\r\n")).await?;
            // The client must answer with an empty line (XOAUTH2) or AQ== (OAUTHBEARER).
            let _ = self.response_line().await?;
            let reply = self.r.bad_credentials();
            return self.send(&reply).await;
        };
        self.shared.counts.bump("smtp.auth_ok");
        self.shared.counts.bump(&format!("smtp.auth_ok.{name}"));
        tracing::info!("smtp: authenticated");
        self.account = Some(account);
        self.reply("235 2.7.0", "Accepted").await
    }

    /// PLAIN and LOGIN: advertised as Gmail does, but the sandbox has no passwords.
    async fn auth_password(&mut self, initial: String, prompts: &[&str]) -> Flow {
        let mut answers = Vec::new();
        if prompts.is_empty() {
            if initial.is_empty() {
                self.send("334 \r\n").await?;
                answers.push(self.response_line().await?);
            } else {
                answers.push(initial);
            }
        } else {
            for prompt in prompts {
                self.send(&format!("334 {prompt}\r\n")).await?;
                answers.push(self.response_line().await?);
            }
        }
        self.shared.counts.bump("smtp.auth_failed");
        if answers.iter().any(|a| a == "*") {
            return self.reply("501 5.7.0", "Authentication aborted.").await;
        }
        let engine = base64::engine::general_purpose::STANDARD;
        if answers
            .iter()
            .any(|a| base64::Engine::decode(&engine, a).is_err())
        {
            return self.reply("501 5.5.2", "Cannot Decode response").await;
        }
        let reply = self.r.bad_credentials();
        self.send(&reply).await
    }
}
