// Building the Draft that `send` takes, from what the person typed and picked.
import { stageAttachment, type Attachment, type Draft } from "./api";

/** The compose form's fields, as typed. */
export type DraftFields = {
  from: string;
  to: string;
  cc?: string;
  bcc?: string;
  subject: string;
  text: string;
  htmlEnabled?: boolean;
  html?: string;
};

/**
 * Hands a picked file's bytes to the shell as they are (a binary IPC body, not base64 in JSON)
 * and returns the attachment that names them; called when the message is sent, so a failed
 * send can simply be sent again.
 */
export async function fileToAttachment(file: File): Promise<Attachment> {
  const staged = await stageAttachment(await readBytes(file));
  return {
    name: file.name,
    contentType: file.type || "application/octet-stream",
    dataBase64: "",
    staged,
  };
}

/** A file's bytes (FileReader: what every WebView and the test DOM have). */
function readBytes(file: File): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () =>
      reject({
        kind: "attachment",
        message: `Postern could not read the file “${file.name}”.`,
        fix: "Check that the file still exists and that you may read it, then attach it again.",
      });
    reader.readAsArrayBuffer(file);
  });
}

/** The Draft for `send`: addresses trimmed, the HTML part only when it is switched on. */
export function buildDraft(fields: DraftFields, attachments: Attachment[]): Draft {
  const html = fields.htmlEnabled && fields.html?.trim() ? fields.html : null;
  return {
    from: fields.from,
    to: fields.to.trim(),
    cc: (fields.cc ?? "").trim(),
    bcc: (fields.bcc ?? "").trim(),
    subject: fields.subject,
    text: fields.text,
    html,
    attachments,
  };
}

/**
 * From as the message shows it: `"Pat Doe" <pat@example.com>` when the account has a sender name
 * (quotes and backslashes in the name escaped), the bare address otherwise.
 */
export function fromWithName(address: string, name: string | undefined): string {
  const clean = (name ?? "").trim();
  if (!clean || !address) return address;
  return `"${clean.replace(/["\\]/g, "\\$&")}" <${address}>`;
}

/** Reads a picked text file (such as Google's client JSON) as UTF-8. */
export function readFileText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}
