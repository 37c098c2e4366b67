import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn() }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn() }));

import { invoke } from "@tauri-apps/api/core";
import Compose from "../src/lib/components/Compose.svelte";
import QuickCompose from "../src/lib/components/QuickCompose.svelte";
import { buildDraft, fileToAttachment } from "../src/lib/draft";
import { store } from "../src/lib/store.svelte";
import { account, outboxItem, revokedStatus, status } from "./fixtures";

const invokeMock = vi.mocked(invoke);

/** The bytes handed to `stage_attachment` (as numbers: the test DOM's Uint8Array is of another realm). */
function stagedBytes(): number[][] {
  return invokeMock.mock.calls.filter((c) => c[0] === "stage_attachment").map((c) => Array.from(c[1] as Uint8Array));
}
const bytesOf = (text: string) => Array.from(new TextEncoder().encode(text));
const accounts = [account(status()), account(revokedStatus())];

beforeEach(() => invokeMock.mockReset());

describe("buildDraft", () => {
  it("trims addresses, keeps the body as typed, and drops HTML unless switched on", () => {
    const fields = {
      from: "ada@example.com",
      to: "  bob@example.com, cy@example.com ",
      cc: " ",
      subject: "Hi",
      text: "  indented\n",
      html: "<p>hi</p>",
    };
    expect(buildDraft(fields, [])).toEqual({
      from: "ada@example.com",
      to: "bob@example.com, cy@example.com",
      cc: "",
      bcc: "",
      subject: "Hi",
      text: "  indented\n",
      html: null,
      attachments: [],
    });
    expect(buildDraft({ ...fields, htmlEnabled: true }, []).html).toBe("<p>hi</p>");
  });
});

describe("fileToAttachment", () => {
  it("hands the bytes to the shell as a binary body, not base64, and names them in the attachment", async () => {
    invokeMock.mockResolvedValueOnce("staged-7");
    const bytes = new Uint8Array([0, 1, 2, 250, 255, 80, 75]);
    const file = new File([bytes], "data.bin", { type: "application/x-test" });
    const a = await fileToAttachment(file);
    expect(invokeMock).toHaveBeenCalledWith("stage_attachment", bytes);
    expect(a).toEqual({ name: "data.bin", contentType: "application/x-test", dataBase64: "", staged: "staged-7" });
  });

  it("falls back to application/octet-stream when the type is unknown", async () => {
    invokeMock.mockResolvedValueOnce("staged-8");
    const a = await fileToAttachment(new File(["héllo"], "note"));
    expect(a.contentType).toBe("application/octet-stream");
    expect(stagedBytes()).toEqual([bytesOf("héllo")]);
  });
});

describe("Compose", () => {
  it("sends the Draft built from the form, attachments as staged bytes, and says it is queued", async () => {
    const user = userEvent.setup();
    invokeMock.mockResolvedValueOnce("staged-1");
    invokeMock.mockResolvedValueOnce(outboxItem({ id: 9, state: "queued", subject: "Report", to: ["bob@example.com"] }));
    render(Compose, { accounts, defaultFrom: "grace@example.com" });

    expect(screen.getByLabelText("From")).toHaveValue("grace@example.com");
    await user.selectOptions(screen.getByLabelText("From"), "ada@example.com");
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.type(screen.getByLabelText("Cc"), "cy@example.com");
    await user.type(screen.getByLabelText("Bcc"), "dee@example.com");
    await user.type(screen.getByLabelText("Subject"), "Report");
    await user.type(screen.getByLabelText("Message"), "See attached.");
    await user.click(screen.getByLabelText("Also send an HTML version"));
    await user.type(screen.getByLabelText("HTML version"), "<p>See attached.</p>");
    await user.upload(screen.getByLabelText("Attachments"), [
      new File(["a,b\n1,2\n"], "report.csv", { type: "text/csv" }),
    ]);
    expect(await screen.findByText("report.csv")).toBeInTheDocument();

    await user.click(screen.getByTestId("compose-send"));

    // The file's bytes are read and staged first, so the send comes a moment after the click.
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("send", expect.anything()));
    expect(invokeMock).toHaveBeenCalledWith("send", {
      draft: {
        from: "ada@example.com",
        to: "bob@example.com",
        cc: "cy@example.com",
        bcc: "dee@example.com",
        subject: "Report",
        text: "See attached.",
        html: "<p>See attached.</p>",
        attachments: [{ name: "report.csv", contentType: "text/csv", dataBase64: "", staged: "staged-1" }],
      },
    });
    expect(stagedBytes()).toEqual([bytesOf("a,b\n1,2\n")]);
    expect(await screen.findByTestId("compose-queued")).toHaveTextContent("Queued: “Report” to bob@example.com");
    expect(screen.getByLabelText("To")).toHaveValue("");
    expect(screen.queryByText("report.csv")).not.toBeInTheDocument();
  });

  it("follows the message after Send: waiting when the account needs authorizing, then sent", async () => {
    const user = userEvent.setup();
    invokeMock.mockResolvedValueOnce(outboxItem({ id: 31, state: "queued", subject: "Later", to: ["bob@example.com"] }));
    render(Compose, { accounts, defaultFrom: "ada@example.com" });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.type(screen.getByLabelText("Subject"), "Later");
    await user.click(screen.getByTestId("compose-send"));
    expect(await screen.findByTestId("compose-queued")).toHaveTextContent("Queued: “Later”");

    // The outbox event says the account was revoked: the note says the message waits.
    store.outbox = [outboxItem({ id: 31, state: "waiting", subject: "Later", to: ["bob@example.com"] })];
    expect(await screen.findByText(/waits until the account is authorized again/)).toBeInTheDocument();
    expect(screen.getByTestId("compose-queued")).toHaveAttribute("data-state", "waiting");

    store.outbox = [outboxItem({ id: 31, state: "sent", subject: "Later", to: ["bob@example.com"] })];
    expect(await screen.findByText(/Sent: “Later” to bob@example.com/)).toBeInTheDocument();
    store.outbox = [];
  });

  it("removing an attachment leaves it out of the Draft", async () => {
    const user = userEvent.setup();
    invokeMock.mockImplementation(async (cmd) => (cmd === "stage_attachment" ? "staged-2" : outboxItem({ state: "queued" })));
    render(Compose, { accounts });
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.upload(screen.getByLabelText("Attachments"), [
      new File(["one"], "one.txt", { type: "text/plain" }),
      new File(["two"], "two.txt", { type: "text/plain" }),
    ]);
    await user.click(await screen.findByRole("button", { name: "Remove one.txt" }));
    await user.click(screen.getByTestId("compose-send"));
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("send", expect.anything()));
    const draft = (invokeMock.mock.calls.find((c) => c[0] === "send")![1] as { draft: { attachments: { name: string }[] } }).draft;
    expect(draft.attachments.map((a) => a.name)).toEqual(["two.txt"]);
    expect(stagedBytes()).toEqual([bytesOf("two")]);
  });

  it("shows core's refusal as message and fix, and keeps what was typed", async () => {
    const user = userEvent.setup();
    invokeMock.mockRejectedValueOnce({
      kind: "invalid_address",
      message: "“bob@” is not an email address.",
      fix: "Write the address in full, such as bob@example.com.",
    });
    render(Compose, { accounts });
    await user.type(screen.getByLabelText("To"), "bob@");
    await user.click(screen.getByTestId("compose-send"));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Not sent");
    expect(alert).toHaveTextContent("“bob@” is not an email address.");
    expect(alert).toHaveTextContent("What to do: Write the address in full, such as bob@example.com.");
    expect(screen.getByLabelText("To")).toHaveValue("bob@");
    expect(screen.queryByTestId("compose-queued")).not.toBeInTheDocument();
  });
});

describe("QuickCompose", () => {
  it("sends from, to, subject and text only", async () => {
    const user = userEvent.setup();
    invokeMock.mockResolvedValueOnce(outboxItem({ state: "queued", subject: "Lunch?" }));
    render(QuickCompose, { accounts });
    expect(screen.queryByLabelText("Cc")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Attachments")).not.toBeInTheDocument();
    await user.type(screen.getByLabelText("To"), "bob@example.com");
    await user.type(screen.getByLabelText("Subject"), "Lunch?");
    await user.type(screen.getByLabelText("Message"), "At noon.");
    await user.click(screen.getByRole("button", { name: "Send" }));
    await vi.waitFor(() => expect(invokeMock).toHaveBeenCalledWith("send", expect.anything()));
    expect(invokeMock).toHaveBeenCalledWith("send", {
      draft: {
        from: "ada@example.com",
        to: "bob@example.com",
        cc: "",
        bcc: "",
        subject: "Lunch?",
        text: "At noon.",
        html: null,
        attachments: [],
      },
    });
    expect(await screen.findByTestId("compose-queued")).toHaveTextContent("Lunch?");
  });
});
