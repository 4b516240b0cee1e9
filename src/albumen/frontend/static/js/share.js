// The page of a share link, for anyone who has it: no account, no session. A password prompt
// when the link has one; originals only when the link allows downloads.

import { api, originalUrl } from "./api.js";
import { h } from "./dom.js";
import { pagedGrid } from "./lists.js";
import { photoMap } from "./map.js";
import { openViewer } from "./viewer.js";

export async function sharePage(main, params, navigate, { token }) {
  const album = params.get("album");
  let first;
  try {
    first = await api(`/s/${token}`, { query: { album, limit: 200 } });
  } catch (err) {
    if (err.code === "password_required") return passwordPrompt(main, token, navigate);
    const messages = {
      share_expired: "This link has expired.",
      share_not_found: "This link does not exist, or it was revoked.",
    };
    main.append(
      h("div", { class: "empty" }, h("h1", {}, "Not available"), h("p", {}, messages[err.code] || err.message)),
    );
    return () => {};
  }
  document.title = `${first.title} · Albumen`;
  const onMap = params.get("view") === "map" && first.show_map;
  main.append(
    h(
      "header",
      { class: "share-head" },
      h("h1", {}, first.title),
      first.description ? h("p", {}, first.description) : null,
      h("p", { class: "muted" }, "Shared with you through Albumen."),
      first.allow_download && first.kind !== "photo"
        ? h("a", { class: "button", href: `/s/${token}/download`, download: "" }, "Download all")
        : null,
      first.show_map && !onMap ? h("a", { class: "button", href: mapHref(token, album) }, "Show on map") : null,
      onMap
        ? h("a", { class: "button", href: `/s/${token}${album ? `?album=${album}` : ""}` }, "Back to the photos")
        : null,
    ),
  );
  if (onMap) {
    const body = h("div", { class: "map-page" });
    main.append(body);
    const scope = album ? `&album=${encodeURIComponent(album)}` : "";
    return photoMap(body, {
      share: token,
      label: `Map of ${first.title}`,
      clusters: (bbox, zoom) => api(`/s/${token}/map?bbox=${bbox}&zoom=${zoom}${scope}`),
      photosIn: (bbox) => (cursor) => api(`/s/${token}`, { query: { album, bbox, cursor, limit: 100 } }),
      openPhoto: (photo, grid) => openViewer(photo, grid, { share: token, allowDownload: first.allow_download }),
    });
  }
  if (first.albums.length) {
    main.append(
      h(
        "ul",
        { class: "cards small" },
        first.albums.map((a) =>
          h(
            "li",
            { class: "card" },
            h(
              "a",
              { href: `/s/${token}?album=${a.id}` },
              h("span", { class: "no-cover", "aria-hidden": "true" }, "▦"),
              h("span", { class: "card-title" }, a.name),
              h("span", { class: "card-meta" }, `${a.photo_count} photos`),
            ),
          ),
        ),
      ),
    );
  }
  if (first.kind === "photo") {
    const photo = first.items[0];
    main.append(
      h(
        "figure",
        { class: "shared-photo" },
        h("img", {
          src: `/s/${token}/photos/${photo.id}/thumbnail?size=preview`,
          alt: photo.description || photo.filename,
        }),
        h("figcaption", {}, photo.filename),
      ),
    );
    if (first.allow_download) {
      // append() writes a null as the word "null": only what there is goes in
      main.append(
        h(
          "a",
          { class: "button primary", href: originalUrl(photo, token), download: photo.filename },
          "Download original",
        ),
      );
    }
    return () => {};
  }
  let served = false;
  const { grid, done } = pagedGrid(
    main,
    async (cursor) => {
      if (!served) {
        served = true;
        return first;
      }
      return api(`/s/${token}`, { query: { album, cursor, limit: 200 } });
    },
    {
      share: token,
      label: first.title,
      empty: "This album is empty.",
      open: (photo) => openViewer(photo, grid, { share: token, allowDownload: first.allow_download }),
    },
  );
  await done.catch(() => {});
  return grid.cleanup;
}

function mapHref(token, album) {
  return `/s/${token}?${album ? `album=${encodeURIComponent(album)}&` : ""}view=map`;
}

function passwordPrompt(main, token, navigate) {
  const input = h("input", {
    id: "share-password",
    type: "password",
    required: true,
    autocomplete: "current-password",
  });
  const error = h("p", { class: "error", role: "alert" });
  main.append(
    h(
      "form",
      {
        class: "panel narrow",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api(`/s/${token}/unlock`, { method: "POST", json: { password: input.value } });
            navigate(location.pathname + location.search, { replace: true }); // the cookie unlocks it
          } catch (err) {
            error.textContent = err.code === "wrong_password" ? "That is not the password." : err.message;
            input.select();
          }
        },
      },
      h("h1", {}, "This link has a password"),
      h("label", { for: "share-password" }, "Password"),
      input,
      error,
      h("button", { type: "submit", class: "primary" }, "Open"),
    ),
  );
  input.focus();
  return () => {};
}
