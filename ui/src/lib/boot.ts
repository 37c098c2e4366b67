// How a window starts: its data is asked for first, and the page is built once it has come;
// once the page has painted, the window follows core's events (`startFollowing`).
//
// Built at once, the page paints its empty shell, and the data that follows repaints it; on a
// slow machine each paint of the whole window costs tens of milliseconds, and the requests wait
// behind the first one. Asking first gives one paint with the accounts in it (see README.md,
// Benchmarks, (g)). A shell that is slow to answer (a keychain waiting for the person, say)
// does not leave the window blank: after FIRST_DATA_WAIT_MS the page is built anyway, and the
// data fills it when it comes.

import { router, startupError } from "./router.svelte";
import { store } from "./store.svelte";

/** How long a window waits for its first data before it shows without it. */
export const FIRST_DATA_WAIT_MS = 300;

/** Opened from a notification about one account (`#/status?account=…`): start on it; from
 *  the tray's Revoke & reauthorize (`&ask=reauthorize`), its panel starts that too. */
function selectAsked(hash: string): void {
  const params = new URLSearchParams(hash.split("?")[1] ?? "");
  const asked = params.get("account");
  if (!asked || router.route === "compose") return;
  store.selected = asked;
  if (params.get("ask") === "reauthorize") store.asked = { address: asked, action: "reauthorize" };
}

/** What the window loads at start: the main window's lists, quick compose's accounts, or
 *  nothing when the shell sent the explanation of a failed start. */
export function startLoading(hash: string): Promise<void> | null {
  if (startupError(hash)) return null;
  store.willFollow();
  selectAsked(hash);
  return store.load();
}

/** What the window does once it has painted its first data: follow core's events, then ask for
 *  its lists again (store.svelte.ts says why in that order). Nothing after a failed start. */
export function startFollowing(hash: string): Promise<void> | null {
  if (startupError(hash)) return null;
  return store.follow(router.route !== "compose");
}

/** Resolves when `loading` has settled, or after `waitMs`, whichever comes first. */
export function firstData(loading: Promise<void> | null, waitMs = FIRST_DATA_WAIT_MS): Promise<void> {
  if (!loading) return Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
  const settled = loading.then(
    () => undefined,
    () => undefined,
  );
  return Promise.race([settled, waited]).finally(() => clearTimeout(timer));
}

/** Runs `then` once the browser has painted what is on the page now: a frame's callbacks run
 *  before that frame is painted, so a task queued from one runs after it. */
export function afterFirstPaint(then: () => void): void {
  requestAnimationFrame(() => setTimeout(then, 0));
}
