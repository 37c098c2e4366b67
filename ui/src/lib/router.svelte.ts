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
export type Route = TabId | "compose";

/** The route a hash names; unknown hashes show the status tab. */
export function parseRoute(hash: string): Route {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  if (name === "compose") return "compose";
  return TABS.some((t) => t.id === name) ? (name as TabId) : "status";
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
