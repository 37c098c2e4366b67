import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import App from "../src/App.svelte";
import { afterFirstPaint, firstData, FIRST_DATA_WAIT_MS, startFollowing, startLoading } from "../src/lib/boot";
import { router } from "../src/lib/router.svelte";
import { store } from "../src/lib/store.svelte";
import { account, info, revokedStatus, startFrom, status } from "./fixtures";

const invokeMock = vi.mocked(invoke);
const listenMock = vi.mocked(listen);

/** The order in which the window asked the shell for things: listens and commands. */
let asked: string[];

function answer(cmd: string) {
  switch (cmd) {
    case "app_info":
      return info();
    case "list_accounts":
      return [account(status()), account(revokedStatus({ address: "bo@example.org" }))];
    case "list_outbox":
    case "list_activity":
      return [];
    case "get_preferences":
      return { notifications: true, trayHintShown: false, senderNames: {} };
    case "window_start":
      return startFrom(answer);
    default:
      throw new Error(`the test did not expect ${cmd}`);
  }
}

beforeEach(() => {
  asked = [];
  listenMock.mockReset();
  listenMock.mockImplementation(async (event) => {
    asked.push(`listen ${event}`);
    return () => {};
  });
  invokeMock.mockReset();
  invokeMock.mockImplementation(async (cmd) => {
    asked.push(cmd);
    return answer(cmd);
  });
  store.accounts = [];
  store.activity = [];
  store.outbox = [];
  store.selected = null;
  store.info = null;
  store.loadError = null;
  router.route = "status";
});

afterEach(() => {
  vi.useRealTimers();
});

describe("a window's start", () => {
  it("has its data before it is built, asks for nothing before its first paint, then listens and asks again", async () => {
    const loading = startLoading("");
    await firstData(loading);
    // Before the first paint: one call, no listens.
    expect(asked).toEqual(["window_start"]);
    expect(store.accounts.map((a) => a.address)).toEqual(["ada@example.com", "bo@example.org"]);

    // The page built on that data shows it at once and asks for nothing again.
    const before = invokeMock.mock.calls.length;
    render(App, { props: { loading } });
    expect(screen.getByTestId("token-state")).toHaveAttribute("data-state", "valid");
    await Promise.resolve();
    expect(invokeMock.mock.calls.length).toBe(before);

    // Once painted (main.ts), it follows core's events: every listen, then the lists again, so
    // that a change made between the first lists and the listens is not missed.
    asked = [];
    await startFollowing("");
    const lastListen = asked.map((a) => a.startsWith("listen")).lastIndexOf(true);
    expect(asked.slice(0, lastListen + 1).filter((a) => a.startsWith("listen"))).toHaveLength(7);
    expect(asked.slice(lastListen + 1)).toEqual(["window_start"]);
  });

  it("takes a change made between its first lists and its listens from the second lists", async () => {
    await firstData(startLoading(""));
    expect(store.accounts).toHaveLength(2);
    // bo was removed before the window listened: no event reached it, the second lists tell.
    invokeMock.mockImplementation(async (cmd) => {
      asked.push(cmd);
      const now = (c: string) => (c === "list_accounts" ? [account(status())] : answer(c));
      return cmd === "window_start" ? startFrom(now) : now(cmd);
    });
    await startFollowing("");
    expect(store.accounts.map((a) => a.address)).toEqual(["ada@example.com"]);
  });

  it("a failed listen is said, and the lists are kept", async () => {
    await firstData(startLoading(""));
    listenMock.mockImplementation(async () => {
      throw { kind: "internal", message: "The window could not listen.", fix: "Restart Postern." };
    });
    await startFollowing("");
    expect(store.loadError?.message).toBe("The window could not listen.");
    expect(store.accounts).toHaveLength(2);
  });

  it("is built after a while without its data when the shell is slow, and the data fills it later", async () => {
    vi.useFakeTimers();
    let release: (v: unknown) => void = () => {};
    invokeMock.mockImplementation(async (cmd) => {
      asked.push(cmd);
      if (cmd === "window_start") await new Promise((r) => (release = r));
      return answer(cmd);
    });
    const loading = startLoading("");
    let shown = false;
    void firstData(loading).then(() => (shown = true));
    await vi.advanceTimersByTimeAsync(FIRST_DATA_WAIT_MS - 1);
    expect(shown).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(shown).toBe(true);
    vi.useRealTimers();

    render(App, { props: { loading } });
    expect(screen.queryByTestId("token-state")).toBeNull();
    release(undefined);
    expect(await screen.findByTestId("token-state")).toHaveAttribute("data-state", "valid");
  });

  it("a failed load still lets the window be built, to say what failed", async () => {
    invokeMock.mockImplementation(async () => {
      throw { kind: "store", message: "Postern could not open its database.", fix: "Check the disk is not full." };
    });
    const loading = startLoading("");
    await firstData(loading);
    render(App, { props: { loading } });
    expect(await screen.findByRole("alert")).toHaveTextContent("Postern could not open its database.");
  });

  it("starts on the account a notification asked for", async () => {
    const loading = startLoading("#/status?account=bo%40example.org");
    await firstData(loading);
    expect(store.selected).toBe("bo@example.org");
    render(App, { props: { loading } });
    expect(screen.getByTestId("token-state")).toHaveAttribute("data-state", "revoked");
  });

  it("starts Revoke & reauthorize on the account the tray asked for once it listens, and shows its progress", async () => {
    // The flow's progress comes only as events: keep the window's handler for them.
    const handlers: Record<string, (e: { payload: unknown }) => void> = {};
    listenMock.mockImplementation(async (event, handler) => {
      asked.push(`listen ${event}`);
      handlers[event] = handler as (e: { payload: unknown }) => void;
      return () => {};
    });
    let finish: (v: unknown) => void = () => {};
    invokeMock.mockImplementation(async (cmd) => {
      asked.push(cmd);
      if (cmd === "reauthorize") return new Promise((r) => (finish = r));
      return answer(cmd);
    });
    const loading = startLoading("#/status?account=bo%40example.org&ask=reauthorize");
    await firstData(loading);
    expect(store.selected).toBe("bo@example.org");
    expect(store.asked).toEqual({ address: "bo@example.org", action: "reauthorize" });
    render(App, { props: { loading } });
    // bo's grant ended (revoked): authorizing again asks nothing first; but not before the
    // window listens, or the browser's address (an event) would not reach it.
    await vi.waitFor(() => expect(store.asked).toBeNull());
    expect(store.authorizing?.progress.phase).toBe("listening");
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).not.toContain("reauthorize");

    await startFollowing("#/status?account=bo%40example.org&ask=reauthorize");
    await vi.waitFor(() => expect(asked).toContain("reauthorize"));
    expect(asked.indexOf("reauthorize")).toBeGreaterThan(asked.indexOf("listen postern://authorize"));
    handlers["postern://authorize"]({
      payload: { phase: "browser_opened", url: "http://127.0.0.1:9/consent", error: null },
    });
    const progress = await screen.findByTestId("authorize-progress");
    expect(progress).toHaveAttribute("data-phase", "browser_opened");
    expect(screen.getByTestId("authorize-url")).toHaveValue("http://127.0.0.1:9/consent");
    finish(account(status({ address: "bo@example.org" })));
    await vi.waitFor(() => expect(store.authorizing).toBeNull());
  });

  it("a flow cancelled before the window listens never starts", async () => {
    const loading = startLoading("#/status?account=bo%40example.org&ask=reauthorize");
    await firstData(loading);
    render(App, { props: { loading } });
    await vi.waitFor(() => expect(store.authorizing?.progress.phase).toBe("listening"));
    await store.cancelAuthorize();
    expect(store.authorizing).toBeNull();
    await startFollowing("#/status?account=bo%40example.org&ask=reauthorize");
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).not.toContain("reauthorize");
    expect(asked).not.toContain("cancel_authorize");
    expect(store.authorizeError).toBeNull();
  });

  it("asks nothing when the shell sent the explanation of a failed start", async () => {
    const hash = `#/startup-error?${new URLSearchParams({ kind: "keychain_locked", message: "Locked.", fix: "Unlock it." })}`;
    expect(startLoading(hash)).toBeNull();
    expect(startFollowing(hash)).toBeNull();
    await firstData(null);
    expect(asked).toEqual([]);
  });
});

describe("after the first paint", () => {
  it("runs once the frame on screen now has been painted, not before", async () => {
    const frames: FrameRequestCallback[] = [];
    vi.spyOn(window, "requestAnimationFrame").mockImplementation((cb) => {
      frames.push(cb);
      return frames.length;
    });
    vi.useFakeTimers();
    let ran = false;
    afterFirstPaint(() => (ran = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(ran).toBe(false);
    frames.shift()?.(0);
    expect(ran).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toBe(true);
  });
});
