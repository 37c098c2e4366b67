import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { flushSync } from "svelte";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import App from "../src/App.svelte";
import { router } from "../src/lib/router.svelte";
import { store } from "../src/lib/store.svelte";
import { account, activity, info, outboxItem, revokedStatus, status, withStart } from "./fixtures";

const invokeMock = vi.mocked(invoke);
const listenMock = vi.mocked(listen);
let handlers: Record<string, (e: { payload: unknown }) => void>;

function emit(event: string, payload: unknown) {
  handlers[event]({ payload });
  flushSync();
}

beforeEach(() => {
  handlers = {};
  listenMock.mockReset();
  listenMock.mockImplementation(async (event, handler) => {
    handlers[event] = handler as (e: { payload: unknown }) => void;
    return () => {};
  });
  invokeMock.mockReset();
  invokeMock.mockImplementation(withStart(async (cmd) => {
    switch (cmd) {
      case "app_info":
        return info();
      case "list_accounts":
        return [account(status()), account(revokedStatus())];
      case "list_outbox":
        return [outboxItem()];
      case "list_activity":
        return [activity({ id: 1, summary: "Added ada@example.com" })];
      default:
        throw new Error(`the test did not expect ${cmd}`);
    }
  }));
  store.accounts = [];
  store.activity = [];
  store.outbox = [];
  store.selected = null;
  store.info = null;
  router.route = "status";
});

describe("main window", () => {
  it("loads everything, shows the banner and the first account's status", async () => {
    render(App);
    expect(await screen.findByTestId("sandbox-banner")).toBeInTheDocument();
    expect(document.querySelector("#app-title")).toHaveTextContent("Postern");
    expect(await screen.findByTestId("token-state")).toHaveAttribute("data-state", "valid");
    expect(invokeMock).toHaveBeenCalledWith("window_start", { limit: 200 });
  });

  it("follows core's events: status changes and new activity", async () => {
    const user = userEvent.setup();
    render(App);
    await screen.findByTestId("token-state");

    emit("postern://status", revokedStatus({ address: "ada@example.com", revokedCause: "Revoked in Postern." }));
    expect(screen.getByTestId("token-state")).toHaveAttribute("data-state", "revoked");
    expect(screen.getByTestId("revoked-cause")).toHaveTextContent("Revoked in Postern.");

    await user.click(screen.getByTestId("tab-activity"));
    emit("postern://activity", activity({ id: 2, at: "2026-11-25T12:00:00Z", summary: "Revoked ada@example.com" }));
    const rows = within(screen.getByTestId("activity-list")).getAllByTestId("activity-item");
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining("Revoked ada@example.com"),
      expect.stringContaining("Added ada@example.com"),
    ]);
  });

  it("updates the outbox from postern://outbox", async () => {
    const user = userEvent.setup();
    render(App);
    await screen.findByTestId("token-state");
    await user.click(screen.getByTestId("tab-outbox"));
    emit("postern://outbox", outboxItem({ id: 5, state: "sending", sentAt: null, subject: "Fresh" }));
    const items = within(screen.getByTestId("outbox-list")).getAllByTestId("outbox-item");
    expect(items[0]).toHaveAttribute("data-state", "sending");
    expect(items[0]).toHaveTextContent("Fresh");
  });

  it("explains a failed load in plain words", async () => {
    invokeMock.mockImplementation(async () => {
      throw { kind: "store", message: "Postern could not open its database.", fix: "Check the disk is not full." };
    });
    render(App);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Postern could not open its database.");
    expect(alert).toHaveTextContent("What to do: Check the disk is not full.");
  });
});

describe("quick-compose window", () => {
  it("asks only for what its capability allows", async () => {
    router.route = "compose";
    render(App);
    expect(await screen.findByTestId("quick-compose")).toBeInTheDocument();
    await vi.waitFor(() => expect(screen.getByLabelText("From")).toHaveValue("ada@example.com"));
    await vi.waitFor(() => expect(listenMock).toHaveBeenCalled());
    await vi.waitFor(() => expect(invokeMock.mock.calls.filter((c) => c[0] === "window_start")).toHaveLength(2));
    // capabilities/compose.json allows it (and send): once at start, again once the window listens.
    expect([...new Set(invokeMock.mock.calls.map((c) => c[0]))]).toEqual(["window_start"]);
    expect(listenMock.mock.calls.map((c) => c[0])).toEqual(["postern://accounts"]);
  });
});

describe("a failed start", () => {
  it("says why in plain words with the fix, and calls nothing", async () => {
    const q = new URLSearchParams({
      kind: "keychain_unavailable",
      message: "The OS keychain is not available.",
      fix: "Start or install the OS keychain and try again.",
    });
    window.location.hash = `#/startup-error?${q}`;
    try {
      render(App);
      const shown = await screen.findByTestId("startup-error");
      expect(shown).toHaveTextContent("Postern could not start");
      expect(shown).toHaveTextContent("The OS keychain is not available.");
      expect(shown).toHaveTextContent("What to do: Start or install the OS keychain and try again.");
      expect(invokeMock).not.toHaveBeenCalled();
    } finally {
      window.location.hash = "";
    }
  });
});
