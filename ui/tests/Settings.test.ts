import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import Settings from "../src/lib/components/Settings.svelte";
import { store } from "../src/lib/store.svelte";
import { info } from "./fixtures";

const invokeMock = vi.mocked(invoke);

/** What each command answers (a `{ reject }` makes it fail); the page asks for its preferences first. */
let replies: Record<string, unknown>;

beforeEach(() => {
  invokeMock.mockReset();
  replies = { get_preferences: { notifications: true, trayHintShown: false }, get_autostart: false };
  invokeMock.mockImplementation(async (cmd: string) => {
    const reply = replies[cmd] as { reject?: unknown } | undefined;
    if (reply && typeof reply === "object" && "reject" in reply) throw reply.reject;
    return reply;
  });
  store.info = null;
});

describe("Settings", () => {
  it("explains the sandbox and shows where data and settings live", () => {
    render(Settings, { info: info() });
    expect(screen.getByTestId("sandbox-explained")).toHaveTextContent("Nothing reaches Google");
    expect(screen.getByTestId("data-dir")).toHaveTextContent("/home/ada/.local/share/postern/sandbox");
    expect(screen.getByTestId("config-dir")).toHaveTextContent("/home/ada/.config/postern");
  });

  it("in sandbox mode with a client saved, says to restart instead of saying there is none", () => {
    render(Settings, { info: info({ googleClientConfigured: true }) });
    const card = screen.getByTestId("sandbox-explained");
    expect(card).not.toHaveTextContent("no Google client");
    expect(card).not.toHaveTextContent("set up a Google client below");
    expect(screen.getByTestId("restart-for-google")).toHaveTextContent("restart Postern to use your real Gmail");
  });

  it("saves the typed client and clears the secret field", async () => {
    const user = userEvent.setup();
    replies.save_google_client = info({ googleClientConfigured: true });
    render(Settings, { info: info() });
    await user.type(screen.getByLabelText("Client ID"), " 123-abc.apps.googleusercontent.com ");
    await user.type(screen.getByLabelText("Client secret"), "GOCSPX-s3cret");
    await user.click(screen.getByRole("button", { name: "Save client" }));
    expect(invokeMock).toHaveBeenCalledWith("save_google_client", {
      clientId: "123-abc.apps.googleusercontent.com",
      clientSecret: "GOCSPX-s3cret",
      publishingStatus: "unknown",
    });
    expect(await screen.findByRole("status")).toHaveTextContent("Your Google client is saved.");
    expect(screen.getByLabelText("Client secret")).toHaveValue("");
    expect(store.info?.googleClientConfigured).toBe(true);
  });

  it("imports the JSON file Google's console downloads", async () => {
    const user = userEvent.setup();
    const json = '{"installed":{"client_id":"123-abc.apps.googleusercontent.com","client_secret":"x"}}';
    replies.import_google_client = info({ googleClientConfigured: true });
    render(Settings, { info: info() });
    await user.upload(
      screen.getByLabelText("Client JSON file"),
      new File([json], "client_secret_123.json", { type: "application/json" }),
    );
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("import_google_client", { json, publishingStatus: "unknown" }));
    expect(await screen.findByRole("status")).toHaveTextContent("client_secret_123.json");
  });

  it("shows why an import was refused and what to do", async () => {
    const user = userEvent.setup();
    replies.import_google_client = {
      reject: {
        kind: "client_config",
        message: "This file is a web client; Postern needs a Desktop app client.",
        fix: "Create an OAuth client ID of type Desktop app and download its JSON.",
      },
    };
    render(Settings, { info: info() });
    await user.upload(screen.getByLabelText("Client JSON file"), new File(["{}"], "web.json"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("needs a Desktop app client");
    expect(alert).toHaveTextContent("What to do: Create an OAuth client ID of type Desktop app");
  });

  it("turns desktop notifications off and keeps the choice", async () => {
    const user = userEvent.setup();
    replies.set_notifications = { notifications: false, trayHintShown: false };
    render(Settings, { info: info() });
    const toggle = await screen.findByRole("switch", { name: /Tell me on the desktop/ });
    await vi.waitFor(() => expect(toggle).toBeEnabled());
    expect(toggle).toBeChecked();
    await user.click(toggle);
    expect(invokeMock).toHaveBeenCalledWith("set_notifications", { on: false });
    await vi.waitFor(() => expect(toggle).not.toBeChecked());
  });

  it("shows the saved choice: notifications already off stay shown as off", async () => {
    replies.get_preferences = { notifications: false, trayHintShown: true };
    render(Settings, { info: info() });
    const toggle = await screen.findByRole("switch", { name: /Tell me on the desktop/ });
    await vi.waitFor(() => expect(toggle).not.toBeChecked());
  });

  it("says why the choice was not saved", async () => {
    const user = userEvent.setup();
    replies.set_notifications = {
      reject: { kind: "storage", message: "cannot write preferences.json: disk full", fix: "Free some space." },
    };
    render(Settings, { info: info() });
    const toggle = await screen.findByRole("switch", { name: /Tell me on the desktop/ });
    await vi.waitFor(() => expect(toggle).toBeEnabled());
    await user.click(toggle);
    expect(await screen.findByRole("alert")).toHaveTextContent("disk full");
  });

  it("starting at login is off by default and turns on", async () => {
    const user = userEvent.setup();
    replies.set_autostart = true;
    render(Settings, { info: info() });
    const toggle = await screen.findByRole("switch", { name: "Start Postern when I log in" });
    await vi.waitFor(() => expect(toggle).toBeEnabled());
    expect(toggle).not.toBeChecked();
    await user.click(toggle);
    expect(invokeMock).toHaveBeenCalledWith("set_autostart", { on: true });
    await vi.waitFor(() => expect(toggle).toBeChecked());
  });

  it("a refused autostart change says why and shows the switch as it really is", async () => {
    const user = userEvent.setup();
    replies.set_autostart = {
      reject: { kind: "storage", message: "cannot change ~/.config/autostart: read-only", fix: "" },
    };
    render(Settings, { info: info() });
    const toggle = await screen.findByRole("switch", { name: "Start Postern when I log in" });
    await vi.waitFor(() => expect(toggle).toBeEnabled());
    await user.click(toggle);
    expect(await screen.findByRole("alert")).toHaveTextContent("read-only");
    expect(toggle).not.toBeChecked();
  });
});

describe("Settings, publishing status", () => {
  const google = (publishingStatus: "unknown" | "testing" | "in_production" | "internal") => ({
    name: "google",
    label: "Google (Gmail)",
    publishingStatus,
  });

  it("asks the publishing status with the client, says where Google shows it, and saves it", async () => {
    const user = userEvent.setup();
    replies.save_google_client = info({ googleClientConfigured: true });
    render(Settings, { info: info() });
    const question = screen.getByTestId("client-publishing-status");
    expect(question).toHaveTextContent(
      "Google Auth Platform → Audience shows the publishing status; in Testing, Google ends grants 7 days after consent.",
    );
    expect(within(question).getByRole("radio", { name: "Unknown" })).toBeChecked();
    await user.click(within(question).getByRole("radio", { name: "Testing" }));
    await user.type(screen.getByLabelText("Client ID"), "123-abc.apps.googleusercontent.com");
    await user.type(screen.getByLabelText("Client secret"), "GOCSPX-s3cret");
    await user.click(screen.getByRole("button", { name: "Save client" }));
    expect(invokeMock).toHaveBeenCalledWith("save_google_client", {
      clientId: "123-abc.apps.googleusercontent.com",
      clientSecret: "GOCSPX-s3cret",
      publishingStatus: "testing",
    });
  });

  it("imports Google's file with the publishing status chosen", async () => {
    const user = userEvent.setup();
    const json = '{"installed":{"client_id":"123-abc.apps.googleusercontent.com","client_secret":"x"}}';
    replies.import_google_client = info({ googleClientConfigured: true });
    render(Settings, { info: info() });
    await user.click(screen.getByRole("radio", { name: "In production" }));
    await user.upload(screen.getByLabelText("Client JSON file"), new File([json], "client_secret_123.json"));
    await vi.waitFor(() =>
      expect(invokeMock).toHaveBeenCalledWith("import_google_client", { json, publishingStatus: "in_production" }),
    );
  });

  it("starts the question at the status Postern was told before", () => {
    render(Settings, { info: info({ mode: "google", googleClientConfigured: true, providers: [google("internal")] }) });
    expect(screen.getByRole("radio", { name: "Internal" })).toBeChecked();
  });

  it("changes a provider's publishing status later with set_publishing_status", async () => {
    const user = userEvent.setup();
    const after = info({ mode: "google", googleClientConfigured: true, providers: [google("in_production")] });
    replies.set_publishing_status = after;
    render(Settings, { info: info({ mode: "google", googleClientConfigured: true, providers: [google("testing")] }) });
    const picker = within(screen.getByTestId("provider-statuses")).getByLabelText("Google (Gmail)");
    expect(picker).toHaveValue("testing");
    await user.selectOptions(picker, "in_production");
    // (Settings also reads this desktop's preferences when it opens.)
    const changes = invokeMock.mock.calls.filter(([command]) => command === "set_publishing_status");
    expect(changes).toEqual([["set_publishing_status", { provider: "google", status: "in_production" }]]);
    expect(await screen.findByRole("status")).toHaveTextContent("Google (Gmail): publishing status set to In production.");
    expect(store.info).toEqual(after);
  });

  it("shows why a status change was refused and what to do", async () => {
    const user = userEvent.setup();
    replies.set_publishing_status = {
      reject: {
        kind: "google_client_missing",
        message: "No Google client is set up.",
        fix: "Save a Google client in Settings first.",
      },
    };
    render(Settings, { info: info({ mode: "google", providers: [google("unknown")] }) });
    await user.selectOptions(screen.getByTestId("publishing-google"), "testing");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("No Google client is set up.");
    expect(alert).toHaveTextContent("What to do: Save a Google client in Settings first.");
  });
});
