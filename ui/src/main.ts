import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { firstData, startLoading } from "./lib/boot";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

// The data first, then the page (lib/boot.ts says why).
const loading = startLoading(location.hash);
void firstData(loading).then(() => mount(App, { target, props: { loading } }));
