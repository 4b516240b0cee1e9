// Small helpers for building the page: elements, text, dates and sizes.

/** An element: h("a", {href: "/", class: "x", onclick: f}, "text", child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let toastTimer = 0;
let toastElement = null;
/** A short message at the bottom of the page, read out by screen readers. While a modal
 * dialog is open, everything outside it is inert and under its backdrop (a toast there was
 * hidden and never read out), so the toast goes into the dialog, still drawn at the bottom
 * of the screen; otherwise into the page's body. */
export function toast(message, kind = "info", action = null) {
  toastElement ??= document.getElementById("toast");
  const el = toastElement;
  const modal = [...document.querySelectorAll("dialog[open]")].filter((d) => d.matches(":modal")).at(-1);
  const host = modal || document.body;
  if (el.parentElement !== host) {
    host.append(el);
    // back to the page when the dialog closes: the toast outlives it
    modal?.addEventListener("close", () => document.body.append(el), { once: true });
  }
  el.textContent = message;
  el.dataset.kind = kind;
  if (action) {
    // an action ("Undo") stays longer: the time to read and reach it
    const button = h("button", { type: "button", class: "text" }, action.label);
    button.addEventListener("click", () => {
      el.classList.remove("shown");
      action.run();
    });
    el.append(" ", button);
  }
  el.classList.add("shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("shown"), action ? 10_000 : 5000);
}

export function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${units[i]}`;
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** "2021-04" -> "April 2021". */
export function monthName(key) {
  const [year, month] = key.split("-");
  return `${MONTHS[Number(month) - 1]} ${year}`;
}

/** The local day of capture as written in the photo: "2021-04-11" of "2021-04-11T15:47:53-05:00". */
export function dayOf(photo) {
  return (photo.taken_at || photo.created_at || "").slice(0, 10);
}

// One formatter, and each day named once: toLocaleDateString builds a formatter per call.
const DAY_FORMAT = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  timeZone: "UTC",
});
const dayNames = new Map();

export function dayName(day) {
  if (!day) return "Unknown date";
  let name = dayNames.get(day);
  if (name === undefined) {
    const [y, m, d] = day.split("-").map(Number);
    name = DAY_FORMAT.format(new Date(Date.UTC(y, m - 1, d)));
    dayNames.set(day, name);
  }
  return name;
}

/** The time of capture as the camera saw it, with its offset when known. */
export function takenText(photo) {
  const when = photo.taken_at;
  if (!when) return "Date unknown";
  const match = when.match(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/);
  if (!match) return when;
  const [, day, time, offset] = match;
  const zone = offset ? ` (UTC${offset === "Z" ? "" : offset})` : "";
  return `${dayName(day)}, ${time}${zone}`;
}

export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
