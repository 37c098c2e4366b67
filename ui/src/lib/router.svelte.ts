// Hash routes: the main window's tabs, and `#/compose` for the tray's quick-compose window.

/** The main window's views, in tab order. */
export const TABS = [
  { id: "status", label: "Token status" },
  { id: "write", label: "Compose" },
  { id: "outbox", label: "Outbox" },
  { id: "activity", label: "Activity" },
  { id: "settings", label: "Settings" },
] as const;

export type TabId = (typeof TABS)[number]["id"];
export type Route = TabId | "compose" | "startup-error";

/** The route a hash names; unknown hashes show the status tab. */
export function parseRoute(hash: string): Route {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  if (name === "compose" || name === "startup-error") return name;
  return TABS.some((t) => t.id === name) ? (name as TabId) : "status";
}

/**
 * The explanation the shell puts in the hash when Postern could not start
 * (`#/startup-error?kind=…&message=…&fix=…`), so the window can say why and what to do.
 */
export function startupError(hash: string): { kind: string; message: string; fix: string } | null {
  if (parseRoute(hash) !== "startup-error") return null;
  const query = new URLSearchParams(hash.split("?")[1] ?? "");
  return {
    kind: query.get("kind") ?? "internal",
    message: query.get("message") ?? "Postern could not start.",
    fix: query.get("fix") ?? "",
  };
}

class Router {
  route = $state<Route>(parseRoute(typeof location === "undefined" ? "" : location.hash));

  constructor() {
    if (typeof window !== "undefined") {
      window.addEventListener("hashchange", () => (this.route = parseRoute(location.hash)));
    }
  }

  go(tab: TabId): void {
    this.route = tab;
    if (location.hash !== `#/${tab}`) location.hash = `#/${tab}`;
  }
}

/** The window's router. */
export const router = new Router();
