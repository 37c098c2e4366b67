import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { flushSync } from "svelte";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import TokenStatusPanel from "../src/lib/components/TokenStatusPanel.svelte";
import { store } from "../src/lib/store.svelte";
import { formatDateTime } from "../src/lib/format";
import { account, info, MAIL, pendingStatus, revokedStatus, status, testingStatus } from "./fixtures";

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
  store.info = null;
});

afterEach(() => {
  vi.useRealTimers();
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

describe("TokenStatusPanel, who must act", () => {
  it("asks before reauthorizing an expired grant, which core revokes first", () => {
    render(TokenStatusPanel, { status: status({ state: "expired", headline: "Expired; Postern refreshes it when needed" }) });
    expect(actionButtons()).toEqual(["Refresh now", "Revoke", "Revoke & reauthorize"]);
  });

  it("offers Authorize again without a question once core says the person must act", async () => {
    render(TokenStatusPanel, {
      status: status({ state: "secret_missing", needsPerson: true, actions: ["reauthorize", "forget"] }),
    });
    expect(actionButtons()).toEqual(["Authorize again", "Forget here"]);
    invokeMock.mockResolvedValue(account());
    await userEvent.click(screen.getByRole("button", { name: "Authorize again" }));
    expect(screen.queryByRole("group")).toBeNull();
    expect(invokeMock).toHaveBeenCalledWith("reauthorize", { address: "ada@example.com" });
  });
});

describe("TokenStatusPanel, revocation pending", () => {
  const google = { name: "google", label: "Google (Gmail)", publishingStatus: "in_production" as const };

  it("shows core's headline, why, the fix naming the provider's page, and the next try", () => {
    const pending = pendingStatus();
    render(TokenStatusPanel, { status: pending });
    expect(screen.getByTestId("token-state")).toHaveAttribute("data-state", "revocation_pending");
    expect(screen.getByTestId("token-state-badge")).toHaveTextContent("Revocation pending");
    expect(screen.getByTestId("token-headline")).toHaveTextContent(
      "Revocation pending: Google (Gmail) has not confirmed it",
    );
    const box = screen.getByTestId("revocation-pending");
    expect(within(box).getByTestId("pending-reason")).toHaveTextContent("Postern could not reach it.");
    expect(within(box).getByTestId("pending-fix")).toHaveTextContent(
      "remove Postern at https://myaccount.google.com/connections",
    );
    // The command core names in backticks is shown as code, not with the backticks.
    expect(within(box).getByText("postern revoke").tagName).toBe("CODE");
    expect(box.textContent).not.toContain("`");
    const nextTry = within(box).getByTestId("revocation-next-try");
    expect(nextTry).toHaveTextContent(formatDateTime(pending.revocationNextTry));
    expect(nextTry.textContent).toMatch(/in 1:59|in 2:00/);
    expect(actionButtons()).toEqual(["Retry revocation", "Forget here"]);
    // The reason is shown once, in the pending box, not again as a generic problem.
    expect(screen.queryByTestId("error")).not.toBeInTheDocument();
  });

  it("Retry revocation calls revoke and shows the revoked status core returns", async () => {
    const pending = pendingStatus();
    store.accounts = [account(pending)];
    invokeMock.mockResolvedValueOnce(revokedStatus({ address: pending.address, headline: "Revoked by you" }));
    render(TokenStatusPanel, { status: pending });
    await userEvent.click(screen.getByRole("button", { name: "Retry revocation" }));
    expect(invokeMock).toHaveBeenCalledWith("revoke", { address: "lin@example.com" });
    expect(store.accounts[0].status.state).toBe("revoked");
  });

  it("a retry the provider still does not confirm says so once, without repeating the reason", async () => {
    const pending = pendingStatus();
    invokeMock.mockRejectedValueOnce(pending.lastError);
    render(TokenStatusPanel, { status: pending });
    await userEvent.click(screen.getByRole("button", { name: "Retry revocation" }));
    expect(await screen.findByTestId("retry-result")).toHaveTextContent("still not confirmed");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.getAllByText(/Postern could not reach it/)).toHaveLength(1);
  });

  it("Forget here asks first, saying the grant may still be live at the provider, then calls forget_account", async () => {
    const pending = pendingStatus();
    store.info = info({ mode: "google", providers: [google] });
    store.accounts = [account(pending)];
    invokeMock.mockResolvedValueOnce(null);
    render(TokenStatusPanel, { status: pending });
    await userEvent.click(screen.getByRole("button", { name: "Forget here" }));
    expect(invokeMock).not.toHaveBeenCalled();
    expect(screen.getByTestId("confirm-text")).toHaveTextContent(
      "the grant may still be live at Google (Gmail)",
    );
    await userEvent.click(screen.getByRole("button", { name: "Yes, forget here" }));
    expect(invokeMock).toHaveBeenCalledWith("forget_account", { address: "lin@example.com" });
    expect(store.accounts).toEqual([]);
  });
});

describe("TokenStatusPanel, the grant's end", () => {
  it("counts a Testing grant's end down from core's seconds, every second", () => {
    vi.useFakeTimers();
    const testing = testingStatus(3 * 86_400);
    render(TokenStatusPanel, { status: testing });
    expect(screen.getByTestId("publishing-status")).toHaveTextContent("Testing");
    expect(screen.getByTestId("grant-end")).toHaveTextContent("Testing mode (7 days after consent)");
    expect(screen.getByTestId("grant-ends-at")).toHaveTextContent(formatDateTime(testing.grantEndsAt));
    const left = screen.getByTestId("grant-seconds-left");
    expect(left).toHaveTextContent("3d 00:00:00");
    expect(left).toHaveAttribute("data-ending-soon", "false");
    vi.advanceTimersByTime(2_000);
    flushSync();
    expect(left).toHaveTextContent("2d 23:59:58");
    const note = screen.getByTestId("grant-note");
    expect(note).toHaveTextContent("Google ends this grant on");
    expect(note).toHaveClass("info");
    expect(screen.queryByTestId("grant-ending-soon")).not.toBeInTheDocument();
  });

  it("warns when core says a Testing grant ends within 24 hours", () => {
    vi.useFakeTimers();
    render(TokenStatusPanel, { status: testingStatus(5 * 3600) });
    const left = screen.getByTestId("grant-seconds-left");
    expect(left).toHaveAttribute("data-ending-soon", "true");
    expect(left).toHaveClass("soon");
    expect(screen.getByTestId("grant-note")).toHaveClass("warn");
    expect(screen.getByTestId("grant-ending-soon")).toHaveTextContent("This grant ends in 5:00:00.");
    vi.advanceTimersByTime(61_000);
    flushSync();
    expect(screen.getByTestId("grant-ending-soon")).toHaveTextContent("This grant ends in 4:58:59.");
  });

  it("shows the exact end of time-based access", () => {
    const endsAt = "2026-12-01T09:30:00Z";
    render(TokenStatusPanel, {
      status: status({
        provider: "google",
        publishingStatus: "in_production",
        grantEndsAt: endsAt,
        grantEnd: "time_based_access",
        grantSecondsLeft: 2 * 86_400 + 3_661,
        grantNote: `You chose time-based access on the consent page: this grant ends on ${endsAt}.`,
      }),
    });
    expect(screen.getByTestId("grant-end")).toHaveTextContent("Time-based access you chose");
    expect(screen.getByTestId("grant-ends-at")).toHaveTextContent(formatDateTime(endsAt));
    expect(screen.getByTestId("grant-ends-at")).toHaveTextContent("2026");
    expect(screen.getByTestId("grant-seconds-left")).toHaveTextContent("2d 01:01:01");
    expect(screen.getByTestId("publishing-status")).toHaveTextContent("In production");
    expect(screen.getByTestId("grant-note")).toHaveTextContent("time-based access on the consent page");
  });

  it("with no end from core shows none, only core's note on what to check", () => {
    render(TokenStatusPanel, {
      status: status({
        provider: "google",
        grantNote: "Set this client's publishing status in Settings (Google Cloud Console → Google Auth Platform → Audience shows it): in Testing, Google ends grants 7 days after consent.",
      }),
    });
    expect(screen.getByTestId("publishing-status")).toHaveTextContent("Unknown");
    expect(screen.getByTestId("grant-ends-at")).toHaveTextContent("No end known");
    expect(screen.queryByTestId("grant-seconds-left")).not.toBeInTheDocument();
    expect(screen.getByTestId("grant-note")).toHaveTextContent("Set this client's publishing status in Settings");
  });
});
