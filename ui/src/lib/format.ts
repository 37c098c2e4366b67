// Display helpers: words and numbers for what core sends. No token logic lives here.
import type { GrantEnd, OutboxState, PublishingStatus, TokenState } from "./api";

const STATE_LABELS: Record<TokenState, string> = {
  valid: "Valid",
  expiring: "Expiring soon",
  expired: "Expired",
  refreshing: "Refreshing",
  revoked: "Revoked",
  scope_missing: "Permission missing",
  error: "Problem",
  unknown: "Not checked yet",
  revocation_pending: "Revocation pending",
  secret_missing: "Secret missing",
};

/** The badge word for a state core reported. */
export function stateLabel(state: TokenState): string {
  return STATE_LABELS[state] ?? "Unknown";
}

/** The publishing statuses in the order a picker offers them, with the words Google Cloud Console uses. */
export const PUBLISHING_STATUSES: { value: PublishingStatus; label: string }[] = [
  { value: "testing", label: "Testing" },
  { value: "in_production", label: "In production" },
  { value: "internal", label: "Internal" },
  { value: "unknown", label: "Unknown" },
];

/** The words for a client's publishing status. */
export function publishingLabel(status: PublishingStatus): string {
  return PUBLISHING_STATUSES.find((p) => p.value === status)?.label ?? status;
}

const GRANT_END_LABELS: Record<GrantEnd, string> = {
  testing_mode: "Testing mode (7 days after consent)",
  time_based_access: "Time-based access you chose",
};

/** Why a grant ends when core says it does. */
export function grantEndLabel(end: GrantEnd | null): string {
  return end ? (GRANT_END_LABELS[end] ?? end) : "—";
}

const OUTBOX_LABELS: Record<OutboxState, string> = {
  queued: "Queued",
  sending: "Sending",
  sent: "Sent",
  failed: "Failed",
  waiting: "Waiting for authorization",
};

/** The badge word for an outbox state. */
export function outboxLabel(state: OutboxState): string {
  return OUTBOX_LABELS[state] ?? state;
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** An RFC 3339 time in the person's locale, or a dash when there is none. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : timeFormat.format(new Date(t));
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZoneName: "short",
});

/** An RFC 3339 time with weekday, year and time zone, for an end that matters; a dash when there is none. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : dateTimeFormat.format(new Date(t));
}

/** A countdown such as "53:07", "1:02:03" or "2d 01:02:03"; "0:00" once it has passed. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  const mm = String(m).padStart(2, "0");
  if (d > 0) return `${d}d ${String(h).padStart(2, "0")}:${mm}:${sec}`;
  return h > 0 ? `${h}:${mm}:${sec}` : `${m}:${sec}`;
}

/** Core's `seconds` counted down by the whole seconds since `since` (both in ms), never below 0. */
export function countDown(seconds: number | null, since: number, now: number): number | null {
  if (seconds === null) return null;
  return Math.max(0, seconds - Math.floor(Math.max(0, now - since) / 1000));
}

/** Seconds left until `expiresAt` at `now`, for a live display; falls back to core's number. */
export function secondsUntil(
  expiresAt: string | null,
  fallback: number | null,
  now: number,
): number | null {
  if (expiresAt) {
    const t = Date.parse(expiresAt);
    if (!Number.isNaN(t)) return Math.max(0, Math.floor((t - now) / 1000));
  }
  return fallback;
}

/** An age in words: "40 seconds", "5 minutes", "3 hours", "6 days". */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return "—";
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  const n = Math.max(0, Math.floor(seconds));
  return `${n} second${n === 1 ? "" : "s"}`;
}

/** A size such as "512 B", "14.2 KB", "3.1 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Core's plain words split at `backticks`, so commands it names can be shown as code. */
export function codeSpans(text: string): { text: string; code: boolean }[] {
  return text
    .split("`")
    .map((part, i) => ({ text: part, code: i % 2 === 1 }))
    .filter((p) => p.text !== "");
}
