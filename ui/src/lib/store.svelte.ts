// The window's live copy of what core said: loaded once, then kept current by core's events.
import * as api from "./api";
import { router } from "./router.svelte";
import type {
  Account,
  Activity,
  AppInfo,
  AuthorizeProgress,
  ErrorView,
  OutboxItem,
  TokenStatus,
} from "./api";

/** How many activity entries the window keeps. */
export const ACTIVITY_LIMIT = 200;

/** The authorize flow the window is showing, if any. */
export type AuthorizeView = {
  /** The address being authorized again, or null when adding a new account. */
  address: string | null;
  progress: AuthorizeProgress;
  /** True when this window started the flow (and so ends it when the command returns). */
  own: boolean;
};

class Store {
  info = $state<AppInfo | null>(null);
  accounts = $state<Account[]>([]);
  /** Each account's sender name (Settings), by lowercased address. */
  senderNames = $state<Record<string, string>>({});
  outbox = $state<OutboxItem[]>([]);
  activity = $state<Activity[]>([]);
  selected = $state<string | null>(null);
  /** An action the tray asked for on one account, for its status panel to start (once). */
  asked = $state<{ address: string; action: "reauthorize" } | null>(null);
  authorizing = $state<AuthorizeView | null>(null);
  authorizeError = $state<ErrorView | null>(null);
  loadError = $state<ErrorView | null>(null);

  /** Settles once the window follows core's events, or could not. A flow's progress reaches the
   *  window only as events (no answer carries it), so a flow the window starts waits for this:
   *  started sooner (the tray's Revoke & reauthorize starts one as the window opens), its
   *  "browser opened" would be missed, and with it the address to copy. */
  private listening: Promise<void> = Promise.resolve();
  private listened: () => void = () => {};
  /** The flow this window asked for and has not started yet (it waits for `listening`). */
  private waitingToStart: object | null = null;

  /** The selected account's status, as core last reported it. */
  get selectedStatus(): TokenStatus | null {
    const account = this.accounts.find((a) => a.address === this.selected);
    return account ? account.status : null;
  }

  /** Follows core's events (all of them in the main window, the accounts in quick compose),
   *  then asks for what the window shows again.
   *
   *  The listens wait until the window has painted its first data (main.ts): each is a round
   *  trip to the shell that the first paint would otherwise wait for (README.md, Benchmarks,
   *  (g)). What changed between the first answer and the listens is in the second answer; what
   *  changes after them comes as events. */
  async follow(all: boolean): Promise<void> {
    try {
      await this.subscribe(all);
    } catch (err) {
      this.loadError = api.toErrorView(err);
      return;
    } finally {
      this.listened();
    }
    await this.load();
  }

  /** The window will follow core's events later (after its first paint): until it does, a flow
   *  it starts waits (`listening`). */
  willFollow(): void {
    this.listening = new Promise((resolve) => (this.listened = resolve));
  }

  /** Loads what the window shows first, in one call (`window_start`): a call is a round trip
   *  to the shell that the first paint waits for. The quick-compose window gets no outbox and no
   *  activity from it. Core's events are followed after that (`follow`), once the window has
   *  painted. */
  async load(): Promise<void> {
    try {
      const start = await api.windowStart(ACTIVITY_LIMIT);
      this.info = start.info;
      this.setAccounts(start.accounts);
      if (start.outbox) this.outbox = start.outbox;
      if (start.activity) this.activity = start.activity;
      this.senderNames = start.preferences.senderNames ?? {};
      this.loadError = null;
    } catch (err) {
      this.loadError = api.toErrorView(err);
    }
  }

  /** Listens to core's events, all at once: each listen is a round trip to the shell. */
  private async subscribe(all: boolean): Promise<void> {
    if (!all) {
      await api.onAccounts((a) => this.setAccounts(a));
      return;
    }
    await Promise.all([
      api.onAccounts((a) => this.setAccounts(a)),
      api.onStatus((s) => this.setStatus(s)),
      api.onOutbox((o) => this.upsertOutbox(o)),
      api.onActivity((a) => this.addActivity(a)),
      api.onAuthorize((p) => this.onAuthorizeProgress(p)),
      api.onShowAccount((address) => this.showAccount(address)),
      api.onReauthorizeAccount((address) => this.askReauthorize(address)),
    ]);
  }

  /** Selects an account and shows its status (a notification about it was clicked). */
  showAccount(address: string): void {
    if (this.accounts.length === 0 || this.accounts.some((a) => a.address === address)) {
      this.selected = address;
    }
    router.go("status");
  }

  /** Revoke & reauthorize was chosen in the tray: show the account, and let its panel do
   *  what its own button does (asking first while the grant still works). */
  askReauthorize(address: string): void {
    this.showAccount(address);
    if (this.selected === address) this.asked = { address, action: "reauthorize" };
  }

  /** A flow started here, or elsewhere (the tray), moved on. */
  onAuthorizeProgress(progress: AuthorizeProgress): void {
    const ended = ["done", "failed", "cancelled"].includes(progress.phase);
    if (this.authorizing?.own) {
      this.authorizing = { ...this.authorizing, progress };
    } else if (!ended) {
      this.authorizing = { address: this.authorizing?.address ?? null, progress, own: false };
    } else {
      this.authorizing = null;
      if (progress.phase === "failed" && progress.error) this.authorizeError = progress.error;
    }
  }

  setAccounts(accounts: Account[]): void {
    this.accounts = accounts;
    if (!accounts.some((a) => a.address === this.selected)) {
      this.selected = accounts[0]?.address ?? null;
    }
  }

  setStatus(status: TokenStatus): void {
    this.accounts = this.accounts.map((a) => (a.address === status.address ? { ...a, status } : a));
  }

  upsertOutbox(item: OutboxItem): void {
    const i = this.outbox.findIndex((o) => o.id === item.id);
    if (i >= 0) this.outbox[i] = item;
    else this.outbox = [item, ...this.outbox];
  }

  addActivity(entry: Activity): void {
    if (this.activity.some((a) => a.id === entry.id)) return;
    this.activity = [entry, ...this.activity].slice(0, ACTIVITY_LIMIT);
  }

  /** Adds an account (address null) or authorizes one again, showing the browser flow's progress. */
  async authorize(provider: string, loginHint: string | null, again: string | null = null) {
    this.authorizeError = null;
    this.authorizing = {
      address: again,
      progress: { phase: "listening", url: null, error: null },
      own: true,
    };
    const ticket = {};
    this.waitingToStart = ticket;
    await this.listening;
    if (this.waitingToStart !== ticket) return; // cancelled before it started
    this.waitingToStart = null;
    try {
      const account = again ? await api.reauthorize(again) : await api.authorize(provider, loginHint);
      this.upsertAccount(account);
      this.selected = account.address;
    } catch (err) {
      const error = api.toErrorView(err);
      const cancelled =
        this.authorizing?.progress.phase === "cancelled" || error.kind === "authorization_cancelled";
      if (!cancelled) this.authorizeError = error;
    } finally {
      this.authorizing = null;
    }
  }

  async cancelAuthorize(): Promise<void> {
    if (this.waitingToStart) {
      // Not started yet: nothing to tell core, and nothing will start.
      this.waitingToStart = null;
      this.authorizing = null;
      return;
    }
    try {
      await api.cancelAuthorize();
    } catch (err) {
      this.authorizeError = api.toErrorView(err);
    }
  }

  upsertAccount(account: Account): void {
    const i = this.accounts.findIndex((a) => a.address === account.address);
    if (i >= 0) this.accounts[i] = account;
    else this.accounts = [...this.accounts, account];
  }

  async removeAccount(address: string): Promise<void> {
    await api.removeAccount(address);
    this.setAccounts(this.accounts.filter((a) => a.address !== address));
  }

  /** Forgets the account here without the provider's confirmation. */
  async forgetAccount(address: string): Promise<void> {
    await api.forgetAccount(address);
    this.setAccounts(this.accounts.filter((a) => a.address !== address));
  }

  async retryOutbox(id: number): Promise<void> {
    this.upsertOutbox(await api.retryOutbox(id));
  }

  async discardOutbox(id: number): Promise<void> {
    await api.discardOutbox(id);
    this.outbox = this.outbox.filter((o) => o.id !== id);
  }
}

/** The window's one store. */
export const store = new Store();
