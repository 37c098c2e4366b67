import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { flushSync } from "svelte";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import AccountList from "../src/lib/components/AccountList.svelte";
import Header from "../src/lib/components/Header.svelte";
import { store } from "../src/lib/store.svelte";
import { formatDateTime } from "../src/lib/format";
import { account, info, pendingStatus, revokedStatus, status, testingStatus } from "./fixtures";

const invokeMock = vi.mocked(invoke);

beforeEach(() => {
  invokeMock.mockReset();
  store.accounts = [];
  store.authorizing = null;
  store.authorizeError = null;
});

describe("Header", () => {
  it("names the app and warns about sandbox mode", () => {
    render(Header, { info: info({ mode: "sandbox" }) });
    expect(document.querySelector("#app-title")).toHaveTextContent(/^Postern$/);
    expect(screen.getByTestId("sandbox-banner")).toHaveTextContent(
      "Sandbox mode — a local stand-in for Google; no real mail leaves this computer",
    );
  });

  it("shows no banner in Google mode", () => {
    render(Header, { info: info({ mode: "google" }) });
    expect(screen.queryByTestId("sandbox-banner")).not.toBeInTheDocument();
  });
});

describe("AccountList", () => {
  const accounts = [account(status()), account(revokedStatus())];

  it("lists each account with the state badge core reported", async () => {
    const onselect = vi.fn();
    render(AccountList, { accounts, selected: "ada@example.com", info: info(), onselect });
    const items = within(screen.getByTestId("account-list")).getAllByTestId("account-item");
    expect(items.map((i) => i.dataset.address)).toEqual(["ada@example.com", "grace@example.com"]);
    expect(within(items[0]).getByTestId("account-state")).toHaveAttribute("data-state", "valid");
    expect(within(items[1]).getByTestId("account-state")).toHaveTextContent("Revoked");
    expect(items[0]).toHaveAttribute("aria-current", "true");
    await userEvent.click(items[1]);
    expect(onselect).toHaveBeenCalledWith("grace@example.com");
  });

  it("marks an account whose revocation waits for the provider as revocation pending", () => {
    render(AccountList, { accounts: [account(pendingStatus())], selected: null, info: info(), onselect: () => {} });
    const item = screen.getByTestId("account-item");
    const badge = within(item).getByTestId("account-state");
    expect(badge).toHaveAttribute("data-state", "revocation_pending");
    expect(badge).toHaveTextContent("Revocation pending");
    expect(badge).toHaveClass("s-revocation_pending");
    expect(item).toHaveTextContent("Google (Gmail) has not confirmed it");
  });

  it("says when a grant core marks as ending soon ends, and says nothing for the others", () => {
    const soon = testingStatus(3_600, { address: "ada@example.com" });
    const later = testingStatus(3 * 86_400, { address: "bo@example.com" });
    render(AccountList, { accounts: [account(soon), account(later)], selected: null, info: info(), onselect: () => {} });
    const items = screen.getAllByTestId("account-item");
    expect(within(items[0]).getByTestId("grant-ends-soon")).toHaveTextContent(
      `Grant ends ${formatDateTime(soon.grantEndsAt)}`,
    );
    expect(within(items[1]).queryByTestId("grant-ends-soon")).not.toBeInTheDocument();
  });

  it("Add account picks a provider and starts the browser flow with the hint", async () => {
    const user = userEvent.setup();
    let finish!: (a: unknown) => void;
    invokeMock.mockImplementationOnce(() => new Promise((resolve) => (finish = resolve)));
    const providers = [
      { name: "google", label: "Google", publishingStatus: "unknown" as const },
      { name: "sandbox", label: "Sandbox (local stand-in for Google)", publishingStatus: "unknown" as const },
    ];
    render(AccountList, {
      accounts: [],
      selected: null,
      info: info({ providers, googleClientConfigured: true }),
      onselect: () => {},
    });
    await user.click(screen.getByTestId("add-account"));
    await user.click(screen.getByLabelText("Sandbox (local stand-in for Google)"));
    await user.type(screen.getByLabelText("Email address (optional)"), "new@example.com");
    await user.click(screen.getByRole("button", { name: "Continue in browser" }));
    expect(invokeMock).toHaveBeenCalledWith("authorize", { provider: "sandbox", loginHint: "new@example.com" });

    // While the command runs, core's progress events drive what is shown.
    expect(await screen.findByText("Waiting for you in the browser…")).toBeInTheDocument();
    store.onAuthorizeProgress({ phase: "waiting", url: "http://127.0.0.1:4123/consent?x=1", error: null });
    flushSync();
    expect(screen.getByLabelText("If your browser did not open, copy this address into it")).toHaveValue(
      "http://127.0.0.1:4123/consent?x=1",
    );

    finish(account(status({ address: "new@example.com" })));
    await vi.waitFor(() => expect(screen.queryByTestId("authorize-progress")).not.toBeInTheDocument());
    expect(store.selected).toBe("new@example.com");
    expect(store.accounts.map((a) => a.address)).toContain("new@example.com");
  });

  it("Cancel calls cancel_authorize, and a cancelled flow shows no error", async () => {
    const user = userEvent.setup();
    let fail!: (e: unknown) => void;
    invokeMock.mockImplementationOnce(() => new Promise((_, reject) => (fail = reject)));
    render(AccountList, { accounts: [], selected: null, info: info(), onselect: () => {} });
    await user.click(screen.getByTestId("add-account"));
    await user.click(screen.getByRole("button", { name: "Continue in browser" }));
    invokeMock.mockResolvedValueOnce(null);
    await user.click(screen.getByTestId("authorize-cancel"));
    expect(invokeMock).toHaveBeenLastCalledWith("cancel_authorize", undefined);
    // Core's answer to the cancel (no progress event needed to tell it apart from a failure).
    fail({ kind: "authorization_cancelled", message: "You cancelled the sign-in.", fix: "" });
    await vi.waitFor(() => expect(screen.getByTestId("add-account")).toBeInTheDocument());
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("a failed flow says why and what to do", async () => {
    const user = userEvent.setup();
    invokeMock.mockRejectedValueOnce({
      kind: "timeout",
      message: "Nobody finished the sign-in within 5 minutes.",
      fix: "Click Add account and finish the sign-in in the browser.",
    });
    render(AccountList, { accounts: [], selected: null, info: info(), onselect: () => {} });
    await user.click(screen.getByTestId("add-account"));
    await user.click(screen.getByRole("button", { name: "Continue in browser" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Nobody finished the sign-in within 5 minutes.");
    expect(alert).toHaveTextContent("What to do: Click Add account");
  });

  it("in sandbox mode without a Google client, starts on the sandbox, not on Google", async () => {
    const user = userEvent.setup();
    const providers = [
      { name: "google", label: "Google", publishingStatus: "unknown" as const },
      { name: "sandbox", label: "Sandbox (local stand-in for Google)", publishingStatus: "unknown" as const },
    ];
    render(AccountList, { accounts: [], selected: null, info: info({ providers }), onselect: () => {} });
    await user.click(screen.getByTestId("add-account"));
    expect(screen.getByLabelText("Sandbox (local stand-in for Google)")).toBeChecked();
    expect(screen.queryByText(/needs your own Google client/)).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Continue in browser" })).toBeEnabled();
  });

  it("in Google mode without a client, points to Settings instead of starting", async () => {
    const user = userEvent.setup();
    render(AccountList, {
      accounts: [],
      selected: null,
      info: info({ mode: "google", providers: [{ name: "google", label: "Google", publishingStatus: "unknown" as const }] }),
      onselect: () => {},
    });
    await user.click(screen.getByTestId("add-account"));
    expect(screen.getByText(/needs your own Google client/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Continue in browser" })).toBeDisabled();
  });
});
