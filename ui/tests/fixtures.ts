// Sample values shaped exactly as docs/ipc.md says core sends them.
import type { Account, Activity, AppInfo, OutboxItem, TokenStatus } from "../src/lib/api";

export const MAIL = "https://mail.google.com/";
export const EMAIL = "email";

export function info(overrides: Partial<AppInfo> = {}): AppInfo {
  return {
    mode: "sandbox",
    version: "0.1.0",
    dataDir: "/home/ada/.local/share/postern/sandbox",
    configDir: "/home/ada/.config/postern",
    providers: [{ name: "sandbox", label: "Sandbox (local stand-in for Google)" }],
    googleClientConfigured: false,
    ...overrides,
  };
}

export function status(overrides: Partial<TokenStatus> = {}): TokenStatus {
  return {
    address: "ada@example.com",
    provider: "sandbox",
    state: "valid",
    headline: "Valid for 54 minutes",
    expiresAt: new Date(Date.now() + 54 * 60_000).toISOString(),
    secondsLeft: 54 * 60,
    scopesGranted: [MAIL, EMAIL],
    scopesNeeded: [MAIL, EMAIL],
    scopesMissing: [],
    lastRefresh: "2026-11-25T11:02:00Z",
    refreshTokenIssuedAt: "2026-11-22T09:00:00Z",
    refreshTokenAgeSecs: 3 * 86400 + 7200,
    testingModeWarning: null,
    audienceOk: true,
    revokedCause: null,
    lastError: null,
    actions: ["refresh", "revoke", "reauthorize"],
    ...overrides,
  };
}

export function revokedStatus(overrides: Partial<TokenStatus> = {}): TokenStatus {
  return status({
    address: "grace@example.com",
    state: "revoked",
    headline: "Access revoked",
    expiresAt: null,
    secondsLeft: null,
    scopesGranted: [],
    revokedCause: "You removed Postern's access in your Google account settings.",
    lastError: {
      kind: "invalid_grant",
      message: "Google no longer accepts this account's refresh token.",
      fix: "Authorize the account again.",
    },
    actions: ["reauthorize"],
    ...overrides,
  });
}

export function account(s: TokenStatus = status()): Account {
  return { address: s.address, provider: s.provider, addedAt: "2026-11-22T09:00:00Z", status: s };
}

export function outboxItem(overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: 1,
    account: "ada@example.com",
    to: ["bob@example.com"],
    subject: "Minutes",
    state: "sent",
    attempts: 1,
    lastError: null,
    createdAt: "2026-11-25T11:00:00Z",
    sentAt: "2026-11-25T11:00:02Z",
    messageId: "<1@postern>",
    sizeBytes: 2048,
    ...overrides,
  };
}

export function activity(overrides: Partial<Activity> = {}): Activity {
  return {
    id: 1,
    at: "2026-11-25T11:00:00Z",
    account: "ada@example.com",
    kind: "refresh",
    summary: "Refreshed the access token",
    ok: true,
    ...overrides,
  };
}
