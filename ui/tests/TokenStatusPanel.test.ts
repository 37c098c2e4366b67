import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import TokenStatusPanel from "../src/lib/components/TokenStatusPanel.svelte";
import { store } from "../src/lib/store.svelte";
import { account, MAIL, revokedStatus, status } from "./fixtures";

const invokeMock = vi.mocked(invoke);

function actionButtons(): string[] {
  return within(screen.getByTestId("token-actions"))
    .getAllByRole("button")
    .filter((b) => b.dataset.testid !== "action-remove")
    .map((b) => b.textContent!.trim());
}

beforeEach(() => {
  invokeMock.mockReset();
  store.accounts = [];
  store.authorizing = null;
  store.authorizeError = null;
});

describe("TokenStatusPanel", () => {
  it("shows core's state and headline, and exactly the actions core offers", () => {
    render(TokenStatusPanel, { status: status() });
    const state = screen.getByTestId("token-state");
    expect(state).toHaveAttribute("data-state", "valid");
    expect(state).toHaveTextContent("Valid");
    expect(screen.getByTestId("token-headline")).toHaveTextContent("Valid for 54 minutes");
    expect(actionButtons()).toEqual(["Refresh now", "Revoke", "Revoke & reauthorize"]);
    expect(screen.getByTestId("audience")).toHaveTextContent("Postern's client");
    expect(screen.getByTestId("refresh-age")).toHaveTextContent("3 days");
  });

  it("counts down the seconds left from expiresAt", () => {
    const expiresAt = new Date(Date.now() + 125_000).toISOString();
    render(TokenStatusPanel, { status: status({ expiresAt, secondsLeft: 9999 }) });
    // 125 s from now, shown as minutes:seconds (2:04 or 2:05 depending on the millisecond).
    expect(screen.getByTestId("seconds-left").textContent).toMatch(/^\s*2:0[45]\s*$/);
  });

  it("offers no button core did not list", () => {
    render(TokenStatusPanel, { status: status({ state: "refreshing", headline: "Refreshing…", actions: [] }) });
    expect(actionButtons()).toEqual([]);
  });

  it("shows a revoked account's cause, its last error with the fix, and Authorize again", () => {
    render(TokenStatusPanel, { status: revokedStatus() });
    expect(screen.getByTestId("token-state")).toHaveAttribute("data-state", "revoked");
    expect(screen.getByTestId("revoked-cause")).toHaveTextContent(
      "You removed Postern's access in your Google account settings.",
    );
    const error = screen.getByTestId("error");
    expect(error).toHaveTextContent("Google no longer accepts this account's refresh token.");
    expect(error).toHaveTextContent("What to do: Authorize the account again.");
    expect(actionButtons()).toEqual(["Authorize again"]);
  });

  it("marks missing scopes and offers Grant again", () => {
    render(TokenStatusPanel, {
      status: status({
        state: "scope_missing",
        headline: "Sending is not allowed",
        scopesGranted: ["email"],
        scopesMissing: [MAIL],
        actions: ["grant_again", "revoke"],
      }),
    });
    const missing = screen.getByTestId("scope-missing");
    expect(missing.closest("li")).toHaveAttribute("data-scope", MAIL);
    expect(actionButtons()).toEqual(["Grant again", "Revoke"]);
  });

  it("shows the testing-mode warning core sent", () => {
    render(TokenStatusPanel, {
      status: status({ testingModeWarning: "This Google client is in Testing: the grant ends after 7 days." }),
    });
    expect(screen.getByTestId("testing-warning")).toHaveTextContent("grant ends after 7 days");
  });

  it("Refresh now calls refresh_now and shows the status core returns", async () => {
    const before = status();
    store.accounts = [account(before)];
    const after = status({ headline: "Valid for 60 minutes" });
    invokeMock.mockResolvedValueOnce(after);
    render(TokenStatusPanel, { status: before });
    await userEvent.click(screen.getByRole("button", { name: "Refresh now" }));
    expect(invokeMock).toHaveBeenCalledWith("refresh_now", { address: "ada@example.com" });
    expect(store.accounts[0].status.headline).toBe("Valid for 60 minutes");
  });

  it("Revoke asks first, then calls revoke", async () => {
    invokeMock.mockResolvedValueOnce(revokedStatus({ address: "ada@example.com" }));
    render(TokenStatusPanel, { status: status() });
    await userEvent.click(screen.getByRole("button", { name: "Revoke" }));
    expect(invokeMock).not.toHaveBeenCalled();
    expect(screen.getByTestId("confirm-revoke")).toHaveFocus();
    await userEvent.keyboard("{Enter}");
    expect(invokeMock).toHaveBeenCalledWith("revoke", { address: "ada@example.com" });
  });

  it("Grant again starts the browser flow for the same address", async () => {
    invokeMock.mockResolvedValueOnce(account(status()));
    render(TokenStatusPanel, { status: status({ state: "scope_missing", actions: ["grant_again"] }) });
    await userEvent.click(screen.getByRole("button", { name: "Grant again" }));
    expect(invokeMock).toHaveBeenCalledWith("authorize", { provider: "sandbox", loginHint: "ada@example.com" });
  });

  it("Authorize again calls reauthorize", async () => {
    invokeMock.mockResolvedValueOnce(account(status({ address: "grace@example.com" })));
    render(TokenStatusPanel, { status: revokedStatus() });
    await userEvent.click(screen.getByRole("button", { name: "Authorize again" }));
    expect(invokeMock).toHaveBeenCalledWith("reauthorize", { address: "grace@example.com" });
  });

  it("a failed action shows its message and fix in plain words", async () => {
    invokeMock.mockRejectedValueOnce({
      kind: "network",
      message: "Postern could not reach Google's token endpoint.",
      fix: "Check your internet connection and try again.",
    });
    render(TokenStatusPanel, { status: status() });
    await userEvent.click(screen.getByRole("button", { name: "Refresh now" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Postern could not reach Google's token endpoint.");
    expect(alert).toHaveTextContent("What to do: Check your internet connection and try again.");
    expect(alert.textContent).not.toContain("{");
    expect(alert.textContent).not.toContain("kind");
  });

  it("keeps an action's error when core sends a fresh status for the same account, drops it for another", async () => {
    invokeMock.mockRejectedValueOnce({ kind: "network", message: "No connection to Google.", fix: "Try again later." });
    const { rerender } = render(TokenStatusPanel, { status: status() });
    await userEvent.click(screen.getByRole("button", { name: "Refresh now" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No connection to Google.");
    await rerender({ status: status({ headline: "Valid for 53 minutes" }) });
    expect(screen.getByRole("alert")).toHaveTextContent("No connection to Google.");
    await rerender({ status: revokedStatus() });
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
