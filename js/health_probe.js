// View of wf_widgets.widgets._map_probe.HealthProbe: a plain ES module for anywidget.
//
// Only the browser knows which servers it can reach. This view fetches the `url` trait
// (a server's /health) from the page and reports back through the `reachable` trait
// (true / false) and `checked_url` (the URL the answer is about). It shows nothing.
// It runs again whenever `url` changes.

async function check(url) {
  try {
    // Same-origin URLs (the Jupyter extension) send the login cookie; other origins
    // answer /health with Access-Control-Allow-Origin: *, so no credentials there.
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) return false;
    const body = await response.json();
    return Boolean(body && body.ok);
  } catch (error) {
    return false;
  }
}

function render({ model, el }) {
  el.classList.add("wf-health-probe");
  el.style.display = "none";
  let alive = true;
  const probe = async () => {
    const url = model.get("url");
    if (!url) return;
    const reachable = await check(url);
    if (!alive || model.get("url") !== url) return;
    if (model.get("reachable") === reachable && model.get("checked_url") === url) return;
    model.set("reachable", reachable);
    model.set("checked_url", url);
    model.save_changes();
  };
  model.on("change:url", probe);
  probe();
  return () => {
    alive = false;
    model.off("change:url", probe);
  };
}

export default { render };
