// The desktop habits: keyboard shortcuts, the tablist, drafts that survive, attachments and Esc in
// quick compose, and the question before Revoke & reauthorize.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { tick } from "svelte";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(async () => () => {}) }));
const closeWindow = vi.fn(async () => {});
vi.mock("@tauri-apps/api/window", () => ({ getCurrentWindow: () => ({ close: closeWindow }) }));

import { invoke } from "@tauri-apps/api/core";
import App from "../src/App.svelte";
import Compose from "../src/lib/components/Compose.svelte";
import QuickCompose from "../src/lib/components/QuickCompose.svelte";
import TokenStatusPanel from "../src/lib/components/TokenStatusPanel.svelte";
import { loadDraft } from "../src/lib/drafts";
import { router } from "../src/lib/router.svelte";
import { store } from "../src/lib/store.svelte";
import { account, info, outboxItem, revokedStatus, status, withStart } from "./fixtures";

const invokeMock = vi.mocked(invoke);
const accounts = [account(status())];
const ME = accounts[0].address;

beforeEach(() => {
  invokeMock.mockReset();
  invokeMock.mockImplementation(withStart(async (cmd) => {
    switch (cmd) {
      case "app_info":
        return info();
      case "list_accounts":
        return accounts;
      case "list_outbox":
      case "list_activity":
        return [];
      case "send":
        return outboxItem();
      case "stage_attachment":
        return "staged-1";
      default:
        return null;
    }
  }));
  closeWindow.mockClear();
  store.accounts = [];
  store.authorizing = null;
  router.go("status");
});

describe("the main window's tabs", () => {
  it("are a tablist: one tab selected and focusable, the view labelled by it", async () => {
    render(App);
    const list = await screen.findByRole("tablist", { name: "Views" });
    const tabs = within(list).getAllByRole("tab");
    expect(tabs.map((t) => t.textContent?.trim())).toEqual(["Token status", "Compose", "Outbox", "Activity", "Settings"]);
    const selected = tabs.filter((t) => t.getAttribute("aria-selected") === "true");
    expect(selected).toHaveLength(1);
    expect(selected[0]).toHaveAttribute("tabindex", "0");
    expect(tabs.filter((t) => t.getAttribute("tabindex") === "-1")).toHaveLength(4);
    expect(screen.getByRole("tabpanel")).toHaveAttribute("aria-labelledby", selected[0].id);
  });

  it("move with the arrow keys (wrapping), Home and End, and focus follows", async () => {
    const user = userEvent.setup();
    render(App);
    const first = await screen.findByRole("tab", { name: "Token status" });
    first.focus();
    await user.keyboard("{ArrowRight}");
    expect(router.route).toBe("write");
    expect(screen.getByRole("tab", { name: "Compose" })).toHaveFocus();
    expect(screen.getByRole("tab", { name: "Compose" })).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{ArrowLeft}{ArrowLeft}");
    expect(router.route).toBe("settings");
    await user.keyboard("{Home}");
    expect(router.route).toBe("status");
    await user.keyboard("{End}");
    expect(router.route).toBe("settings");
    expect(screen.getByRole("tab", { name: "Settings" })).toHaveFocus();
  });
});

describe("keyboard shortcuts", () => {
  it("Ctrl+N opens Compose with the cursor in To", async () => {
    const user = userEvent.setup();
    render(App);
    await screen.findByRole("tablist");
    await user.keyboard("{Control>}n{/Control}");
    expect(router.route).toBe("write");
    await vi.waitFor(() => expect(screen.getByLabelText("To")).toHaveFocus());
  });

  it("Ctrl+Enter sends from the compose form", async () => {
    const user = userEvent.setup();
    render(Compose, { accounts });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.type(screen.getByLabelText("Message"), "Hi{Control>}{Enter}{/Control}");
    await vi.waitFor(() =>
      expect(invokeMock).toHaveBeenCalledWith("send", expect.objectContaining({ draft: expect.objectContaining({ to: "bob@example.com", text: "Hi" }) })),
    );
  });

  it("Enter alone in the message is a new line, not a send", async () => {
    const user = userEvent.setup();
    render(Compose, { accounts });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.type(screen.getByLabelText("Message"), "one{Enter}two");
    expect(invokeMock).not.toHaveBeenCalledWith("send", expect.anything());
    expect(screen.getByLabelText("Message")).toHaveValue("one\ntwo");
  });
});

describe("quick compose", () => {
  it("Ctrl+Enter sends, with the attachments picked", async () => {
    const user = userEvent.setup();
    render(QuickCompose, { accounts, onclose: () => {} });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.upload(screen.getByLabelText(/Attachments/), new File(["hello"], "note.txt", { type: "text/plain" }));
    expect(await screen.findByTestId("compose-attachments")).toHaveTextContent("note.txt");
    await user.type(screen.getByLabelText("Message"), "See attached{Control>}{Enter}{/Control}");
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("send", expect.anything()));
    const draft = (invokeMock.mock.calls.find((c) => c[0] === "send")![1] as { draft: { attachments: unknown[] } }).draft;
    expect(draft.attachments).toEqual([{ name: "note.txt", contentType: "text/plain", dataBase64: "", staged: "staged-1" }]);
    const staged = invokeMock.mock.calls.find((c) => c[0] === "stage_attachment")![1] as Uint8Array;
    expect(Array.from(staged)).toEqual(Array.from(new TextEncoder().encode("hello")));
  });

  it("takes files dropped on it", async () => {
    render(QuickCompose, { accounts, onclose: () => {} });
    const form = screen.getByTestId("quick-compose");
    const file = new File(["dropped"], "dropped.txt", { type: "text/plain" });
    const drop = new Event("drop", { bubbles: true, cancelable: true }) as Event & { dataTransfer: unknown };
    drop.dataTransfer = { files: [file] };
    form.dispatchEvent(drop);
    expect(await screen.findByTestId("compose-attachments")).toHaveTextContent("dropped.txt");
  });

  it("Esc closes the window and the text is there when it opens again", async () => {
    const user = userEvent.setup();
    const closed = vi.fn();
    const first = render(QuickCompose, { accounts, onclose: closed });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.type(screen.getByLabelText("Subject"), "Later");
    await user.type(screen.getByLabelText("Message"), "Half a thought");
    await user.keyboard("{Escape}");
    expect(closed).toHaveBeenCalledOnce();
    first.unmount();
    render(QuickCompose, { accounts, onclose: closed });
    expect(screen.getByLabelText("To")).toHaveValue("bob@example.com");
    expect(screen.getByLabelText("Subject")).toHaveValue("Later");
    expect(screen.getByLabelText("Message")).toHaveValue("Half a thought");
  });

  it("Esc in the quick-compose window closes that window through Tauri", async () => {
    const user = userEvent.setup();
    router.route = "compose";
    render(App);
    await screen.findByTestId("quick-compose");
    await user.keyboard("{Escape}");
    await vi.waitFor(() => expect(closeWindow).toHaveBeenCalledOnce());
  });
});

describe("drafts", () => {
  it("a half-written message survives the form closing (a restart) and is gone once sent", async () => {
    const user = userEvent.setup();
    const first = render(Compose, { accounts });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.type(screen.getByLabelText("Subject"), "Minutes");
    await user.type(screen.getByLabelText("Message"), "Draft body");
    first.unmount();
    render(Compose, { accounts });
    expect(screen.getByLabelText("To")).toHaveValue("bob@example.com");
    expect(screen.getByLabelText("Subject")).toHaveValue("Minutes");
    expect(screen.getByLabelText("Message")).toHaveValue("Draft body");
    await user.click(screen.getByTestId("compose-send"));
    await vi.waitFor(() => expect(loadDraft("compose")).toBeNull());
    await tick();
    expect(screen.getByLabelText("Subject")).toHaveValue("");
  });
});

describe("Revoke & reauthorize", () => {
  it("asks first, like Revoke, and only a yes revokes", async () => {
    const user = userEvent.setup();
    render(TokenStatusPanel, { status: status() });
    await user.click(screen.getByRole("button", { name: "Revoke & reauthorize" }));
    expect(invokeMock).not.toHaveBeenCalledWith("reauthorize", expect.anything());
    expect(screen.getByRole("group")).toHaveTextContent("Revoke Postern's access and authorize again?");
    await user.click(screen.getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("group")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Revoke & reauthorize" }));
    await user.click(screen.getByRole("button", { name: "Yes, revoke & reauthorize" }));
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("reauthorize", { address: ME }));
  });

  it("chosen in the tray, asks the same question in the window while the grant works", async () => {
    const user = userEvent.setup();
    store.accounts = accounts;
    store.askReauthorize(ME);
    expect(store.selected).toBe(ME);
    expect(router.route).toBe("status");
    render(TokenStatusPanel, { status: status() });
    expect(await screen.findByRole("group")).toHaveTextContent("Revoke Postern's access and authorize again?");
    expect(invokeMock).not.toHaveBeenCalledWith("reauthorize", expect.anything());
    expect(store.asked).toBeNull();
    await user.click(screen.getByRole("button", { name: "Yes, revoke & reauthorize" }));
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("reauthorize", { address: ME }));
  });

  it("chosen in the tray for an ended grant, authorizes again at once", async () => {
    const ended = revokedStatus();
    store.accounts = [account(ended)];
    store.askReauthorize(ended.address);
    render(TokenStatusPanel, { status: ended });
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("reauthorize", { address: ended.address }));
    expect(screen.queryByRole("group")).toBeNull();
  });

  it("is not asked for an account Postern does not have", () => {
    store.accounts = accounts;
    store.asked = null;
    store.askReauthorize("nobody@example.com");
    expect(store.asked).toBeNull();
  });
});

describe("sender names", () => {
  it("From carries the account's name, quoted and escaped", async () => {
    const { fromWithName } = await import("../src/lib/draft");
    expect(fromWithName("pat@example.com", " Pat Doe ")).toBe('"Pat Doe" <pat@example.com>');
    expect(fromWithName("pat@example.com", 'Pat "PD" D\\oe')).toBe('"Pat \\"PD\\" D\\\\oe" <pat@example.com>');
    expect(fromWithName("pat@example.com", "")).toBe("pat@example.com");
  });

  it("Compose sends from the name set for the account", async () => {
    const user = userEvent.setup();
    store.senderNames = { [ME.toLowerCase()]: "Ada L." };
    render(Compose, { accounts });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.click(screen.getByTestId("compose-send"));
    await vi.waitFor(() =>
      expect(invokeMock).toHaveBeenCalledWith("send", { draft: expect.objectContaining({ from: `"Ada L." <${ME}>` }) }),
    );
    store.senderNames = {};
  });

  it("is set per account in Settings", async () => {
    const user = userEvent.setup();
    const { default: Settings } = await import("../src/lib/components/Settings.svelte");
    const base = invokeMock.getMockImplementation()!;
    invokeMock.mockImplementation(async (cmd, args) => {
      if (cmd === "get_preferences") return { notifications: true, trayHintShown: false, senderNames: {} };
      if (cmd === "set_sender_name")
        return { notifications: true, trayHintShown: false, senderNames: { [ME]: "Ada L." } };
      return base(cmd, args);
    });
    store.accounts = accounts;
    render(Settings, { info: info() });
    const field = await screen.findByLabelText(`Name for ${ME}`);
    await vi.waitFor(() => expect(field).toBeEnabled());
    await user.type(field, "Ada L.");
    await user.tab();
    expect(invokeMock).toHaveBeenCalledWith("set_sender_name", { address: ME, name: "Ada L." });
    expect(await screen.findByRole("status")).toHaveTextContent("now shows “Ada L.”");
    expect(store.senderNames[ME]).toBe("Ada L.");
  });
});

describe("a click on a notification about an account", () => {
  it("shows that account's status, whatever the window showed", () => {
    const second = account(status({ address: "sam@example.org" }));
    store.accounts = [...accounts, second];
    store.selected = ME;
    router.go("settings");
    store.showAccount("sam@example.org");
    expect(store.selected).toBe("sam@example.org");
    expect(router.route).toBe("status");
  });

  it("opens a window that was closed on that account (#/status?account=…)", async () => {
    const second = account(status({ address: "sam@example.org" }));
    invokeMock.mockImplementation(
      withStart(async (cmd) =>
        cmd === "list_accounts" ? [...accounts, second] : cmd === "app_info" ? info() : cmd === "list_outbox" || cmd === "list_activity" ? [] : null,
      ),
    );
    history.replaceState(null, "", "#/status?account=sam%40example.org");
    store.selected = null;
    render(App);
    await vi.waitFor(() => expect(screen.getByTestId("token-status")).toHaveAttribute("data-address", "sam@example.org"));
    history.replaceState(null, "", "#/");
  });
});

describe("compose takes dropped files", () => {
  it("a file dropped on the form joins the attachments and is sent", async () => {
    const user = userEvent.setup();
    render(Compose, { accounts });
    const form = screen.getByTestId("compose");
    const drop = new Event("drop", { bubbles: true, cancelable: true }) as Event & { dataTransfer: unknown };
    drop.dataTransfer = { files: [new File(["agenda"], "agenda.txt", { type: "text/plain" })] };
    form.dispatchEvent(drop);
    expect(await screen.findByTestId("compose-attachments")).toHaveTextContent("agenda.txt");
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.click(screen.getByTestId("compose-send"));
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("send", expect.anything()));
    const draft = (invokeMock.mock.calls.find((c) => c[0] === "send")![1] as { draft: { attachments: { name: string }[] } }).draft;
    expect(draft.attachments.map((a) => a.name)).toEqual(["agenda.txt"]);
  });
});
