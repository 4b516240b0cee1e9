// Uploads: drag and drop (files or whole folders) or the file picker; each file goes up with
// tus (resumable: a dropped connection picks up where it stopped, and after a reload the same
// files resume), three at a time, with progress per file and in total.

import { csrfHeaders } from "./api.js";
import { bytes, h, toast } from "./dom.js";

const PARALLEL = 3;
const CHUNK = 8 * 1024 * 1024;
const PHOTO = /\.(jpe?g|png|gif|webp|avif|heic|heif|tiff?|bmp|dng|cr2|cr3|nef|arw|orf|rw2|raf)$/i;

const queue = [];
let running = 0;
let panel;
let list;
let total;
let summary;

function ensurePanel() {
  if (panel) return;
  panel = document.getElementById("uploads");
  total = h("progress", { max: "1", value: "0", "aria-label": "All uploads" });
  summary = h("p", { class: "upload-summary" });
  list = h("ul", { class: "upload-list" });
  panel.append(
    h(
      "div",
      { class: "upload-head" },
      h("h2", {}, "Uploads"),
      h(
        "button",
        {
          type: "button",
          class: "icon",
          "aria-label": "Hide uploads",
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
      if (!queue.some((i) => i.state === "queued" || i.state === "sending")) {
        window.dispatchEvent(new CustomEvent("albumen:uploaded"));
      }
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
      metadata: { filename: item.file.name, filetype: item.file.type },
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
