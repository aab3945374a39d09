// The Forge implementation of DTGHost (app/static/host.js defines the interface and the Connect one), and the boot
// of a Custom UI page: Forge hosts only static files, so the page's content is the same server-rendered template,
// fetched as {html} through the bridge, and then the same page scripts run on it.
//
//   fetchJson -> invokeRemote (proxied by Forge with the FIT and both OAuth tokens; JSON, 25 s, 500 KB)
//   upload    -> requestRemote with FormData (a FIT, no OAuth tokens); each file part's name starts with "file"
//   flag      -> showFlag     navigate -> router.open     resize -> nothing (Forge sizes Custom UI frames itself)
//   fetchFile -> requestRemote (dtg.download saves it)     stream -> none: task progress is polled
// @see https://developer.atlassian.com/platform/forge/apis-reference/ui-api-bridge/invokeRemote/
// @see https://developer.atlassian.com/platform/forge/apis-reference/ui-api-bridge/requestRemote
import { invokeRemote, requestRemote, router, showFlag } from "@forge/bridge";

// The manifest's remote (`remotes[].key`) that requestRemote calls.
const REMOTE_KEY = "backend";
// Forge refuses larger invokeRemote requests; saying so here beats a bridge error nobody can read.
const MAX_JSON_BYTES = 500 * 1024;

function failure(status, body) {
  const detail = body && body.error ? body.error : {};
  const error = new Error(detail.message || "The app answered " + status + ". Please try again.");
  error.status = status;
  error.body = detail;
  return error;
}

function header(headers, name) {
  const value = (headers || {})[name] || (headers || {})[name.toLowerCase()] || "";
  return Array.isArray(value) ? value.join(",") : String(value);
}

async function fetchJson(path, options) {
  const opts = options || {};
  const request = { path: path, method: opts.method || "GET", headers: { Accept: "application/json" } };
  if (opts.body !== undefined) {
    if (JSON.stringify(opts.body).length > MAX_JSON_BYTES) {
      throw new Error("This request is larger than Jira lets an app send at once (500 KB). Send less at a time.");
    }
    request.body = opts.body;
    request.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await invokeRemote(request);
  } catch (cause) {
    throw new Error("The app could not be reached through Jira. Check your connection and try again.");
  }
  const status = (response && response.status) || 0;
  if (status < 200 || status >= 300) { throw failure(status, response && response.body); }
  return status === 204 || response.body === undefined ? null : response.body;
}

async function remote(path, init) {
  let response;
  try {
    response = await requestRemote(REMOTE_KEY, Object.assign({ path: path }, init));
  } catch (cause) {
    throw new Error("The app could not be reached through Jira. Check your connection and try again.");
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (ignored) { body = null; }
    throw failure(response.status, body);
  }
  return response;
}

// The bridge carries a FormData's file parts by name, so two parts named "files" would keep only the last:
// every file gets its own name (file0, file1, ...), which the upload endpoint accepts like "files".
async function upload(path, formData, onProgress) {
  const renamed = new FormData();
  let index = 0;
  let total = 0;
  for (const [name, value] of formData.entries()) {
    if (value instanceof Blob) {
      renamed.append("file" + index++, value, value.name);
      total += value.size;
    } else {
      renamed.append(name, value);
    }
  }
  const response = await remote(path, { method: "POST", headers: { Accept: "application/json" }, body: renamed });
  if (onProgress) { onProgress(total, total); }  // the bridge reports no progress: the bar fills when it is done
  return (header(Object.fromEntries(response.headers.entries()), "content-type").includes("json")) ? response.json() : null;
}

let nextFlag = 1;

// Jira closes an auto-dismissed flag after 8 s. Errors and warnings stay until dismissed: they usually ask the
// person to do something; a sticky one (a run's "started") stays until the page closes it with the run's outcome.
function flag(options) {
  const type = ["success", "info", "warning", "error"].includes(options.type) ? options.type : "info";
  const shown = showFlag({
    id: "dtg-flag-" + nextFlag++,
    type: type,
    title: options.title || "",
    description: options.body || "",
    isAutoDismiss: !(type === "error" || type === "warning" || options.sticky),
  });
  return { close: function () { shown.close().catch(function () {}); } };
}

function resize() {}

function navigate(url) { return router.open(url); }

function fetchFile(path) { return remote(path, { method: "GET", headers: { Accept: "*/*" } }); }

window.DTGHost = { fetchJson: fetchJson, upload: upload, flag: flag, resize: resize, navigate: navigate, fetchFile: fetchFile };

// The page: <script src="forge-host.js" data-page="project" data-scripts="app.js project.js ..."> in the head.
const script = document.currentScript;
const page = script.dataset.page;
const scripts = (script.dataset.scripts || "").split(" ").filter(Boolean);

function load(src) {
  return new Promise(function (resolve, reject) {
    const element = document.createElement("script");
    element.src = src;
    element.onload = resolve;
    element.onerror = function () { reject(new Error("The page script " + src + " could not be loaded.")); };
    document.head.appendChild(element);
  });
}

async function boot() {
  const main = document.getElementById("dtg-forge-page");
  try {
    main.innerHTML = (await fetchJson("/api/pages/" + page)).html;
  } catch (error) {
    main.textContent = error.message;
    main.setAttribute("role", "alert");
    return;
  } finally {
    main.removeAttribute("aria-busy");
  }
  for (const src of scripts) { await load(src); }
  // The page scripts start on DOMContentLoaded, which has passed: they get it again, now with their content.
  document.dispatchEvent(new Event("DOMContentLoaded"));
}

document.addEventListener("DOMContentLoaded", boot, { once: true });
