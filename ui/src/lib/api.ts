// The one place the UI talks to the shell: every command and event of docs/ipc.md, typed by
// the generated bindings. The UI never computes token state; it shows what core sends.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import {
  EVENTS,
  type Account,
  type Activity,
  type AppInfo,
  type AuthorizeProgress,
  type Command,
  type Draft,
  type ErrorView,
  type EventPayloads,
  type OutboxItem,
  type Preferences,
  type PublishingStatus,
  type TokenStatus,
  type WindowStart,
} from "./bindings";

// The contract's types are generated from Rust (ui/src/lib/bindings, `make bindings`); the
// rest of the UI imports them from here.
export type * from "./bindings";
export { EVENTS };

/** A token state's name ("valid", "revoked", …); what belongs to a state alone (a revoked
 * grant's `revokedCause`, a pending revocation's `revocationNextTry`) is read after checking
 * `state`. */
export type TokenState = TokenStatus["state"];

/** Turns whatever a command rejected with into an ErrorView, so nothing raw reaches the screen. */
export function toErrorView(err: unknown): ErrorView {
  if (err && typeof err === "object") {
    const e = err as Partial<ErrorView> & { message?: unknown };
    if (typeof e.message === "string" && e.message.trim() !== "") {
      return {
        kind: typeof e.kind === "string" ? e.kind : "unexpected",
        message: e.message,
        fix: typeof e.fix === "string" ? e.fix : "",
      };
    }
  }
  if (typeof err === "string" && err.trim() !== "") {
    return { kind: "unexpected", message: err, fix: "" };
  }
  return {
    kind: "unexpected",
    message: "Something went wrong, and Postern did not say what.",
    fix: "Try again. If it keeps happening, look at the Activity tab for details.",
  };
}

async function call<T>(command: Command, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (err) {
    throw toErrorView(err);
  }
}

export const appInfo = () => call<AppInfo>("app_info");
export const listAccounts = () => call<Account[]>("list_accounts");
export const accountStatus = (address: string) => call<TokenStatus>("account_status", { address });
/** Resolves when the browser flow ends; progress arrives on the `postern://authorize` event. */
export const authorize = (provider: string, loginHint: string | null) =>
  call<Account>("authorize", { provider, loginHint });
export const cancelAuthorize = () => call<null>("cancel_authorize");
/** Finishes a flow with the address the browser ended on, when the redirect could not reach Postern. */
export const completeAuthorize = (url: string) => call<null>("complete_authorize", { url });
export const refreshNow = (address: string) => call<TokenStatus>("refresh_now", { address });
export const revoke = (address: string) => call<TokenStatus>("revoke", { address });
export const reauthorize = (address: string) => call<Account>("reauthorize", { address });
export const removeAccount = (address: string) => call<null>("remove_account", { address });
/** Deletes the account here without the provider's confirmation (its grant may still be live there). */
export const forgetAccount = (address: string) => call<null>("forget_account", { address });
/** Queues the draft; the `postern://outbox` event tells the rest. */
/** One attachment's bytes as the call's binary body; returns the id a draft's attachment names in `staged`. */
export async function stageAttachment(bytes: Uint8Array): Promise<string> {
  try {
    return await invoke<string>("stage_attachment", bytes);
  } catch (err) {
    throw toErrorView(err);
  }
}
export const send = (draft: Draft) => call<OutboxItem>("send", { draft });
export const listOutbox = () => call<OutboxItem[]>("list_outbox");
export const retryOutbox = (id: number) => call<OutboxItem>("retry_outbox", { id });
export const discardOutbox = (id: number) => call<null>("discard_outbox", { id });
export const listActivity = (limit: number) => call<Activity[]>("list_activity", { limit });
export const saveGoogleClient = (clientId: string, clientSecret: string, publishingStatus: PublishingStatus) =>
  call<AppInfo>("save_google_client", { clientId, clientSecret, publishingStatus });
export const importGoogleClient = (json: string, publishingStatus: PublishingStatus) =>
  call<AppInfo>("import_google_client", { json, publishingStatus });
export const setPublishingStatus = (provider: string, status: PublishingStatus) =>
  call<AppInfo>("set_publishing_status", { provider, status });
export const openCompose = () => call<null>("open_compose");

export const getPreferences = () => call<Preferences>("get_preferences");
/** What a window shows first, in one call (docs/ipc.md, How a window starts). */
export const windowStart = (limit: number) => call<WindowStart>("window_start", { limit });
/** Tells the shell this window has painted its first data (it then puts up the tray icon). */
export const windowShown = () => call<null>("window_shown");
export const setNotifications = (on: boolean) => call<Preferences>("set_notifications", { on });
/** The name shown with an address in From; a blank name removes it. */
export const setSenderName = (address: string, name: string) =>
  call<Preferences>("set_sender_name", { address, name });
/** Start at login: an entry in the desktop's autostart folder (XDG), off by default. */
export const getAutostart = () => call<boolean>("get_autostart");
export const setAutostart = (on: boolean) => call<boolean>("set_autostart", { on });

function on<E extends keyof EventPayloads>(
  event: E,
  handler: (payload: EventPayloads[E]) => void,
): Promise<UnlistenFn> {
  return listen<EventPayloads[E]>(event, (e) => handler(e.payload));
}

export const onStatus = (h: (s: TokenStatus) => void) => on(EVENTS.status, h);
export const onAccounts = (h: (a: Account[]) => void) => on(EVENTS.accounts, h);
export const onOutbox = (h: (o: OutboxItem) => void) => on(EVENTS.outbox, h);
export const onActivity = (h: (a: Activity) => void) => on(EVENTS.activity, h);
export const onAuthorize = (h: (p: AuthorizeProgress) => void) => on(EVENTS.authorize, h);
/** A notification about an account was clicked: show that account's status. */
export const onShowAccount = (h: (address: string) => void) => on(EVENTS.showAccount, h);
/** Revoke & reauthorize was chosen in the tray for an account. */
export const onReauthorizeAccount = (h: (address: string) => void) => on(EVENTS.reauthorizeAccount, h);
