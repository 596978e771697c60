// View of wf_widgets.widgets.JobsBoard: a plain ES module for anywidget (no bundler).
//
// State comes from two traits: `rows` (one small object per job of the page shown) and
// `counts` (over all the jobs). Actions go back by setting the `_action` trait ({op, id, n});
// Python observes it. The page controls set `page` (from 0; `page_size` jobs a page), and
// Python sends that page's rows. Elapsed times and
// expiry countdowns tick here once a second, corrected by `_clock` (the kernel's clock when
// the rows were sent), so the kernel sends nothing while only time passes.

const STAGES = ["QUEUED", "PREPARING", "RUNNING", "SAVING", "SUCCEEDED", "FAILED", "CANCELLED"];
const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function duration(seconds) {
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  if (d) return `${d}d ${hours}h`;
  if (hours) return `${hours}h ${m}m`;
  if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

// "12.3 MB": a size in bytes for a person (SI units, as the export form's estimate).
export function bytesText(n) {
  if (n === undefined || n === null) return "size unknown";
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

function copyLink(url) {
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(url).catch(() => window.prompt("Copy the link:", url));
  } else {
    window.prompt("Copy the link:", url);
  }
}

function render({ model, el }) {
  el.classList.add("wf-jobs-board");
  let skew = 0; // kernel clock minus browser clock, in seconds
  const now = () => Date.now() / 1000 + skew;
  let counter = (model.get("_action") || {}).n || 0;
  const act = (op, id) => {
    counter += 1;
    model.set("_action", { op, id: id ?? null, n: counter });
    model.save_changes();
  };

  const countsEl = h("span", { className: "wf-jobs-counts" });
  const cancelAll = h("button", { className: "wf-jobs-cancel-all", type: "button", text: "Cancel all",
                                  onclick: () => act("cancel_all") });
  const retryFailed = h("button", { className: "wf-jobs-retry-failed", type: "button", text: "Retry failed",
                                    title: "Launch every failed job again", onclick: () => act("retry_failed") });
  const goTo = (page) => {
    model.set("page", page);
    model.save_changes();
  };
  const prev = h("button", { className: "wf-jobs-prev", type: "button", text: "‹ Previous", title: "Previous page",
                             onclick: () => goTo(model.get("page") - 1) });
  const next = h("button", { className: "wf-jobs-next", type: "button", text: "Next ›", title: "Next page",
                             onclick: () => goTo(model.get("page") + 1) });
  const pageText = h("span", { className: "wf-jobs-page" });
  const pager = h("span", { className: "wf-jobs-pager" }, prev, pageText, next);
  const header = h("div", { className: "wf-jobs-header" }, countsEl, cancelAll, retryFailed, pager);
  const tbody = h("tbody");
  const table = h("table", { className: "wf-jobs-table" },
    h("thead", {}, h("tr", {}, ...["Context", "Job", "Progress", "Stage", "Elapsed", "Result", ""].map(
      (t) => h("th", { text: t })))),
    tbody);
  const noteLine = h("div", { className: "wf-jobs-note" });
  const errorLine = h("div", { className: "wf-jobs-callback-error", role: "alert" });
  el.append(header, table, noteLine, errorLine);

  const trs = new Map(); // job id -> {tr, key}

  function resultCell(row) {
    const cell = h("td", { className: "wf-jobs-result" });
    if (row.stage === "SUCCEEDED") {
      if (row.image) {
        cell.append(h("div", { className: "wf-jobs-image" },
          h("div", { className: "wf-jobs-image-name", text: `Image: ${row.image.name ?? ""}` }),
          h("div", { text: `id: ${row.image.id ?? ""}` }),
          h("div", { text: `product: ${row.image.product_id ?? ""}` })));
      }
      if (row.email !== undefined) {
        cell.append(h("span", { className: "wf-jobs-email", text: `emailed to ${row.email || "(no address)"}` }), " ");
      }
      if (row.object_url) {
        cell.append(h("div", { className: "wf-jobs-object" },
          h("code", { className: "wf-jobs-object-url", text: row.object_url }), " ",
          h("span", { className: "wf-jobs-object-size", text: `(${bytesText(row.size)})` })));
      }
      if (row.url) {
        cell.append(h("a", { className: "wf-jobs-download", href: row.url, target: "_blank", rel: "noopener",
                             text: "download" }), " ",
                    h("span", { className: "wf-jobs-expiry", "data-expires": row.expires }), " ",
                    h("button", { className: "wf-jobs-copy-link", type: "button", text: "copy link",
                                  title: "Copy the download link", onclick: () => copyLink(row.url) }),
                    h("button", { className: "wf-jobs-renew-link", type: "button", text: "renew",
                                  title: "Renew the link: a new expiry, the retention period from now",
                                  onclick: () => act("renew_link", row.id) }),
                    h("button", { className: "wf-jobs-revoke-link", type: "button", text: "revoke",
                                  title: "Revoke the link: it stops working at once, everywhere (the data is kept)",
                                  onclick: () => act("revoke_link", row.id) }));
      } else if (row.lost) {
        cell.append(h("span", { className: "wf-jobs-lost", text: row.lost }));
      } else if (row.revoked) {
        cell.append(h("span", { className: "wf-jobs-revoked", text: row.expired ? "link revoked, data deleted"
                                                                                : "link revoked" }));
      } else if (row.expired) {
        cell.append(h("span", { className: "wf-jobs-expired", text: "result expired" }));
      }
    } else if (row.stage === "FAILED" || row.stage === "CANCELLED") {
      const text = row.stage === "FAILED" && row.code && row.code !== "NONE" ? `${row.code}: ${row.error}` : row.error;
      cell.append(h("span", { className: "wf-jobs-error", text }));
    }
    return cell;
  }

  function buildRow(row) {
    const frac = row.total ? Math.min(1, row.steps / row.total) : (row.stage === "SUCCEEDED" ? 1 : 0);
    const actions = h("td", { className: "wf-jobs-actions" });
    if (!TERMINAL.has(row.stage)) {
      actions.append(h("button", { className: "wf-jobs-cancel", type: "button", text: "Cancel",
                                   onclick: () => act("cancel", row.id) }));
    } else if (row.stage === "FAILED" || row.stage === "CANCELLED") {
      actions.append(h("button", { className: "wf-jobs-retry", type: "button", text: "Retry",
                                   onclick: () => act("retry", row.id) }));
    }
    return h("tr", { className: "wf-jobs-row", "data-id": row.id, "data-stage": row.stage },
      h("td", { className: "wf-jobs-label", text: row.label || "" }),
      h("td", { className: "wf-jobs-id", title: row.retry_of ? `${row.id} (retry of ${row.retry_of})` : row.id,
                text: row.short || row.id.slice(0, 8) }),
      h("td", { className: "wf-jobs-progress" },
        h("div", { className: "wf-jobs-bar", role: "progressbar", "aria-valuemin": 0,
                   "aria-valuemax": row.total, "aria-valuenow": row.steps },
          h("div", { className: "wf-jobs-fill", style: `width: ${(100 * frac).toFixed(1)}%` })),
        h("span", { className: "wf-jobs-steps", text: `${row.steps}/${row.total}` })),
      h("td", { className: "wf-jobs-stage" },
        h("span", { className: `wf-jobs-stage-badge wf-stage-${row.stage.toLowerCase()}`, text: row.stage }),
        ...(row.attempts === undefined ? [] : [" ", h("span", {
          className: "wf-jobs-attempts",
          title: (row.attempt_codes || []).map((c, i) => `attempt ${i + 1}: ${c}`).join("\n"),
          text: `attempt ${row.attempts}/${row.retries + 1}` + (row.retry_at ? " (waiting to retry)" : ""),
        })])),
      h("td", { className: "wf-jobs-elapsed", "data-created": row.created, "data-started": row.started ?? "",
                "data-finished": row.finished ?? "" }),
      resultCell(row),
      actions);
  }

  function tick() {
    const t = now();
    for (const { tr } of trs.values()) {
      const cell = tr.querySelector(".wf-jobs-elapsed");
      const start = parseFloat(cell.dataset.started || cell.dataset.created);
      const end = cell.dataset.finished ? parseFloat(cell.dataset.finished) : t;
      cell.textContent = Number.isFinite(start) ? duration(end - start) : "";
      const exp = tr.querySelector(".wf-jobs-expiry");
      if (exp) {
        const left = parseFloat(exp.dataset.expires) - t;
        exp.textContent = left > 0 ? `(expires in ${duration(left)})` : "(expired)";
      }
    }
  }

  function update() {
    const clock = model.get("_clock");
    if (clock) skew = clock - Date.now() / 1000;
    const rows = model.get("rows") || [];
    const counts = model.get("counts") || {};
    const total = counts.total || 0;
    el.classList.toggle("wf-jobs-empty", total === 0);
    countsEl.textContent = STAGES.filter((s) => counts[s]).map((s) => `${s} ${counts[s]}`).join(" · ")
      + (total ? ` · ${total} job${total === 1 ? "" : "s"}` : "");
    cancelAll.disabled = !STAGES.some((s) => !TERMINAL.has(s) && counts[s]);
    retryFailed.disabled = !counts.FAILED;
    retryFailed.textContent = counts.FAILED ? `Retry failed (${counts.FAILED})` : "Retry failed";
    const size = Math.max(1, model.get("page_size") || 1);
    const pages = Math.max(1, Math.ceil(total / size));
    const page = Math.min(Math.max(model.get("page") || 0, 0), pages - 1);
    pager.hidden = pages <= 1;
    prev.disabled = page <= 0;
    next.disabled = page >= pages - 1;
    pageText.textContent = ` jobs ${page * size + 1}–${Math.min(total, (page + 1) * size)} of ${total}`
      + ` (page ${page + 1} of ${pages}) `;
    const seen = new Set();
    let previous = null;
    for (const row of rows) {
      seen.add(row.id);
      const key = JSON.stringify(row);
      let entry = trs.get(row.id);
      if (!entry || entry.key !== key) {
        const tr = buildRow(row);
        if (entry) entry.tr.replaceWith(tr);
        entry = { tr, key };
        trs.set(row.id, entry);
      }
      const expected = previous ? previous.nextSibling : tbody.firstChild;
      if (expected !== entry.tr) tbody.insertBefore(entry.tr, expected);
      previous = entry.tr;
    }
    for (const [id, entry] of trs) {
      if (!seen.has(id)) {
        entry.tr.remove();
        trs.delete(id);
      }
    }
    tick();
  }

  function showError() {
    errorLine.textContent = model.get("callback_error") || "";
  }

  function showNote() {
    noteLine.textContent = model.get("note") || "";
  }

  model.on("change:rows", update);
  model.on("change:counts", update);
  model.on("change:page", update);
  model.on("change:page_size", update);
  model.on("change:callback_error", showError);
  model.on("change:note", showNote);
  update();
  showError();
  showNote();
  const timer = setInterval(tick, 1000);
  return () => {
    clearInterval(timer);
    model.off("change:rows", update);
    model.off("change:counts", update);
    model.off("change:page", update);
    model.off("change:page_size", update);
    model.off("change:callback_error", showError);
    model.off("change:note", showNote);
  };
}

export default { render };
