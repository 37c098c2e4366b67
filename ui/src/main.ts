import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { windowShown } from "./lib/api";
import { afterFirstPaint, firstData, startFollowing, startLoading } from "./lib/boot";

// Linux's webview takes its fonts from fontconfig (app.css says why this matters).
if (/Linux/.test(navigator.userAgent) && !/Android/.test(navigator.userAgent)) {
  document.documentElement.dataset.fonts = "fontconfig";
}

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

// The data first, then the page (lib/boot.ts says why); once it has painted, the window follows
// core's events, and the shell does what it held back for that paint (the tray icon).
const loading = startLoading(location.hash);
void firstData(loading).then(() => {
  mount(App, { target, props: { loading } });
  if (loading) afterFirstPaint(() => { void startFollowing(location.hash); void windowShown().catch(() => {}); });
});
