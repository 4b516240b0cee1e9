// The viewer: a photo full-window, with its neighbours a key, a click or a swipe away (and
// already fetched), and a panel of what is known about it, some of it editable.

import { chooseAlbum } from "./actions.js";
import { shareDialog } from "./albums.js";
import { api, originalUrl, thumbUrl } from "./api.js";
import { bytes, h, takenText, toast } from "./dom.js";
import { makeZoomable } from "./zoom.js";

const TIERS = {
  hot: "Hot storage",
  warm: "Warm storage (cheaper; each read of the original costs a little)",
  cold: "Cold storage (the original is restored on request, in minutes)",
};

let people = null; // id -> name, read once
const SLIDE_MS = 4000;
// what a browser shows as it is: a zoomed photo of these types shows its original
const SHOWN_AS_IS = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]);
const KEYS = [
  ["← →", "the previous and the next photo"],
  ["+ −", "zoom in and out (also the wheel, a pinch, a double click or tap)"],
  ["0", "the whole photo again"],
  ["s", "start or stop a slideshow"],
  ["f", "favorite"],
  ["i", "the photo's details"],
  ["?", "these keys"],
  ["Esc", "close"],
];

/**
 * Open `photo`. `context` gives the neighbours: anything with photos() (a grid), or null.
 * `share` opens it through a share link (no info edits, original only if allowed); `play`
 * starts the slideshow.
 */
export function openViewer(
  photo,
  context = null,
  { share = null, allowDownload = true, onClose = null, play = false } = {},
) {
  const list = () => (context ? context.photos() : [photo]);
  let current = photo;
  const back = location.pathname + location.search;
  const img = h("img", { class: "viewer-image", alt: "", draggable: "false" }); // a drag pans it
  const placeholder = h("div", { class: "viewer-placeholder" });
  const stage = h("div", { class: "viewer-stage" }, placeholder, img);
  // A share's visitor has no account: the details (and their edits) are the owner's alone.
  const panel = h("aside", {
    class: "viewer-info",
    "aria-label": "Photo details",
    hidden: Boolean(share) || window.innerWidth < 900,
  });
  const title = h("h2", { class: "viewer-title", id: "viewer-title" });
  const favorite = h(
    "button",
    {
      type: "button",
      class: "icon",
      "aria-pressed": "false",
      "aria-label": "Favorite",
      onclick: () => toggleFavorite(),
    },
    "♡",
  );
  const shareButton = h(
    "button",
    { type: "button", class: "text", onclick: () => shareDialog({ photo_id: current.id }, current.filename) },
    "Share",
  );
  const download = h("a", { class: "button icon", "aria-label": "Download original", title: "Download original" }, "⤓");
  const infoButton = h(
    "button",
    { type: "button", class: "text", "aria-expanded": String(!panel.hidden), onclick: () => toggleInfo() },
    "Info",
  );
  const prev = h(
    "button",
    { type: "button", class: "nav prev", "aria-label": "Previous photo", onclick: () => step(-1) },
    "‹",
  );
  const next = h(
    "button",
    { type: "button", class: "nav next", "aria-label": "Next photo", onclick: () => step(1) },
    "›",
  );
  const close = h(
    "button",
    { type: "button", class: "icon", "aria-label": "Close", onclick: () => dialog.close() },
    "✕",
  );
  const slideshowButton = h(
    "button",
    {
      type: "button",
      class: "icon viewer-slideshow",
      "aria-label": "Slideshow",
      "aria-pressed": "false",
      onclick: () => slideshow(),
    },
    "▶",
  );
  // what else can be done to the photo: a menu, so that a phone's bar keeps its room
  const menu = h("div", { class: "viewer-menu", role: "menu", "aria-label": "Photo actions", hidden: true });
  const moreButton = h(
    "button",
    {
      type: "button",
      class: "icon",
      "aria-label": "More",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      onclick: () => openMenu(menu.hidden),
    },
    "⋯",
  );
  const helpButton = h(
    "button",
    { type: "button", class: "icon viewer-help", "aria-label": "Keyboard shortcuts", onclick: () => keyHelp() },
    "?",
  );
  const bar = h(
    "div",
    { class: "viewer-bar" },
    close,
    title,
    h("span", { class: "spacer" }),
    share ? null : favorite,
    share && !allowDownload ? null : download,
    share ? null : shareButton,
    share ? null : infoButton,
    slideshowButton,
    helpButton,
    share ? null : moreButton,
    share ? null : menu,
  );
  stage.append(prev, next);
  const dialog = h(
    "dialog",
    { class: "viewer", "aria-labelledby": "viewer-title" },
    bar,
    h("div", { class: "viewer-body" }, stage, panel),
  );

  let ready = Promise.resolve(); // the neighbours of the photo shown are known

  function neighbour(offset) {
    const photos = list();
    const index = photos.findIndex((p) => p.id === current.id);
    return index < 0 ? null : photos[index + offset] || null;
  }

  // zoomed past the screen's size, the original (where the browser shows its type, and it may
  // be fetched: not cold, and a share's only where it allows downloads) replaces the preview
  const zoom = makeZoomable(stage, img, {
    onZoom: (scale) => {
      const photo = current;
      const full = originalUrl(photo, share);
      if (scale <= 1 || img.dataset.full === photo.id) return;
      if (!SHOWN_AS_IS.has(photo.mime) || photo.tier === "cold" || (share && !allowDownload)) return;
      img.dataset.full = photo.id;
      const loader = new Image();
      loader.onload = () => {
        if (current.id === photo.id) img.src = full;
      };
      loader.src = full;
    },
  });

  function show(target) {
    current = target;
    zoom.reset();
    delete img.dataset.full;
    title.textContent = target.filename;
    img.classList.remove("loaded");
    placeholder.hidden = false;
    img.alt = target.description || target.filename;
    img.src = thumbUrl(target, "preview", share);
    img.addEventListener(
      "load",
      () => {
        img.classList.add("loaded");
        placeholder.hidden = true;
      },
      { once: true },
    );
    const hash = context?.el?.querySelector(`[data-id="${target.id}"]`);
    placeholder.style.backgroundImage = hash ? hash.style.backgroundImage : "";
    placeholder.style.backgroundColor = hash ? hash.style.backgroundColor : "";
    placeholder.style.aspectRatio = target.width && target.height ? `${target.width} / ${target.height}` : "";
    favorite.setAttribute("aria-pressed", String(Boolean(target.favorite)));
    favorite.textContent = target.favorite ? "♥" : "♡";
    download.href = originalUrl(target, share);
    download.setAttribute("download", target.filename);
    download.onclick = target.tier === "cold" ? (event) => restoreFirst(event, target) : null;
    if (!share) history.replaceState(history.state, "", `/photos/${target.id}`);
    if (!panel.hidden) fillInfo();
    // a list that loads in parts (the timeline's months) first loads the parts beside this one
    ready = Promise.resolve(context?.near?.(target)).catch(() => {});
    ready.then(() => {
      if (current !== target) return;
      prev.disabled = !neighbour(-1);
      next.disabled = !neighbour(1);
      for (const near of [neighbour(1), neighbour(-1)]) {
        if (near) new Image().src = thumbUrl(near, "preview", share); // the next one is already here
      }
    });
  }

  /** A cold original is restored before it can be downloaded: ask, and say how long. */
  async function restoreFirst(event, target) {
    event.preventDefault();
    try {
      const response = await fetch(download.href, { method: "GET", credentials: "same-origin" });
      if (response.status !== 202) {
        target.tier = "hot";
        download.onclick = null;
        download.click();
        return;
      }
      const minutes = Math.max(1, Math.round(Number(response.headers.get("Retry-After") || 300) / 60));
      toast(
        `This original is in cold storage. It is being restored: try again in about ${minutes} minute${minutes === 1 ? "" : "s"}.`,
      );
    } catch (err) {
      toast(err.message, "error");
    }
  }

  async function step(offset) {
    const from = current;
    await ready;
    const target = current === from ? neighbour(offset) : null;
    if (target) show(target);
  }

  function openMenu(open) {
    menu.hidden = !open;
    moreButton.setAttribute("aria-expanded", String(open));
    if (!open) return;
    const item = (label, run) =>
      h(
        "button",
        {
          type: "button",
          role: "menuitem",
          onclick: () => {
            openMenu(false);
            run();
          },
        },
        label,
      );
    menu.replaceChildren(
      item("Add to album…", addToAlbum),
      item(current.archived ? "Unarchive" : "Archive", () => archive(!current.archived)),
      item("Move to trash", trash),
      item(slides ? "Stop the slideshow" : "Slideshow", () => slideshow()),
    );
    menu.querySelector("button").focus();
  }

  async function addToAlbum() {
    try {
      const chosen = await chooseAlbum();
      if (!chosen) return;
      await api(`/api/v1/albums/${chosen.id}/photos`, { method: "PUT", json: { ids: [current.id] } });
      toast(`Added to ${chosen.name}`);
    } catch (err) {
      toast(err.message, "error");
    }
  }

  /** The photo leaves this list (archived, trashed): the next one is shown, else the one
   * before, else the viewer closes; the message offers to undo it. */
  async function leave(change, message, undo) {
    const photo = current;
    const target = neighbour(1) || neighbour(-1);
    try {
      await change(photo);
    } catch (err) {
      toast(err.message, "error");
      return;
    }
    context?.remove?.([photo.id]);
    if (target) show(target);
    else dialog.close();
    toast(message, "info", {
      label: "Undo",
      run: async () => {
        try {
          await undo(photo);
          toast("Undone: it is back");
        } catch (err) {
          toast(err.message, "error");
        }
      },
    });
  }

  function archive(on) {
    const set = (value) => (photo) =>
      api("/api/v1/photos", { method: "PATCH", json: { ids: [photo.id], archived: value } });
    return leave(set(on), on ? "Archived" : "Back in the timeline", set(!on));
  }

  function trash() {
    const post = (path) => (photo) => api(path, { method: "POST", json: { ids: [photo.id] } });
    return leave(post("/api/v1/photos/trash"), "Moved to the trash", post("/api/v1/photos/restore"));
  }

  let slides = 0;
  /** Start a slideshow (the next photo every few seconds, to the last), or stop it. */
  function slideshow(on = !slides) {
    clearInterval(slides);
    slides = 0;
    slideshowButton.setAttribute("aria-pressed", String(on));
    slideshowButton.textContent = on ? "❚❚" : "▶";
    if (!on) return;
    slides = setInterval(() => {
      if (neighbour(1)) step(1);
      else slideshow(false);
    }, SLIDE_MS);
  }

  /** The viewer's keys, in a dialog over it. */
  function keyHelp() {
    const help = h(
      "dialog",
      { class: "dialog", "aria-labelledby": "keys-title" },
      h("h2", { id: "keys-title" }, "Keyboard shortcuts"),
      h(
        "dl",
        { class: "keys" },
        KEYS.flatMap(([key, what]) => [h("dt", {}, key), h("dd", {}, what)]),
      ),
      h("div", { class: "buttons" }, h("button", { type: "button", onclick: () => help.close() }, "Close")),
    );
    help.addEventListener("keydown", (event) => event.stopPropagation()); // its Esc is its own
    help.addEventListener("close", () => help.remove());
    dialog.append(help);
    help.showModal();
  }

  async function toggleFavorite() {
    try {
      const updated = await api(`/api/v1/photos/${current.id}`, {
        method: "PATCH",
        json: { favorite: !current.favorite },
      });
      Object.assign(current, { favorite: updated.favorite });
      show(current);
    } catch (err) {
      toast(err.message, "error");
    }
  }

  function toggleInfo() {
    panel.hidden = !panel.hidden;
    infoButton.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) fillInfo();
  }

  async function fillInfo() {
    const photo = current;
    panel.replaceChildren(h("p", {}, "Loading…"));
    let full;
    let albums = [];
    let faces = [];
    try {
      [full, albums, faces] = await Promise.all([
        api(`/api/v1/photos/${photo.id}`),
        api(`/api/v1/photos/${photo.id}/albums`),
        api(`/api/v1/photos/${photo.id}/faces`).catch(() => []),
      ]);
      if (faces.length && !people) {
        people = new Map((await api("/api/v1/people", { query: { hidden: true } })).map((p) => [p.id, p.name]));
      }
    } catch (err) {
      panel.replaceChildren(h("p", { class: "error" }, err.message));
      return;
    }
    if (current.id !== photo.id) return;
    const camera = [full.camera.make, full.camera.model].filter(Boolean).join(" ");
    const e = full.exposure;
    const exposure = [
      e.f_number && `ƒ/${e.f_number}`,
      e.exposure_time && (e.exposure_time < 1 ? `1/${Math.round(1 / e.exposure_time)} s` : `${e.exposure_time} s`),
      e.focal_length && `${e.focal_length} mm`,
      e.iso && `ISO ${e.iso}`,
    ]
      .filter(Boolean)
      .join(" · ");
    const place =
      full.location &&
      (full.location.place
        ? full.location.place.label
        : `${full.location.lat.toFixed(5)}, ${full.location.lon.toFixed(5)}`);
    const names = [...new Set(faces.map((f) => f.person_id && people?.get(f.person_id)).filter(Boolean))];

    const description = h("textarea", { id: "photo-description", rows: "3", maxlength: "10000" });
    description.value = full.description || "";
    const when = h("input", { id: "photo-date", type: "datetime-local", step: "1" });
    const offset = (full.taken_at || "").match(/([+-]\d{2}:\d{2}|Z)$/);
    if (full.taken_at) when.value = full.taken_at.slice(0, 19);
    const save = async (event) => {
      event.preventDefault();
      const patch = { description: description.value };
      if (when.value) {
        const zone = offset ? (offset[1] === "Z" ? "+00:00" : offset[1]) : localOffset(when.value);
        patch.taken_at = `${when.value.length === 16 ? `${when.value}:00` : when.value}${zone}`;
      }
      try {
        Object.assign(current, await api(`/api/v1/photos/${photo.id}`, { method: "PATCH", json: patch }));
        toast("Saved");
        fillInfo();
      } catch (err) {
        toast(err.message, "error");
      }
    };
    const rows = [
      ["Taken", takenText(full)],
      camera && ["Camera", camera + (full.camera.lens ? ` · ${full.camera.lens}` : "")],
      exposure && ["Exposure", exposure],
      place && ["Place", place],
      ["File", `${full.filename} · ${bytes(full.size)}${full.width ? ` · ${full.width} × ${full.height}` : ""}`],
      full.tier && ["Stored", TIERS[full.tier] || full.tier],
      albums.length && [
        "Albums",
        h(
          "span",
          {},
          albums.map((a, i) => [i ? ", " : "", h("a", { href: `/albums/${a.id}` }, a.name)]),
        ),
      ],
      names.length && ["People", names.join(", ")],
      full.tags.length && ["Tags", full.tags.map((t) => t.name).join(", ")],
      full.status !== "ready" && ["Status", full.error ? `${full.status}: ${full.error}` : full.status],
    ].filter(Boolean);
    panel.replaceChildren(
      h(
        "dl",
        {},
        rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      ),
      h(
        "form",
        { class: "edit", onsubmit: save },
        h("label", { for: "photo-description" }, "Description"),
        description,
        h("label", { for: "photo-date" }, "Date taken"),
        when,
        h("button", { type: "submit", class: "primary" }, "Save"),
      ),
      h("h3", {}, "Similar photos"),
      similarStrip(photo),
    );
  }

  function similarStrip(photo) {
    const strip = h("div", { class: "similar" });
    api(`/api/v1/photos/${photo.id}/similar`, { query: { limit: 12 } })
      .then((found) => {
        if (!found.length) strip.append(h("p", { class: "muted" }, "None yet."));
        for (const { photo: other } of found) {
          strip.append(
            h(
              "a",
              {
                href: `/photos/${other.id}`,
                "aria-label": other.filename,
                onclick: (event) => {
                  event.preventDefault();
                  show(other);
                },
              },
              h("img", { src: thumbUrl(other), alt: "", loading: "lazy" }),
            ),
          );
        }
      })
      .catch(() => strip.append(h("p", { class: "muted" }, "Not available.")));
    return strip;
  }

  menu.addEventListener("keydown", (event) => {
    const items = [...menu.querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      openMenu(false);
      moreButton.focus();
    } else if (event.key === "ArrowDown") items[(at + 1) % items.length].focus();
    else if (event.key === "ArrowUp") items[(at - 1 + items.length) % items.length].focus();
    else return;
    event.preventDefault();
    event.stopPropagation(); // the menu's keys are its own (Esc must not close the viewer)
  });
  dialog.addEventListener("click", (event) => {
    if (!menu.hidden && !event.target.closest(".viewer-menu, [aria-haspopup='menu']")) openMenu(false);
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea")) return;
    if (slides && event.key !== "s") slideshow(false); // any key stops a slideshow
    if (event.key === "ArrowRight") step(1);
    else if (event.key === "ArrowLeft") step(-1);
    else if (event.key === "i" && !share) toggleInfo();
    else if (event.key === "f" && !share) toggleFavorite();
    else if (event.key === "+" || event.key === "=") zoom.zoomIn();
    else if (event.key === "-") zoom.zoomOut();
    else if (event.key === "0") zoom.whole();
    else if (event.key === "s") slideshow();
    else if (event.key === "?") keyHelp();
    else return;
    event.preventDefault();
  });
  // a swipe shows a neighbour, while the photo is whole (zoomed, a drag moves it around)
  let startX = null;
  stage.addEventListener("pointerdown", (event) => {
    startX = zoom.scale === 1 && !event.target.closest("button") ? event.clientX : null;
  });
  stage.addEventListener("pointerup", (event) => {
    if (startX === null || zoom.scale !== 1) return;
    const dx = event.clientX - startX;
    startX = null;
    if (Math.abs(dx) > 50) step(dx < 0 ? 1 : -1);
  });
  dialog.addEventListener("close", () => {
    slideshow(false);
    dialog.remove();
    if (!share) history.replaceState(history.state, "", back.startsWith("/photos/") ? "/" : back);
    if (onClose) onClose(current);
    const tile = context?.el?.querySelector(`[data-id="${current.id}"]`);
    if (tile) tile.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  show(photo);
  close.focus();
  if (play) slideshow(true); // a memory played as a story
  return dialog;
}

function localOffset(value) {
  const minutes = -new Date(value).getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}
