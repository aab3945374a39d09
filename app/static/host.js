// The host adapter: the one place page scripts touch the Jira front that frames them.
//
//   DTGHost.fetchJson(path, {method, body})  -> Promise<json>   body is sent as JSON; a 204 resolves to null;
//                                                               a failure rejects with an Error carrying .status and
//                                                               .body (the API's error object, e.g. .body.current)
//   DTGHost.upload(path, formData, onProgress) -> Promise<json> onProgress(loadedBytes, totalBytes)
//   DTGHost.flag({type, title, body, sticky})  type: success | info | warning | error; returns {close()};
//                                             sticky: stays until closed (a run's "started", closed by its outcome)
//   DTGHost.resize()                          after the content changed
//   DTGHost.navigate(url)                     open a Jira (or other) page outside the frame
//   DTGHost.fetchFile(path)  -> Promise<Response>  a file the API answers (not JSON), with its headers; dtg.download
//                                             (app.js) saves it, the same way for every front
//   DTGHost.stream(path, onEvent)             optional: server-sent events, onEvent(json) per event; resolves
//                                             when the stream ends (a front without it is polled instead)
//
// This file is the Connect implementation: a fresh context token from AP.context.getToken on every call, AP.flag,
// AP.sizeToParent (the page fills the frame; it never grows it). The Forge front defines its own DTGHost with the
// same methods before this script runs, which then leaves it alone.
(function () {
  "use strict";
  if (window.DTGHost) { return; }

  const script = document.querySelector("script[data-options]");
  const sizeToParent = /sizeToParent:\s*true/.test((script && script.getAttribute("data-options")) || "");

  function contextToken() {
    return new Promise(function (resolve, reject) {
      if (!window.AP || !AP.context) { reject(new Error("Open this page from Jira.")); return; }
      AP.context.getToken(function (token) { token ? resolve(token) : reject(new Error("No token from Jira.")); });
    });
  }

  function failure(status, body) {
    const detail = body && body.error ? body.error : {};
    const error = new Error(detail.message || "The app answered " + status + ". Please try again.");
    error.status = status;
    error.body = detail;
    return error;
  }

  async function send(path, init) {
    const token = await contextToken();
    init.headers = Object.assign({ Authorization: "JWT " + token }, init.headers || {});
    let response;
    try {
      response = await fetch(path, init);
    } catch (cause) {
      throw new Error("The app could not be reached. Check your connection and try again.");
    }
    const isJson = (response.headers.get("content-type") || "").includes("json");
    if (!response.ok) { throw failure(response.status, isJson ? await response.json() : null); }
    return response;
  }

  async function fetchJson(path, options) {
    const opts = options || {};
    const init = { method: opts.method || "GET", headers: { Accept: "application/json" } };
    if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers["Content-Type"] = "application/json";
    }
    const response = await send(path, init);
    return (response.headers.get("content-type") || "").includes("json") ? response.json() : null;
  }

  // XMLHttpRequest rather than fetch: only its upload events give a real progress bar.
  async function upload(path, formData, onProgress) {
    const token = await contextToken();
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      xhr.setRequestHeader("Authorization", "JWT " + token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (onProgress && event.lengthComputable) { onProgress(event.loaded, event.total); }
      };
      xhr.onerror = function () { reject(new Error("The upload failed: the connection was lost. Try again.")); };
      xhr.onload = function () {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = null; }
        if (xhr.status >= 200 && xhr.status < 300) { resolve(body); } else { reject(failure(xhr.status, body)); }
      };
      xhr.send(formData);
    });
  }

  // Outside Jira (a page opened directly) the flag still shows, in the page's own corner.
  function pageFlag(options) {
    let box = document.getElementById("dtg-page-flags");
    if (!box) {
      box = document.createElement("div");
      box.id = "dtg-page-flags";
      box.className = "dtg-page-flags";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    const item = document.createElement("div");
    item.className = "dtg-page-flag dtg-page-flag-" + options.type;
    item.setAttribute("role", options.type === "error" ? "alert" : "status");
    const title = document.createElement("strong");
    title.textContent = options.title;
    const body = document.createElement("div");
    body.textContent = options.body || "";
    item.append(title, body);
    box.appendChild(item);
    if (!options.sticky) { setTimeout(function () { item.remove(); }, options.type === "error" ? 15000 : 6000); }
    return { close: function () { item.remove(); } };
  }

  function flag(options) {
    const type = ["success", "info", "warning", "error"].includes(options.type) ? options.type : "info";
    const normalised = { type: type, title: options.title || "", body: options.body || "", sticky: Boolean(options.sticky) };
    if (window.AP && AP.flag) {
      // Errors and warnings stay until dismissed: they usually ask the person to do something.
      const created = AP.flag.create({
        type: type, title: normalised.title, body: normalised.body,
        close: type === "error" || type === "warning" || options.sticky ? "manual" : "auto",
      });
      return { close: function () { if (created && created.close) { created.close(); } } };
    }
    return pageFlag(normalised);
  }

  function resize() {
    if (!window.AP) { return; }
    if (sizeToParent && AP.sizeToParent) { AP.sizeToParent(); } else if (AP.resize) { AP.resize(); }
  }

  function navigate(url) { window.open(url, "_blank", "noopener"); }

  function fetchFile(path) { return send(path, { headers: { Accept: "*/*" } }); }

  // fetch rather than EventSource: the token must go in a header.
  async function stream(path, onEvent) {
    const response = await send(path, { headers: { Accept: "text/event-stream" } });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) { return; }
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = buffer.slice(0, end).split("\n").filter(function (line) { return line.startsWith("data:"); })
          .map(function (line) { return line.slice(5).trim(); }).join("\n");
        buffer = buffer.slice(end + 2);
        if (data) { onEvent(JSON.parse(data)); }
      }
    }
  }

  window.DTGHost = {
    fetchJson: fetchJson, upload: upload, flag: flag, resize: resize, navigate: navigate, fetchFile: fetchFile, stream: stream,
  };
})();
