// Sample values shaped exactly as docs/ipc.md says core sends them.
import type { Account, Activity, AppInfo, OutboxItem, Preferences, TokenState, TokenStatus, WindowStart } from "../src/lib/api";

export const MAIL = "https://mail.google.com/";
export const EMAIL = "email";

export function info(overrides: Partial<AppInfo> = {}): AppInfo {
  return {
    mode: "sandbox",
    version: "0.1.0",
    dataDir: "/home/ada/.local/share/postern/sandbox",
    configDir: "/home/ada/.config/postern",
    providers: [{ name: "sandbox", label: "Sandbox (local stand-in for Google)", publishingStatus: "unknown" }],
    googleClientConfigured: false,
    ...overrides,
  };
}

/** Any field of a status, with the state's own fields (`revokedCause`, `revocationNextTry`). */
export type StatusFields = Partial<Omit<TokenStatus, "state">> & {
  state?: TokenState;
  revokedCause?: string;
  revocationNextTry?: string | null;
};

/** A status whose state is `S`, with that state's own fields. */
export type StatusIn<S extends TokenState> = Extract<TokenStatus, { state: S }>;

export function status(overrides: StatusFields = {}): TokenStatus {
  const state = overrides.state ?? "valid";
  const needsPerson = ["revoked", "scope_missing", "revocation_pending", "secret_missing"].includes(state);
  return {
    address: "ada@example.com",
    provider: "sandbox",
    state: "valid",
    needsPerson,
    headline: "Valid for 54 minutes",
    expiresAt: new Date(Date.now() + 54 * 60_000).toISOString(),
    secondsLeft: 54 * 60,
    scopesGranted: [MAIL, EMAIL],
    scopesNeeded: [MAIL, EMAIL],
    scopesMissing: [],
    lastRefresh: "2026-11-25T11:02:00Z",
    refreshTokenIssuedAt: "2026-11-22T09:00:00Z",
    refreshTokenAgeSecs: 3 * 86400 + 7200,
    publishingStatus: "unknown",
    grantEndsAt: null,
    grantEnd: null,
    grantSecondsLeft: null,
    grantEndingSoon: false,
    grantNote: null,
    audienceOk: true,
    lastError: null,
    actions: ["refresh", "revoke", "reauthorize"],
    ...overrides,
  } as TokenStatus;
}

export function revokedStatus(overrides: StatusFields = {}): StatusIn<"revoked"> {
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
  }) as StatusIn<"revoked">;
}

/** Core's status while a revocation waits for the provider (the fix names its access page). */
export function pendingStatus(overrides: StatusFields = {}): StatusIn<"revocation_pending"> {
  return status({
    address: "lin@example.com",
    provider: "google",
    state: "revocation_pending",
    headline: "Revocation pending: Google (Gmail) has not confirmed it",
    publishingStatus: "in_production",
    revocationNextTry: new Date(Date.now() + 120_000).toISOString(),
    lastError: {
      kind: "revocation_not_confirmed",
      message: "Google (Gmail) did not confirm the revocation: Postern could not reach it.",
      fix: "Nothing is deleted until Google (Gmail) confirms: Postern keeps the tokens (unused) and retries by itself, or retry it now (Retry revocation in the window, `postern revoke` on the command line). To end access right now, remove Postern at https://myaccount.google.com/connections.",
    },
    actions: ["retry_revoke", "forget"],
    ...overrides,
  }) as StatusIn<"revocation_pending">;
}

/** A Testing-mode grant with `secondsLeft` until Google ends it (7 days after consent). */
export function testingStatus(secondsLeft: number, overrides: StatusFields = {}): TokenStatus {
  const endsAt = new Date(Date.now() + secondsLeft * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  return status({
    provider: "google",
    publishingStatus: "testing",
    grantEndsAt: endsAt,
    grantEnd: "testing_mode",
    grantSecondsLeft: secondsLeft,
    grantEndingSoon: secondsLeft < 86_400,
    grantNote: `This client's project is in Testing: Google ends this grant on ${endsAt}, 7 days after consent. Publish the app in Google Cloud Console to stop the weekly expiry.`,
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

/** `window_start`'s answer, made of a test's own answers to the single commands it stands for
 *  (`app_info`, `list_accounts`, `list_outbox`, `list_activity`, `get_preferences`), so that a
 *  test says once what the shell holds. A test without preferences gets the defaults. */
export async function startFrom(answer: (cmd: string) => unknown): Promise<WindowStart> {
  const part = async (cmd: string) => {
    try {
      return await answer(cmd);
    } catch (err) {
      if (cmd === "get_preferences") return null;
      throw err;
    }
  };
  const [info, accounts, outbox, activity, preferences] = await Promise.all(
    ["app_info", "list_accounts", "list_outbox", "list_activity", "get_preferences"].map(part),
  );
  return {
    info: info as AppInfo,
    accounts: accounts as Account[],
    outbox: (outbox ?? []) as OutboxItem[],
    activity: (activity ?? []) as Activity[],
    preferences: (preferences ?? { notifications: true, trayHintShown: false, senderNames: {} }) as Preferences,
  };
}

/** An invoke mock's answers, with `window_start` made of them (`startFrom`). */
export function withStart(answer: (cmd: string, args?: unknown) => unknown) {
  return async (cmd: string, args?: unknown) => (cmd === "window_start" ? startFrom(answer) : answer(cmd, args));
}
