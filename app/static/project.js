// The project page: sessions, tabs, upload, generation, export and live task progress.
// Panels are HTML rendered by the server; this script swaps them in and wires their buttons to the JSON API.
(function () {
  "use strict";

  const state = { session: null, tab: null, watching: {} };
  const TAB_OF_STAGE = { upload: "upload", validate: "upload", generate: "generate", review: "review", export: "export" };
  const $ = function (selector, root) { return (root || document).querySelector(selector); };

  function storageKey() { return "dtg-session-" + ($("#dtg-app") ? $("#dtg-app").dataset.project : ""); }

  function remember(id) {
    try { id ? localStorage.setItem(storageKey(), String(id)) : localStorage.removeItem(storageKey()); } catch (e) { /* storage may be blocked in iframes */ }
  }

  function remembered() {
    try { return localStorage.getItem(storageKey()); } catch (e) { return null; }
  }

  function flash(message, kind) {
    const box = $("#dtg-flash");
    box.textContent = message;
    box.className = "dtg-flash dtg-flash-" + (kind || "error");
    box.hidden = !message;
    if (message && kind === "success") { setTimeout(function () { if (box.textContent === message) { box.hidden = true; } }, 4000); }
  }

  function resize() { if (window.AP && AP.resize) { AP.resize(); } }

  // The list shows each session's stage, so it is refreshed whenever a panel loads.
  async function loadSessions() {
    const box = $("#dtg-sessions");
    box.innerHTML = await dtg.html("/api/panels/sessions");
    document.querySelectorAll("[data-session-row]").forEach(function (row) {
      row.classList.toggle("dtg-current", row.dataset.sessionRow === String(state.session));
    });
    resize();
    return box;
  }

  async function openSession(id, tab) {
    const session = await dtg.api("/api/sessions/" + id);
    state.session = session.id;
    remember(session.id);
    $("#dtg-workspace").hidden = false;
    await showTab(tab || TAB_OF_STAGE[session.stage] || "upload");
  }

  async function showTab(tab) {
    state.tab = tab;
    document.querySelectorAll(".dtg-tabs [data-tab]").forEach(function (button) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    });
    const panel = $("#dtg-panel");
    panel.dataset.tab = tab;
    panel.innerHTML = await dtg.html("/api/sessions/" + state.session + "/panels/" + tab);
    document.dispatchEvent(new CustomEvent("dtg:panel", { detail: { tab: tab, panel: panel } }));
    panel.querySelectorAll(".dtg-task[data-active='true']").forEach(function (box) { watchTask(box); });
    if (tab === "generate") { estimate(); }
    loadSessions().catch(function () { /* the list is a convenience; the panel already shows */ });
    resize();
  }

  function reload() { return state.session ? showTab(state.tab) : Promise.resolve(); }

  // ---- upload: multipart through XMLHttpRequest, whose upload events give a real progress bar
  async function upload(files) {
    if (!files.length) { return; }
    const status = $("#dtg-upload-status");
    const bar = $("#dtg-upload-progress");
    const form = new FormData();
    Array.prototype.forEach.call(files, function (file) { form.append("files", file, file.name); });
    const token = await dtg.token();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/sessions/" + state.session + "/files");
    xhr.setRequestHeader("Authorization", "JWT " + token);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    status.textContent = "Uploading " + files.length + " file(s)…";
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    };
    xhr.onerror = function () { status.textContent = "The upload failed: the connection was lost. Try again."; };
    xhr.onload = function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) {
        flash("Uploaded and checked " + body.stored.join(", ") + ".", "success");
        reload();
      } else {
        bar.hidden = true;
        status.textContent = body && body.error ? body.error.message : "The upload failed (" + xhr.status + ").";
        status.className = "dtg-error-text";
      }
    };
    xhr.send(form);
  }

  function pickFiles() { const input = $("#dtg-file-input"); if (input) { input.click(); } }

  // ---- generation
  async function estimate() {
    const select = $("#dtg-provider");
    const out = $("#dtg-estimate");
    if (!select || !out) { return; }
    try {
      const found = await dtg.api("/api/sessions/" + state.session + "/estimate?provider=" + encodeURIComponent(select.value));
      const cost = found.costUsd ? "about $" + found.costUsd.toFixed(2) : "no cost";
      out.textContent = found.tickets + " tickets, about " + (found.inputTokens + found.outputTokens).toLocaleString() +
        " tokens, " + cost + "." + (found.note ? " " + found.note : "");
    } catch (error) { out.textContent = error.message; }
  }

  // ---- live task progress: an SSE stream read with fetch (the token must go in a header), polling as a fallback
  function paint(box, task) {
    const set = function (name, value) { const el = $("[data-field='" + name + "']", box); if (el) { el.textContent = value; } };
    set("state", task.state);
    set("count", task.done + " of " + task.total);
    set("current", task.current || "");
    set("message", task.message || (task.detail && task.detail.last_error) || "");
    const bar = $("[data-field='bar']", box);
    if (bar) { bar.max = task.total || 1; bar.value = task.done; }
  }

  async function stream(id, onTask) {
    const response = await dtg.request("/api/tasks/" + id + "/events", { headers: { Accept: "text/event-stream" } });
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
        if (data) { onTask(JSON.parse(data)); }
      }
    }
  }

  // Follows a task until it ends: the stream first; when it drops, one poll (so the bar never stalls) and then the
  // stream again, backing off while the network is down. Each attempt asks Jira for a fresh context token.
  async function watchTask(box) {
    const id = box.dataset.task;
    if (state.watching[id]) { return; }
    state.watching[id] = true;
    let task = null;
    let failures = 0;
    const onTask = function (next) { task = next; paint(box, next); };
    while (!task || task.active) {
      if (!document.body.contains(box)) { delete state.watching[id]; return; }
      try { await stream(id, onTask); failures = 0; } catch (error) { failures += 1; }
      if (task && !task.active) { break; }
      try { onTask(await dtg.api("/api/tasks/" + id)); } catch (error) {
        $("[data-field='message']", box).textContent = error.message + " Retrying…";
      }
      if (task && task.active) {
        await new Promise(function (resolve) { setTimeout(resolve, Math.min(1500 * Math.max(failures, 1), 10000)); });
      }
    }
    delete state.watching[id];
    if (document.body.contains(box)) { reload(); }
  }

  async function download() {
    const response = await dtg.request("/api/sessions/" + state.session + "/export/spec.zip", { headers: { Accept: "application/zip" } });
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = (/filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "") || [])[1] || "spec.zip";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  const ACTIONS = {
    "new-session": async function () {
      const session = await dtg.api("/api/sessions", { method: "POST" });
      await loadSessions();
      await openSession(session.id, "upload");
    },
    "open-session": function (el) { return openSession(el.dataset.session); },
    tab: function (el) { return showTab(el.dataset.tab); },
    "replace-file": pickFiles,
    "remove-file": async function (el) {
      await dtg.api("/api/sessions/" + state.session + "/files/" + encodeURIComponent(el.dataset.name), { method: "DELETE" });
      flash("Removed " + el.dataset.name + ".", "success");
      await reload();
    },
    generate: async function () {
      const provider = $("#dtg-provider");
      await dtg.api("/api/sessions/" + state.session + "/generate", { method: "POST", json: { provider: provider ? provider.value : null } });
      await reload();
    },
    "cancel-task": async function (el) {
      await dtg.api("/api/tasks/" + el.dataset.task + "/cancel", { method: "POST" });
      flash("Cancelling; the run stops after the tickets in progress.", "success");
    },
    export: async function () {
      await dtg.api("/api/sessions/" + state.session + "/export", { method: "POST" });
      await reload();
    },
    download: download,
  };

  // Other scripts (review.js) add their actions here.
  window.dtgPage = { state: state, actions: ACTIONS, showTab: showTab, reload: reload, flash: flash, resize: resize, $: $ };

  document.addEventListener("click", function (event) {
    const el = event.target.closest("[data-action]");
    if (!el || !ACTIONS[el.dataset.action]) { return; }
    event.preventDefault();
    flash("");
    el.disabled = el.tagName === "BUTTON" ? true : el.disabled;
    Promise.resolve(ACTIONS[el.dataset.action](el)).catch(function (error) { flash(error.message); })
      .finally(function () { if (document.body.contains(el) && el.tagName === "BUTTON") { el.disabled = false; } });
  });

  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.id === "dtg-file-input") { upload(el.files); el.value = ""; }
    else if (el.id === "dtg-provider") { estimate(); }
    else if (el.classList.contains("dtg-kind")) {
      dtg.api("/api/sessions/" + state.session + "/files/" + encodeURIComponent(el.dataset.name) + "/kind",
        { method: "PUT", json: { kind: el.value || null } }).then(reload).catch(function (error) { flash(error.message); });
    }
  });

  ["dragover", "dragleave", "drop"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      const zone = event.target.closest && event.target.closest("[data-drop]");
      if (!zone) { return; }
      event.preventDefault();
      zone.classList.toggle("dtg-drop-over", type === "dragover");
      if (type === "drop") { upload(event.dataTransfer.files); }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    loadSessions().then(function () {
      const last = remembered();
      if (last && $("[data-session-row='" + last + "']")) { return openSession(last); }
      return null;
    }).catch(function (error) { flash(error.message); });
  });
})();
