import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import ActivityLog from "../src/lib/components/ActivityLog.svelte";
import Outbox from "../src/lib/components/Outbox.svelte";
import { store } from "../src/lib/store.svelte";
import { activity, outboxItem } from "./fixtures";

const invokeMock = vi.mocked(invoke);

beforeEach(() => {
  invokeMock.mockReset();
  store.outbox = [];
  store.activity = [];
});

const failed = outboxItem({
  id: 3,
  state: "failed",
  attempts: 2,
  sentAt: null,
  subject: "Invoice",
  lastError: {
    kind: "smtp_rejected",
    message: "Gmail refused the message: 552 the message is too big.",
    fix: "Remove an attachment or send a link instead.",
  },
});
const waiting = outboxItem({ id: 4, state: "waiting", sentAt: null, subject: "Hello again" });
const sent = outboxItem({ id: 2, state: "sent" });

describe("Outbox", () => {
  it("lists items with state, attempts and the last error with its fix", () => {
    render(Outbox, { items: [sent, failed, waiting] });
    const items = within(screen.getByTestId("outbox-list")).getAllByTestId("outbox-item");
    expect(items.map((i) => i.dataset.id)).toEqual(["4", "3", "2"]);
    const f = items[1];
    expect(within(f).getByTestId("outbox-state")).toHaveTextContent("Failed");
    expect(f).toHaveTextContent("2 attempts");
    expect(f).toHaveTextContent("Gmail refused the message: 552 the message is too big.");
    expect(f).toHaveTextContent("What to do: Remove an attachment or send a link instead.");
  });

  it("offers Retry and Discard only where they make sense", () => {
    render(Outbox, { items: [sent, failed, waiting] });
    const [w, f, s] = within(screen.getByTestId("outbox-list")).getAllByTestId("outbox-item");
    expect(within(s).queryByRole("button")).not.toBeInTheDocument();
    expect(within(f).getAllByRole("button").map((b) => b.textContent)).toEqual(["Retry", "Discard"]);
    expect(within(w).getAllByRole("button").map((b) => b.textContent)).toEqual(["Retry", "Discard"]);
  });

  it("Retry calls retry_outbox and shows the item core returns", async () => {
    store.outbox = [failed];
    invokeMock.mockResolvedValueOnce({ ...failed, state: "queued", lastError: null });
    const { rerender } = render(Outbox, { items: store.outbox });
    await userEvent.click(screen.getByTestId("outbox-retry"));
    expect(invokeMock).toHaveBeenCalledWith("retry_outbox", { id: 3 });
    await rerender({ items: store.outbox });
    expect(screen.getByTestId("outbox-state")).toHaveTextContent("Queued");
  });

  it("Discard calls discard_outbox and removes the item", async () => {
    store.outbox = [failed];
    invokeMock.mockResolvedValueOnce(null);
    render(Outbox, { items: [failed] });
    await userEvent.click(screen.getByTestId("outbox-discard"));
    expect(invokeMock).toHaveBeenCalledWith("discard_outbox", { id: 3 });
    expect(store.outbox).toEqual([]);
  });

  it("a refused Retry is explained on the item", async () => {
    invokeMock.mockRejectedValueOnce({
      kind: "revoked",
      message: "ada@example.com no longer lets Postern send mail.",
      fix: "Authorize the account again; the message is sent after that.",
    });
    render(Outbox, { items: [waiting] });
    await userEvent.click(screen.getByTestId("outbox-retry"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("no longer lets Postern send mail");
    expect(alert).toHaveTextContent("What to do: Authorize the account again");
  });
});

describe("ActivityLog", () => {
  it("shows the newest first", () => {
    render(ActivityLog, {
      items: [
        activity({ id: 1, at: "2026-11-25T10:00:00Z", summary: "Added ada@example.com" }),
        activity({ id: 3, at: "2026-11-25T12:00:00Z", summary: "Sent “Minutes”" }),
        activity({ id: 2, at: "2026-11-25T11:00:00Z", summary: "Refresh failed", ok: false }),
      ],
    });
    const rows = within(screen.getByTestId("activity-list")).getAllByTestId("activity-item");
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining("Sent “Minutes”"),
      expect.stringContaining("Refresh failed"),
      expect.stringContaining("Added ada@example.com"),
    ]);
    expect(within(rows[1]).getByLabelText("failed")).toBeInTheDocument();
  });
});
