// The web app's entry: who is signed in, the page for the address, and links that change
// page without reloading.

import { adminPage } from "./admin.js";
import { albumPage, albumsPage } from "./albums.js";
import { api, session } from "./api.js";
import { h, toast } from "./dom.js";
import { archivePage, favoritesPage, trashPage } from "./lists.js";
import { loginPage } from "./login.js";
import { mapPage } from "./map.js";
import { memoryPage } from "./memories.js";
import { duplicatesPage, peoplePage, personPage } from "./people.js";
import { installSearchBox, searchPage } from "./search.js";
import { sharePage } from "./share.js";
import { timelinePage } from "./timeline.js";
import { installUploads } from "./upload.js";
import { openViewer } from "./viewer.js";

async function photoPage(main, _params, navigate, { id }) {
  // A photo opened by its address: the timeline behind it, the viewer on top.
  const cleanup = await timelinePage(main);
  const photo = await api(`/api/v1/photos/${id}`);
  if (main.isConnected) openViewer(photo, null, { onClose: () => navigate("/", { replace: true }) });
  return cleanup;
}

const ROUTES = [
  [/^\/$/, timelinePage, "Photos"],
  [/^\/login$/, loginPage, "Sign in", { public: true }],
  [/^\/search$/, searchPage, "Search"],
  [/^\/favorites$/, favoritesPage, "Favorites"],
  [/^\/archive$/, archivePage, "Archive"],
  [/^\/trash$/, trashPage, "Trash"],
  [/^\/albums$/, albumsPage, "Albums"],
  [/^\/albums\/(?<id>[\w-]+)$/, albumPage, "Album"],
  [/^\/people$/, peoplePage, "People"],
  [/^\/people\/(?<id>[\w-]+)$/, personPage, "Person"],
  [/^\/duplicates$/, duplicatesPage, "Duplicates"],
  [/^\/map$/, mapPage, "Map"],
  [/^\/memories\/(?<key>[\w-]+)$/, memoryPage, "Memory"],
  [/^\/admin$/, adminPage, "Admin"],
  [/^\/photos\/(?<id>[\w-]+)$/, photoPage, "Photo"],
  [/^\/s\/(?<token>[\w-]+)$/, sharePage, "Shared", { public: true, bare: true }],
];

const main = document.getElementById("main");
let cleanup = () => {};
let rendering = 0;

function navigate(to, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  render();
}

function chrome(visible) {
  for (const id of ["top", "nav"]) document.getElementById(id).hidden = !visible;
  document.body.classList.toggle("bare", !visible);
  document.getElementById("admin-link").hidden = !session.user?.is_admin;
  for (const link of document.querySelectorAll("#nav a")) {
    const here =
      link.getAttribute("href") === "/"
        ? location.pathname === "/"
        : location.pathname.startsWith(link.getAttribute("href"));
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function render() {
  const run = ++rendering;
  cleanup();
  cleanup = () => {};
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  const found = ROUTES.map(([pattern, page, title, options = {}]) => ({
    match: path.match(pattern),
    page,
    title,
    options,
  })).find((r) => r.match);
  // Each page draws into a view of its own: a page still loading when the user moved on draws
  // into a detached view, never into the next page.
  const view = h("div", { class: "view" });
  main.replaceChildren(view);
  if (!found) {
    chrome(Boolean(session.user));
    view.append(
      h("div", { class: "empty" }, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "/" }, "Back to your photos"))),
    );
    return;
  }
  if (!found.options.public && !session.user) {
    navigate(`/login?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    return;
  }
  if (path === "/login" && session.user) {
    navigate("/", { replace: true });
    return;
  }
  chrome(Boolean(session.user) && !found.options.bare && !found.options.public);
  document.title = `${found.title} · Albumen`;
  main.setAttribute("aria-busy", "true");
  try {
    const done = await found.page(view, params, navigate, found.match.groups || {});
    if (run === rendering) cleanup = done || (() => {});
    else if (done) done();
  } catch (err) {
    if (run !== rendering) return;
    view.append(
      h("div", { class: "empty" }, h("h1", {}, "Something went wrong"), h("p", { class: "error" }, err.message)),
    );
    if (err.status === 404) view.querySelector(".empty h1").textContent = "Not found";
  } finally {
    if (run === rendering) main.removeAttribute("aria-busy");
  }
}

function installNavigation() {
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey)
      return;
    if (link.hasAttribute("download") || link.target) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/static/"))
      return;
    if (url.hash && url.pathname === location.pathname) return;
    event.preventDefault();
    document.getElementById("nav").classList.remove("open");
    navigate(url.pathname + url.search);
  });
  window.addEventListener("popstate", render);
  const menu = document.getElementById("menu-button");
  menu.addEventListener("click", () => {
    const open = document.getElementById("nav").classList.toggle("open");
    menu.setAttribute("aria-expanded", String(open));
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    try {
      await api("/api/v1/session", { method: "DELETE" });
    } catch {
      /* signed out already */
    }
    session.user = null;
    session.csrf = "";
    navigate("/login");
  });
  window.addEventListener("albumen:signed-out", () => {
    toast("Your session ended: sign in again.");
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  });
  window.addEventListener("albumen:uploaded", () => {
    if (location.pathname !== "/") return;
    // The new photos take their place by date; a user scrolled far down keeps their place.
    if (window.scrollY < 400) render();
    else toast("Uploads finished: they are in the timeline by the date they were taken.");
  });
}

async function start() {
  if (!location.pathname.startsWith("/s/")) {
    try {
      const current = await api("/api/v1/session");
      session.user = current.user;
      session.csrf = current.csrf_token;
    } catch (err) {
      if (err.status !== 401) toast(err.message, "error");
    }
  }
  installNavigation();
  if (session.user || !location.pathname.startsWith("/s/")) {
    installSearchBox(navigate);
    installUploads();
  }
  await render();
}

start();
