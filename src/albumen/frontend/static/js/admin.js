// The admin page: the users' accounts; jobs and queue, storage, the live dashboard figures and
// active alerts.

import { accountsSection } from "./accounts.js";
import { api } from "./api.js";
import { bytes, h, toast } from "./dom.js";

const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`);
const ms = (x) => (x === null || x === undefined ? "–" : `${x.toFixed(1)} ms`);

function table(caption, head, rows) {
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        head.map((c) => h("th", { scope: "col" }, c)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          {},
          r.map((c, i) => (i ? h("td", {}, c) : h("th", { scope: "row" }, c))),
        ),
      ),
    ),
  );
}

/** The cache optimizer's recommendations, each with its reason, and a button to apply them. */
function cacheAdvice(cache, redraw) {
  const recs = cache.recommendations.filter((r) => r.proposed !== r.current);
  const size = (r) => (r.setting === "capacity_bytes" ? bytes : (s) => `${s} s TTL`);
  return h(
    "section",
    { "aria-labelledby": "cache-advice-h" },
    h("h2", { id: "cache-advice-h" }, "Cache advice"),
    cache.recommendations.length
      ? h(
          "ul",
          {},
          cache.recommendations.map((r) =>
            h(
              "li",
              {},
              h("strong", {}, `${r.level}: ${size(r)(r.current)} → ${size(r)(r.proposed)}`),
              ` — ${r.reason}`,
            ),
          ),
        )
      : h("p", {}, "Every cache level is doing well: nothing to change."),
    cache.auto_apply
      ? h("p", { class: "muted" }, "Recommendations are applied as they come (ALBUMEN_CACHE_OPTIMIZER_APPLY).")
      : recs.length
        ? h(
            "button",
            {
              type: "button",
              onclick: async () => {
                await api("/api/v1/admin/cache/apply", { method: "POST" });
                await redraw();
              },
            },
            "Apply",
          )
        : null,
  );
}

/** Photos of every user that could not be processed, and a button to process them again. */
function retrySection(failed, redraw) {
  return h(
    "section",
    { "aria-labelledby": "failed-h" },
    h("h2", { id: "failed-h" }, "Failed photos"),
    failed
      ? h(
          "p",
          {},
          `${failed.toLocaleString()} ${failed === 1 ? "photo" : "photos"} of all users could not be processed. `,
          h(
            "button",
            {
              type: "button",
              onclick: async () => {
                try {
                  const done = await api("/api/v1/admin/jobs/retry", { method: "POST" });
                  toast(`${done.queued.toLocaleString()} queued to be processed again`);
                } catch (err) {
                  toast(err.message, "error");
                }
                await redraw();
              },
            },
            "Process them again",
          ),
        )
      : h("p", {}, "Every photo was processed."),
  );
}

export async function adminPage(main) {
  main.append(h("h1", {}, "Admin"));
  const body = h("div", { class: "admin" });
  main.append(accountsSection(), body);
  const draw = async () => {
    const [board, jobs, cache, failed] = await Promise.all([
      api("/api/v1/admin/dashboard"),
      api("/api/v1/jobs"),
      api("/api/v1/admin/cache"),
      api("/api/v1/admin/jobs"),
    ]);
    const a = board.api;
    body.replaceChildren(
      h(
        "section",
        { "aria-labelledby": "alerts-h" },
        h("h2", { id: "alerts-h" }, "Alerts"),
        board.alerts.length
          ? h(
              "ul",
              { class: "alerts" },
              board.alerts.map((al) =>
                h(
                  "li",
                  { class: `alert ${al.severity}` },
                  h("strong", {}, `${al.name} (${al.state})`),
                  ` ${al.summary}`,
                ),
              ),
            )
          : h("p", {}, "No alert is pending or firing."),
      ),
      table(
        "Jobs",
        ["", "count"],
        [
          ["Queued", jobs.queue_depth],
          ["Scheduled", jobs.scheduled],
          ["Running", jobs.running],
          ["Failed runs", jobs.failed_runs],
          ...Object.entries(jobs.photos).map(([status, n]) => [`Your photos ${status}`, n]),
        ],
      ),
      retrySection(failed.failed, draw),
      table(
        `API, last ${Math.round(board.window_seconds / 60)} minutes`,
        ["", "value"],
        [
          ["Requests", a.requests],
          ["Requests per second", a.rps],
          ["Errors", pct(a.error_rate)],
          ["Latency p50 / p95 / p99", `${ms(a.latency_ms.p50)} / ${ms(a.latency_ms.p95)} / ${ms(a.latency_ms.p99)}`],
          ...Object.entries(a.objectives_p95_ms).map(([k, v]) => [`p95 ${k.replaceAll("_", " ")}`, ms(v)]),
        ],
      ),
      table(
        "Storage",
        ["", "value"],
        [
          ["Free space", `${bytes(board.storage.free_bytes)} (${pct(board.storage.free_ratio)})`],
          ["Upload", `${bytes(board.storage.upload_bytes_per_second)}/s`],
          ["Download", `${bytes(board.storage.download_bytes_per_second)}/s`],
          ["Disk IOPS read / write", `${board.storage.read_iops} / ${board.storage.write_iops}`],
        ],
      ),
      table(
        "Caches",
        ["level", "hit ratio", "size", "evictions per hour"],
        board.cache.map((c) => [
          c.level,
          pct(c.hit_ratio),
          `${bytes(c.size_bytes)} of ${bytes(c.capacity_bytes)}`,
          Math.round(c.evictions_per_hour || 0),
        ]),
      ),
      cacheAdvice(cache, draw),
      table(
        "Host",
        ["", "value"],
        [
          ["CPU", pct(board.host.cpu_ratio)],
          ["Memory", pct(board.host.memory_used_ratio)],
          ["Database queries per second", board.database.queries_per_second],
          ["Slow queries", board.database.slow_queries],
        ],
      ),
      h("p", { class: "muted" }, `As of ${new Date(board.timestamp).toLocaleTimeString()}; refreshed every 10 s.`),
    );
  };
  await draw();
  const timer = setInterval(() => draw().catch(() => {}), 10000);
  return () => clearInterval(timer);
}
