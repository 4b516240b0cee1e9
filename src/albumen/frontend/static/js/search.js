// Search: one box with the query language, suggestions as you type, chips that mirror the
// query (remove one to widen the search), and the results in the same grid as the timeline.

import { api } from "./api.js";
import { debounce, h } from "./dom.js";
import { pagedGrid } from "./lists.js";

const FILTERS = {
  after: "After",
  before: "Before",
  on: "On",
  camera: "Camera",
  tag: "Tag",
  place: "Place",
  in: "Album",
  person: "Person",
  near: "Near",
  bbox: "Area",
  is: "Is",
  has: "Has",
  type: "Type",
  filename: "File name",
};

/** The query's parts, as typed: words, "phrases" and filter:values (quotes kept). */
export function tokens(q) {
  return q.match(/-?[a-z]+:"[^"]*"?|-?"[^"]*"?|\S+/gi) || [];
}

function chipLabel(token) {
  const negated = token.startsWith("-");
  const bare = negated ? token.slice(1) : token;
  const match = bare.match(/^([a-z]+):(.*)$/i);
  if (match && FILTERS[match[1].toLowerCase()]) {
    const value = match[2].replace(/^"|"$/g, "");
    return `${negated ? "not " : ""}${FILTERS[match[1].toLowerCase()]}: ${value}`;
  }
  return `${negated ? "not " : ""}${bare.replace(/^"|"$/g, "")}`;
}

export async function searchPage(main, params) {
  const q = (params.get("q") || "").trim();
  const box = document.getElementById("search-box");
  box.value = q;
  const heading = h("h1", {}, q ? "Search" : "Search your photos");
  main.append(heading);
  if (!q) {
    main.append(
      h(
        "div",
        { class: "help" },
        h("p", {}, "Type words you remember, or filters:"),
        h(
          "ul",
          {},
          [
            ["beach dog", "photos with both words"],
            ["after:2019-06 before:2020", "a date range"],
            ["camera:iphone", "a camera"],
            ["place:paris", "a place"],
            ["person:anna", "a person"],
            ['in:"Summer trip"', "an album and the albums inside it"],
            ["is:favorite has:location type:heic", "flags and types"],
          ].map(([example, what]) =>
            h(
              "li",
              {},
              h("a", { href: `/search?q=${encodeURIComponent(example)}` }, h("code", {}, example)),
              ` — ${what}`,
            ),
          ),
        ),
      ),
    );
    return () => {};
  }
  const parts = tokens(q);
  const chips = h(
    "ul",
    { class: "chips", "aria-label": "Search filters" },
    parts.map((token, i) =>
      h(
        "li",
        {},
        h("span", {}, chipLabel(token)),
        h(
          "a",
          {
            class: "chip-remove",
            "aria-label": `Remove ${chipLabel(token)}`,
            href: `/search?q=${encodeURIComponent(parts.filter((_, j) => j !== i).join(" "))}`,
          },
          "✕",
        ),
      ),
    ),
  );
  const count = h("p", { class: "muted", role: "status" });
  main.append(chips, count);
  const { grid, done } = pagedGrid(main, (cursor) => api("/api/v1/search", { query: { q, cursor, limit: 200 } }), {
    actions: ["album", "favorite", "archive", "download", "trash"],
    label: "Search results",
    empty: "No photo matches. Remove a filter above, or try other words.",
    onFirst: (page) => {
      count.textContent =
        page.total === 0 ? "" : `${page.total}${page.total_is_exact ? "" : "+"} photo${page.total === 1 ? "" : "s"}`;
    },
  });
  try {
    await done;
  } catch (err) {
    if (err.code === "invalid_query") {
      const at = err.body.error.position;
      const where =
        at === undefined ? [] : [h("code", { class: "query-at" }, q.slice(0, at), h("mark", {}, q.slice(at) || " "))];
      const message = err.message.replace(/ \(at position \d+\)$/, ""); // the mark shows where
      count.replaceChildren(h("span", { class: "error" }, message), ...where);
    }
  }
  return grid.cleanup;
}

/** Suggestions under the search box: places, cameras, people, albums, tags and filters. */
export function installSearchBox(navigate) {
  const form = document.getElementById("search-form");
  const box = document.getElementById("search-box");
  const list = document.getElementById("suggestions");
  let items = [];
  let active = -1;
  const hide = () => {
    list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const go = (q) => {
    hide();
    navigate(`/search?q=${encodeURIComponent(q.trim())}`);
  };
  const choose = (item) => {
    const parts = tokens(box.value);
    if (!/\s$/.test(box.value)) parts.pop(); // the word being typed becomes the suggestion
    parts.push(item.query);
    box.value = `${parts.join(" ")} `;
    box.focus();
    go(box.value);
  };
  const paint = () => {
    list.replaceChildren(
      ...items.map((item, i) =>
        h(
          "li",
          {
            id: `suggestion-${i}`,
            role: "option",
            class: "suggestion",
            "aria-selected": String(i === active),
            onmousedown: (event) => {
              event.preventDefault();
              choose(item);
            },
          },
          h("span", { class: "kind" }, item.kind),
          ` ${item.label}`,
        ),
      ),
    );
    list.hidden = items.length === 0;
    box.setAttribute("aria-expanded", String(!list.hidden));
    if (active >= 0) box.setAttribute("aria-activedescendant", `suggestion-${active}`);
    else box.removeAttribute("aria-activedescendant");
  };
  const suggest = debounce(async () => {
    const word = /\s$/.test(box.value) ? "" : tokens(box.value).at(-1) || "";
    if (!word) {
      items = [];
      paint();
      return;
    }
    try {
      items = await api("/api/v1/search/suggest", { query: { q: word } });
    } catch {
      items = [];
    }
    active = -1;
    paint();
  }, 150);
  box.addEventListener("input", suggest);
  box.addEventListener("blur", () => setTimeout(hide, 100));
  box.addEventListener("keydown", (event) => {
    if (list.hidden || !items.length) return;
    if (event.key === "ArrowDown") active = (active + 1) % items.length;
    else if (event.key === "ArrowUp") active = (active - 1 + items.length) % items.length;
    else if (event.key === "Escape") {
      hide();
      return;
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(items[active]);
      return;
    } else return;
    event.preventDefault();
    paint();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (box.value.trim()) go(box.value);
  });
}
