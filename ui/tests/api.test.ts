import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import * as api from "../src/lib/api";
import { status } from "./fixtures";

const invokeMock = vi.mocked(invoke);
const listenMock = vi.mocked(listen);

beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockResolvedValue(null);
  listenMock.mockReset();
});

describe("commands", () => {
  const draft: api.Draft = {
    from: "ada@example.com",
    to: "bob@example.com",
    cc: "",
    bcc: "",
    subject: "Hi",
    text: "Hello",
    html: null,
    attachments: [],
  };
  const cases: [string, () => Promise<unknown>, string, Record<string, unknown> | undefined][] = [
    ["appInfo", () => api.appInfo(), "app_info", undefined],
    ["listAccounts", () => api.listAccounts(), "list_accounts", undefined],
    ["accountStatus", () => api.accountStatus("a@x.org"), "account_status", { address: "a@x.org" }],
    ["authorize", () => api.authorize("google", "a@x.org"), "authorize", { provider: "google", loginHint: "a@x.org" }],
    ["authorize without hint", () => api.authorize("sandbox", null), "authorize", { provider: "sandbox", loginHint: null }],
    ["cancelAuthorize", () => api.cancelAuthorize(), "cancel_authorize", undefined],
    ["completeAuthorize", () => api.completeAuthorize("http://127.0.0.1:5/?code=c&state=s"), "complete_authorize", { url: "http://127.0.0.1:5/?code=c&state=s" }],
    ["refreshNow", () => api.refreshNow("a@x.org"), "refresh_now", { address: "a@x.org" }],
    ["revoke", () => api.revoke("a@x.org"), "revoke", { address: "a@x.org" }],
    ["reauthorize", () => api.reauthorize("a@x.org"), "reauthorize", { address: "a@x.org" }],
    ["removeAccount", () => api.removeAccount("a@x.org"), "remove_account", { address: "a@x.org" }],
    ["forgetAccount", () => api.forgetAccount("a@x.org"), "forget_account", { address: "a@x.org" }],
    ["send", () => api.send(draft), "send", { draft }],
    ["listOutbox", () => api.listOutbox(), "list_outbox", undefined],
    ["retryOutbox", () => api.retryOutbox(7), "retry_outbox", { id: 7 }],
    ["discardOutbox", () => api.discardOutbox(7), "discard_outbox", { id: 7 }],
    ["listActivity", () => api.listActivity(50), "list_activity", { limit: 50 }],
    ["saveGoogleClient", () => api.saveGoogleClient("id.apps", "s3cret", "testing"), "save_google_client", { clientId: "id.apps", clientSecret: "s3cret", publishingStatus: "testing" }],
    ["importGoogleClient", () => api.importGoogleClient('{"installed":{}}', "in_production"), "import_google_client", { json: '{"installed":{}}', publishingStatus: "in_production" }],
    ["setPublishingStatus", () => api.setPublishingStatus("google", "internal"), "set_publishing_status", { provider: "google", status: "internal" }],
    ["openCompose", () => api.openCompose(), "open_compose", undefined],
  ];

  it.each(cases)("%s invokes %s with camelCase arguments", async (_name, run, command, args) => {
    await run();
    expect(invokeMock).toHaveBeenCalledTimes(1);
    expect(invokeMock).toHaveBeenCalledWith(command, args);
  });

  it("returns what the command resolved with", async () => {
    const s = status();
    invokeMock.mockResolvedValueOnce(s);
    await expect(api.refreshNow(s.address)).resolves.toEqual(s);
  });

  it("rejects with core's ErrorView unchanged", async () => {
    const err = { kind: "revoked", message: "Google refused the grant.", fix: "Authorize again." };
    invokeMock.mockRejectedValueOnce(err);
    await expect(api.refreshNow("a@x.org")).rejects.toEqual(err);
  });

  it("turns a plain string rejection into an ErrorView", async () => {
    invokeMock.mockRejectedValueOnce("window not found");
    await expect(api.openCompose()).rejects.toEqual({ kind: "unexpected", message: "window not found", fix: "" });
  });

  it("never passes a shapeless rejection through raw", async () => {
    invokeMock.mockRejectedValueOnce({ code: 3 });
    const err = await api.listOutbox().catch((e) => e);
    expect(err.kind).toBe("unexpected");
    expect(err.message).toMatch(/went wrong/);
    expect(err.fix).not.toBe("");
  });
});

describe("events", () => {
  it.each([
    ["onStatus", api.onStatus, "postern://status"],
    ["onAccounts", api.onAccounts, "postern://accounts"],
    ["onOutbox", api.onOutbox, "postern://outbox"],
    ["onActivity", api.onActivity, "postern://activity"],
    ["onAuthorize", api.onAuthorize, "postern://authorize"],
  ] as const)("%s listens to %s and hands over the payload", async (_n, subscribe, event) => {
    const unlisten = vi.fn();
    listenMock.mockResolvedValueOnce(unlisten);
    const handler = vi.fn();
    await expect((subscribe as (h: (p: unknown) => void) => Promise<() => void>)(handler)).resolves.toBe(unlisten);
    expect(listenMock).toHaveBeenCalledWith(event, expect.any(Function));
    const wrapped = listenMock.mock.calls[0][1] as (e: { event: string; id: number; payload: unknown }) => void;
    wrapped({ event, id: 1, payload: { hello: "world" } });
    expect(handler).toHaveBeenCalledWith({ hello: "world" });
  });
});
