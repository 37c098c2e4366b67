//! `/admin/*` on the plain-HTTP port: JSON mirrors of the [`crate::Sandbox`] controls, so
//! a person or a test in another process can move the clock, inject faults and read the
//! mailbox (see the README for the list). Every route needs the admin token
//! ([`crate::access::admin_token`]).

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::clients::Client;
use crate::store::grants::lifetime_secs;
use crate::web::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/clients", post(register_client))
        .route("/testing", post(set_testing))
        .route("/revoke", post(revoke_grants))
        .route("/password-changed", post(password_changed))
        .route("/refresh-token-limit", post(refresh_token_limit))
        .route("/profile", get(profile))
        .route("/access-token-lifetime", post(access_token_lifetime))
        .route("/email-verified", post(email_verified))
        .route("/live-grants", get(live_grants))
        .route("/faults/revoke-unreachable", post(fault_revoke_unreachable))
        .route("/faults/revoke-503", post(fault_revoke_503))
        .route("/faults/smtp-drop-in-data", post(fault_drop))
        .route("/faults/smtp-421", post(fault_421))
        .route("/faults/token-500", post(fault_token_500))
        .route("/faults/token-delay", post(fault_token_delay))
        .route("/limits/daily-recipients", post(daily_recipients))
        .route("/limits/max-message-size", post(max_message_size))
        .route("/smtp/oauthbearer", post(oauthbearer_offered))
        .route("/counts", get(counts))
        .route("/counts/reset", post(reset_counts))
        .route("/mailbox", get(mailbox))
        .route("/mailbox/{n}", get(message))
        .route("/mailbox/{n}/raw", get(raw_message))
        .route("/mailbox/{n}/attachments/{i}", get(attachment))
}

fn ok() -> Json<Value> {
    Json(json!({"ok": true}))
}

async fn clock(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"now": s.clock.now(), "offset_seconds": s.clock.offset_secs()}))
}

#[derive(Deserialize)]
struct Seconds {
    seconds: u64,
}

async fn advance_clock(State(s): State<AppState>, Json(b): Json<Seconds>) -> Json<Value> {
    s.clock.advance(Duration::from_secs(b.seconds));
    Json(json!({"now": s.clock.now()}))
}

#[derive(Deserialize)]
struct NewClient {
    #[serde(default)]
    testing: bool,
}

async fn register_client(State(s): State<AppState>, Json(b): Json<NewClient>) -> Json<Value> {
    let client = Client::generate(b.testing);
    let body = json!({"client_id": client.id, "client_secret": client.secret});
    s.store().clients.push(client);
    Json(body)
}

#[derive(Deserialize)]
struct Testing {
    client_id: String,
    testing: bool,
}

async fn set_testing(State(s): State<AppState>, Json(b): Json<Testing>) -> Response {
    if s.store().set_testing(&b.client_id, b.testing) {
        ok().into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such client_id"})),
        )
            .into_response()
    }
}

#[derive(Deserialize)]
struct Email {
    email: String,
}

async fn revoke_grants(State(s): State<AppState>, Json(b): Json<Email>) -> Json<Value> {
    s.store().revoke_grants(&b.email);
    ok()
}

async fn password_changed(State(s): State<AppState>, Json(b): Json<Email>) -> Json<Value> {
    s.store().password_changed(&b.email);
    ok()
}

#[derive(Deserialize)]
struct Limit {
    limit: usize,
}

async fn refresh_token_limit(State(s): State<AppState>, Json(b): Json<Limit>) -> Json<Value> {
    s.store().refresh_limit = b.limit.max(1);
    ok()
}

async fn profile(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"profile": s.profile}))
}

async fn access_token_lifetime(State(s): State<AppState>, Json(b): Json<Seconds>) -> Json<Value> {
    s.store().access_secs = lifetime_secs(Duration::from_secs(b.seconds));
    ok()
}

#[derive(Deserialize)]
struct Verified {
    email: String,
    verified: bool,
}

async fn email_verified(State(s): State<AppState>, Json(b): Json<Verified>) -> Json<Value> {
    s.store().set_email_verified(&b.email, b.verified);
    ok()
}

async fn live_grants(State(s): State<AppState>, Query(q): Query<Email>) -> Json<Value> {
    let now = s.clock.now();
    let n = s.store().live_grants(&q.email, now);
    Json(json!({"email": q.email, "live_grants": n}))
}

#[derive(Deserialize)]
struct On {
    on: bool,
}

async fn fault_revoke_unreachable(State(s): State<AppState>, Json(b): Json<On>) -> Json<Value> {
    s.faults.set_revoke_unreachable(b.on);
    ok()
}

async fn fault_revoke_503(State(s): State<AppState>, Json(b): Json<Times>) -> Json<Value> {
    s.faults.set_revoke_503(b.times);
    ok()
}

async fn daily_recipients(State(s): State<AppState>, Json(b): Json<Limit>) -> Json<Value> {
    s.daily_recipient_limit.store(b.limit, Ordering::SeqCst);
    ok()
}

#[derive(Deserialize)]
struct Bytes {
    bytes: usize,
}

async fn max_message_size(State(s): State<AppState>, Json(b): Json<Bytes>) -> Json<Value> {
    s.max_message_size.store(b.bytes, Ordering::SeqCst);
    ok()
}

#[derive(Deserialize)]
struct Offered {
    offered: bool,
}

async fn oauthbearer_offered(State(s): State<AppState>, Json(b): Json<Offered>) -> Json<Value> {
    s.oauthbearer_offered.store(b.offered, Ordering::SeqCst);
    ok()
}

#[derive(Deserialize)]
struct Times {
    times: u32,
}

async fn fault_drop(State(s): State<AppState>, Json(b): Json<Times>) -> Json<Value> {
    s.faults.set_smtp_drop_in_data(b.times);
    ok()
}

#[derive(Deserialize)]
struct Commands {
    commands: u32,
}

async fn fault_421(State(s): State<AppState>, Json(b): Json<Commands>) -> Json<Value> {
    s.faults.set_smtp_421(b.commands);
    ok()
}

async fn fault_token_500(State(s): State<AppState>, Json(b): Json<Times>) -> Json<Value> {
    s.faults.set_token_500(b.times);
    ok()
}

#[derive(Deserialize)]
struct Millis {
    milliseconds: u64,
}

async fn fault_token_delay(State(s): State<AppState>, Json(b): Json<Millis>) -> Json<Value> {
    s.faults
        .set_token_delay(Duration::from_millis(b.milliseconds));
    ok()
}

async fn counts(State(s): State<AppState>) -> Json<Value> {
    Json(json!(s.counts.snapshot()))
}

async fn reset_counts(State(s): State<AppState>) -> Json<Value> {
    s.counts.reset();
    ok()
}

async fn mailbox(State(s): State<AppState>) -> Json<Value> {
    Json(json!(*s.mailbox()))
}

/// An `/admin` path that names no control (reached only with the token).
pub(crate) async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such admin route; sandbox/README.md lists them"})),
    )
        .into_response()
}

fn no_message() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such message; GET /admin/mailbox lists them from 0"})),
    )
        .into_response()
}

async fn message(State(s): State<AppState>, Path(n): Path<usize>) -> Response {
    match s.mailbox().get(n) {
        Some(m) => Json(json!(m)).into_response(),
        None => no_message(),
    }
}

async fn raw_message(State(s): State<AppState>, Path(n): Path<usize>) -> Response {
    match s.mailbox().get(n) {
        Some(m) => ([(header::CONTENT_TYPE, "message/rfc822")], m.raw.clone()).into_response(),
        None => no_message(),
    }
}

async fn attachment(State(s): State<AppState>, Path((n, i)): Path<(usize, usize)>) -> Response {
    let mailbox = s.mailbox();
    match mailbox.get(n).and_then(|m| m.attachments.get(i)) {
        Some(a) => (
            [(header::CONTENT_TYPE, a.content_type.clone())],
            a.data.clone(),
        )
            .into_response(),
        None => no_message(),
    }
}
