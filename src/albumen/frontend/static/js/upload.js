// Uploads: drag and drop (files or whole folders) or the file picker; each file goes up with
// tus (resumable: a dropped connection picks up where it stopped, and after a reload the same
// files resume), three at a time, with progress per file and in total.

import { api, csrfHeaders } from "./api.js";
import { bytes, h, toast } from "./dom.js";

const PARALLEL = 3;
const CHUNK = 8 * 1024 * 1024;
const CLOSE_AFTER_MS = 4000; // a panel whose uploads all went well closes by itself
const PROCESSED_WAIT_MS = 120_000; // how long the timeline waits for new photos' dates
const PHOTO = /\.(jpe?g|png|gif|webp|avif|heic|heif|tiff?|bmp|dng|cr2|cr3|nef|arw|orf|rw2|raf)$/i;

const queue = [];
let running = 0;
let panel;
let list;
let total;
let summary;
let details;
let closeTimer = 0;

function ensurePanel() {
  if (panel) return;
  panel = document.getElementById("uploads");
  total = h("progress", { max: "1", value: "0", "aria-label": "All uploads" });
  summary = h("p", { class: "upload-summary" });
  list = h("ul", { class: "upload-list", id: "upload-list" });
  // On a phone the list starts folded: the panel is a bar over the bottom of the screen, not
  // half of it. The files are one tap away.
  const folded = window.matchMedia("(max-width: 600px)").matches;
  details = h(
    "button",
    {
      type: "button",
      class: "text",
      "aria-controls": "upload-list",
      "aria-expanded": String(!folded),
      onclick: () => fold(details.getAttribute("aria-expanded") === "true"),
    },
    folded ? "Show files" : "Hide files",
  );
  list.hidden = folded;
  panel.append(
    h(
      "div",
      { class: "upload-head" },
      h("h2", {}, "Uploads"),
      details,
      h(
        "button",
        {
          type: "button",
          class: "icon",
          "aria-label": "Close uploads",
          onclick: () => {
            panel.hidden = true;
          },
        },
        "✕",
      ),
    ),
    total,
    summary,
    list,
  );
  // a person reading the panel keeps it open
  panel.addEventListener("pointerenter", () => clearTimeout(closeTimer));
  panel.addEventListener("focusin", () => clearTimeout(closeTimer));
}

function fold(folded) {
  list.hidden = folded;
  details.setAttribute("aria-expanded", String(!folded));
  details.textContent = folded ? "Show files" : "Hide files";
}

/** All uploads ended: close the panel soon if each went well (a failure stays to be read),
 * and once the server has read the new photos' dates, have the timeline put them there. */
function finished() {
  const failed = queue.some((item) => item.state === "failed");
  clearTimeout(closeTimer);
  if (!failed && !panel.matches(":hover") && !panel.contains(document.activeElement)) {
    closeTimer = setTimeout(() => {
      panel.hidden = true;
    }, CLOSE_AFTER_MS);
  }
  processed().then(() => window.dispatchEvent(new CustomEvent("albumen:uploaded")));
}

/** Until no photo of the user waits to be processed (its date read), or a while has passed:
 * a timeline drawn before showed new photos under today, until a reload. */
async function processed() {
  const deadline = Date.now() + PROCESSED_WAIT_MS;
  let wait = 250;
  while (Date.now() < deadline) {
    try {
      const jobs = await api("/api/v1/jobs");
      if (!jobs.photos.pending && !jobs.photos.processing) return;
    } catch {
      return; // signed out, or the server away: the timeline is drawn as it is
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 2000);
  }
}

function refreshTotal() {
  const all = queue.filter((item) => item.size);
  const sent = all.reduce((sum, item) => sum + item.sent, 0);
  const size = all.reduce((sum, item) => sum + item.size, 0) || 1;
  total.value = sent / size;
  const count = (state) => queue.filter((item) => item.state === state).length;
  const parts = [
    `${count("done")} uploaded`,
    count("duplicate") && `${count("duplicate")} already in your library`,
    count("failed") && `${count("failed")} failed`,
    count("queued") + count("sending") && `${count("queued") + count("sending")} to go`,
  ].filter(Boolean);
  summary.textContent = `${parts.join(" · ")} — ${bytes(sent)} of ${bytes(size)}`;
}

/** Queue files (Files or {file, path}) for upload; non-photos are skipped and said so. */
export function uploadFiles(files) {
  ensurePanel();
  clearTimeout(closeTimer);
  panel.hidden = false;
  let skipped = 0;
  for (const file of files) {
    if (!PHOTO.test(file.name) && !file.type.startsWith("image/")) {
      skipped++;
      continue;
    }
    const bar = h("progress", { max: "1", value: "0", "aria-label": `Upload of ${file.name}` });
    const status = h("span", { class: "upload-status" }, "Waiting");
    const row = h(
      "li",
      { class: "upload", dataset: { state: "queued" } },
      h("span", { class: "upload-name" }, file.name),
      bar,
      status,
    );
    list.append(row);
    queue.push({ file, size: file.size, sent: 0, state: "queued", bar, status, row });
  }
  if (skipped) toast(`${skipped} file${skipped > 1 ? "s were" : " was"} not a photo and skipped`);
  refreshTotal();
  pump();
}

function pump() {
  while (running < PARALLEL) {
    const item = queue.find((i) => i.state === "queued");
    if (!item) break;
    running++;
    send(item).finally(() => {
      running--;
      refreshTotal();
      if (!queue.some((i) => i.state === "queued" || i.state === "sending")) finished();
      pump();
    });
  }
}

function setState(item, state, text) {
  item.state = state;
  item.row.dataset.state = state;
  item.status.textContent = text;
}

function reason(error) {
  const response = error?.originalResponse;
  if (response) {
    try {
      const body = JSON.parse(response.getBody());
      if (body?.error) return body.error.message;
    } catch {
      /* not JSON */
    }
    return `the server answered ${response.getStatus()}`;
  }
  return "the connection failed";
}

function send(item) {
  return new Promise((resolve) => {
    setState(item, "sending", "Starting");
    let duplicate = false;
    let resumed = false;
    const upload = new window.tus.Upload(item.file, {
      endpoint: "/api/v1/uploads",
      chunkSize: CHUNK,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      removeFingerprintOnSuccess: true,
      metadata: {
        filename: item.file.name,
        filetype: item.file.type,
        // the file's date: where a photo without a date inside goes in the timeline (they
        // piled up on the day of the upload)
        ...(item.file.lastModified > 0 ? { modified_at: localIso(item.file.lastModified) } : {}),
      },
      headers: csrfHeaders(),
      onBeforeRequest(request) {
        if (request.getMethod() === "HEAD") resumed = true;
      },
      onAfterResponse(_request, response) {
        if (response.getHeader("Albumen-Duplicate") === "true") duplicate = true;
      },
      onProgress(sent, size) {
        item.sent = sent;
        item.bar.value = size ? sent / size : 0;
        item.status.textContent = `${Math.floor((100 * sent) / (size || 1))}%${resumed ? " (resumed)" : ""}`;
        refreshTotal();
      },
      onError(error) {
        setState(item, "failed", `Failed: ${reason(error)}`);
        resolve();
      },
      onSuccess() {
        item.sent = item.size;
        item.bar.value = 1;
        if (duplicate) setState(item, "duplicate", "Already in your library");
        else setState(item, "done", resumed ? "Uploaded (resumed)" : "Uploaded");
        resolve();
      },
    });
    upload.findPreviousUploads().then((previous) => {
      if (previous.length) {
        resumed = true;
        upload.resumeFromPreviousUpload(previous[0]);
      }
      upload.start();
    });
  });
}

/** ISO 8601 of a moment in this browser's time zone, with its offset. */
function localIso(ms) {
  const when = new Date(ms);
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const offset = -when.getTimezoneOffset();
  const zone = `${offset < 0 ? "-" : "+"}${pad(offset / 60)}:${pad(offset % 60)}`;
  const date = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`;
  return `${date}T${pad(when.getHours())}:${pad(when.getMinutes())}:${pad(when.getSeconds())}${zone}`;
}

/** Unfinished uploads that tus remembers from before a reload. */
export function interruptedUploads() {
  return Object.keys(localStorage).filter((key) => key.startsWith("tus::")).length;
}

/** Every file under a dropped folder (or the dropped files themselves). */
async function droppedFiles(items) {
  const entries = [...items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return null;
  const files = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      let batch;
      do {
        batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        for (const child of batch) await walk(child);
      } while (batch.length);
    }
  };
  for (const entry of entries) await walk(entry);
  return files;
}

/** Drag and drop anywhere on the page, the Upload button, and the offer to resume. */
export function installUploads() {
  const picker = document.getElementById("file-picker");
  const zone = document.getElementById("drop-zone");
  document.getElementById("upload-button").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    uploadFiles([...picker.files]);
    picker.value = "";
  });
  let depth = 0;
  window.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    depth++;
    zone.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.hidden = true;
  });
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", async (event) => {
    event.preventDefault();
    depth = 0;
    zone.hidden = true;
    const files = (await droppedFiles(event.dataTransfer.items)) || [...event.dataTransfer.files];
    uploadFiles(files);
  });
  const waiting = interruptedUploads();
  if (waiting) {
    ensurePanel();
    panel.hidden = false;
    fold(false); // the offer is in the list
    list.append(
      h(
        "li",
        { class: "resume-offer" },
        h(
          "span",
          {},
          `${waiting} upload${waiting > 1 ? "s were" : " was"} interrupted. Choose the same files again and they go on from where they stopped.`,
        ),
        h(
          "button",
          {
            type: "button",
            class: "primary",
            onclick: (event) => {
              event.target.closest("li").remove();
              picker.click();
            },
          },
          "Resume",
        ),
        h(
          "button",
          {
            type: "button",
            onclick: (event) => {
              for (const key of Object.keys(localStorage)) if (key.startsWith("tus::")) localStorage.removeItem(key);
              event.target.closest("li").remove();
            },
          },
          "Forget them",
        ),
      ),
    );
  }
}
