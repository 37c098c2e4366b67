// Unsent text survives closing a window and restarting Postern: each compose form keeps its
// fields in the webview's local storage (on this computer, in Postern's own web data) until the
// message is queued. Attachments are not kept: they are files the person picks again.

/** The fields a draft keeps, by name. */
export type DraftFields = Record<string, string | boolean>;

const PREFIX = "postern.draft.";

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

/** The draft saved under `key`, or null. */
export function loadDraft(key: string): DraftFields | null {
  const text = storage()?.getItem(PREFIX + key);
  if (!text) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" ? (value as DraftFields) : null;
  } catch {
    return null;
  }
}

/** Saves the draft; an empty one (nothing typed) is removed instead. */
export function saveDraft(key: string, fields: DraftFields): void {
  const empty = Object.values(fields).every((v) => v === "" || v === false);
  if (empty) clearDraft(key);
  else storage()?.setItem(PREFIX + key, JSON.stringify(fields));
}

/** Forgets the draft (after the message was queued). */
export function clearDraft(key: string): void {
  storage()?.removeItem(PREFIX + key);
}

/** Whether a key event is Ctrl+Enter (⌘+Enter on a Mac): send. */
export function isSendShortcut(event: KeyboardEvent): boolean {
  return event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey;
}
