// The project page: sessions, tabs, upload, generation, export and live task progress.
// Panels are HTML rendered by the server; this script swaps them in and wires their buttons to the JSON API.
// Every call and every message goes through window.DTGHost (host.js), so the Forge front reuses this file.
(function () {
  "use strict";

  const state = { session: null, tab: null, watching: {}, following: {}, startFlags: {}, loads: 0 };
  const TAB_OF_STAGE = { upload: "upload", validate: "upload", generate: "generate", review: "review", export: "export" };
  const $ = function (selector, root) { return (root || document).querySelector(selector); };

  function storageKey() { return "dtg-session-" + ($("#dtg-app") ? $("#dtg-app").dataset.project : ""); }

  function remember(id) {
    try { id ? localStorage.setItem(storageKey(), String(id)) : localStorage.removeItem(storageKey()); } catch (e) { /* storage may be blocked in iframes */ }
  }

  function remembered() {
    try { return localStorage.getItem(storageKey()); } catch (e) { return null; }
  }

  // Returns the flag, so a `sticky` one (a run's "started") can be closed when its outcome arrives.
  function notify(type, title, body, sticky) {
    return DTGHost.flag({ type: type, title: title, body: body || "", sticky: Boolean(sticky) }) || { close: function () {} };
  }

  // What the focused control is, in words that survive a re-render of its panel.
  function focusDescriptor() {
    const el = document.activeElement;
    if (!el || el === document.body) { return null; }
    if (el.id) { return "#" + CSS.escape(el.id); }
    const parts = ["action", "key", "name", "tab", "blocker"].filter(function (name) { return el.dataset[name]; })
      .map(function (name) { return "[data-" + name + "='" + CSS.escape(el.dataset[name]) + "']"; });
    if (el.name) { parts.push("[name='" + CSS.escape(el.name) + "']"); }
    return parts.length ? el.tagName.toLowerCase() + parts.join("") : null;
  }

  // Runs `work` (which replaces markup) and puts the focus back where it was, or on `fallback`.
  async function keepingFocus(work, fallback) {
    const where = focusDescriptor();
    const result = await work();
    const again = where && $(where);
    const target = again || (fallback && $(fallback));
    if (target && document.activeElement !== target) { target.focus({ preventScroll: !again }); }
    return result;
  }

  async function loadSessions() {
    const box = $("#dtg-sessions");
    box.innerHTML = await dtg.panel("/api/panels/sessions");
    document.querySelectorAll("[data-session-row]").forEach(function (row) {
      row.classList.toggle("dtg-current", row.dataset.sessionRow === String(state.session));
    });
    return box;
  }

  function showSessions(open) {
    $("#dtg-sessions").hidden = !open;
    $("#dtg-workspace").hidden = open;
    if (open) { loadSessions().catch(function (error) { dtg.report(error, "The sessions could not be loaded"); }); }
    DTGHost.resize();
  }

  // The name follows the files ("UWEC spec"), so it is asked for again after they change.
  async function showSessionName() {
    const session = await DTGHost.fetchJson("/api/sessions/" + state.session);
    $("#dtg-session-name").textContent = session.name;
    $("#dtg-rename-input").value = session.typedName || "";
    return session;
  }

  // The director may type a name; an empty one names the session after its files again.
  function showRename(open) {
    $("#dtg-rename").hidden = !open;
    $("#dtg-session-name").hidden = open;
    $("[data-action='rename-session']").hidden = open;
    if (open) { $("#dtg-rename-input").focus(); $("#dtg-rename-input").select(); } else { $("[data-action='rename-session']").focus(); }
  }

  async function rename() {
    const name = $("#dtg-rename-input").value.trim();
    const session = await DTGHost.fetchJson("/api/sessions/" + state.session, { method: "PATCH", body: { name: name || null } });
    $("#dtg-session-name").textContent = session.name;
    showRename(false);
    notify("success", "Session renamed", "It is now \u201c" + session.name + "\u201d.");
  }

  async function openSession(id, tab) {
    state.session = Number(id);
    $("#dtg-rename").hidden = true;
    $("#dtg-session-name").hidden = false;
    $("[data-action='rename-session']").hidden = false;
    const session = await showSessionName();
    remember(session.id);
    showSessions(false);
    await showTab(tab || TAB_OF_STAGE[session.stage] || "upload");
  }

  // Each load is numbered; an answer for a tab the person has already left is dropped, so the last click wins.
  async function showTab(tab) {
    const load = ++state.loads;
    state.tab = tab;
    document.querySelectorAll(".dtg-tabs [data-tab]").forEach(function (button) {
      const selected = button.dataset.tab === tab;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
    });
    const panel = $("#dtg-panel");
    panel.setAttribute("aria-busy", "true");
    const html = await dtg.panel("/api/sessions/" + state.session + "/panels/" + tab);
    if (load !== state.loads) { return; }
    panel.dataset.tab = tab;
    panel.setAttribute("aria-labelledby", "dtg-tab-" + tab);
    panel.innerHTML = html;
    panel.removeAttribute("aria-busy");
    document.dispatchEvent(new CustomEvent("dtg:panel", { detail: { tab: tab, panel: panel } }));
    panel.querySelectorAll(".dtg-task[data-active='true']").forEach(function (box) {
      // A run this page did not start (the page was reloaded, or another tab started it) keeps going on the
      // server: say so, and announce its end like one started here.
      if (!state.following[box.dataset.task]) {
        const notice = $("[data-field='resumed']", box);
        if (notice) { notice.hidden = false; }
        state.following[box.dataset.task] = true;
      }
      watchTask(box);
    });
    // A run started here that ended before its panel showed it is still announced (once).
    panel.querySelectorAll(".dtg-task[data-active='false']").forEach(function (box) {
      if (state.following[box.dataset.task]) {
        DTGHost.fetchJson("/api/tasks/" + box.dataset.task).then(function (task) { announce(task, box.dataset.task); })
          .catch(function () { /* the panel shows it */ });
      }
    });
    if (tab === "generate") { estimate(); }
    DTGHost.resize();
  }

  function reload() { return state.session ? keepingFocus(function () { return showTab(state.tab); }) : Promise.resolve(); }

  // ---- upload: the host's upload gives a real progress bar
  async function upload(files) {
    if (!files.length) { return; }
    const status = $("#dtg-upload-status");
    const bar = $("#dtg-upload-progress");
    const form = new FormData();
    Array.prototype.forEach.call(files, function (file) { form.append("files", file, file.name); });
    bar.hidden = false;
    bar.value = 0;
    status.className = "dtg-muted";
    status.textContent = "Uploading " + files.length + (files.length === 1 ? " file…" : " files…");
    try {
      const body = await DTGHost.upload("/api/sessions/" + state.session + "/files", form, function (loaded, total) {
        bar.value = Math.round(100 * loaded / total);
      });
      // A flag names a few files; a whole spec's worth would fill the corner (the list below names them all).
      const named = body.stored.length > 3 ? body.stored.slice(0, 2).join(", ") + " and " + (body.stored.length - 2) + " more"
        : body.stored.join(", ");
      notify("success", "Uploaded " + body.stored.length + (body.stored.length === 1 ? " file" : " files"),
        "Checked " + named + "; the findings are below.");
      await Promise.all([reload(), showSessionName()]);
    } catch (error) {
      bar.hidden = true;
      status.textContent = error.message;
      status.className = "dtg-error-text";
      notify("error", "The upload failed", error.message);
    }
  }

  function pickFiles() { const input = $("#dtg-file-input"); if (input) { input.click(); } }

  // ---- generation
  async function estimate() {
    const select = $("#dtg-provider");
    const out = $("#dtg-estimate");
    if (!select || !out) { return; }
    try {
      const found = await DTGHost.fetchJson("/api/sessions/" + state.session + "/estimate?provider=" + encodeURIComponent(select.value));
      const tokens = found.inputTokens + found.outputTokens;
      const cost = found.costUsd ? "about $" + found.costUsd.toFixed(2) : "no cost";
      // A writer that makes no calls has no tokens to count ("about 0 tokens" reads like a fault).
      out.textContent = found.tickets + " tickets" + (tokens ? ", about " + tokens.toLocaleString() + " tokens, " + cost : "") +
        "." + (found.note ? " " + found.note : "");
    } catch (error) { out.textContent = error.message; out.className = "dtg-error-text"; }
  }

  // ---- live task progress: the stream of the task's changes, one poll whenever it drops
  // An export counts in percent of a total fixed at its start; its phase ("Linking issues 24 of 146") is `current`.
  function paint(box, task) {
    const set = function (name, value) { const el = $("[data-field='" + name + "']", box); if (el) { el.textContent = value; } };
    set("state", task.state);
    set("count", task.kind === "export" ? Math.floor(100 * task.done / (task.total || 1)) + "% done" : task.done + " of " + task.total);
    set("current", task.active ? task.current || "" : "");
    // A finished export says it once, in the summary the panel shows next.
    if (task.active || task.kind !== "export" || task.state !== "done") {
      set("message", task.message || (task.detail && task.detail.last_error) || "");
    }
    const bar = $("[data-field='bar']", box);
    if (bar) { bar.max = task.total || 1; bar.value = task.done; }
    if (task.kind === "export" && task.detail) { liveResults(task.detail); }
  }

  // The results fill in while the issues are created: the count at once, the rows' issue keys as they arrive.
  let resultsShown = -1;
  let resultsLoading = false;
  async function liveResults(detail) {
    const count = $("[data-field='in-jira']");
    if (!count || detail.created === undefined) { return; }
    count.textContent = detail.created + " of " + detail.total + " tickets are in Jira so far.";
    const zip = $("[data-action='download']");
    if (zip && zip.disabled && detail.created > 0) {  // the CSVs now carry a Jira key
      zip.disabled = false;
      zip.removeAttribute("aria-describedby");
      const why = $("#dtg-download-why");
      if (why) { why.remove(); }
    }
    if (detail.created === resultsShown || resultsLoading) { return; }
    resultsLoading = true;
    try {
      const found = await DTGHost.fetchJson("/api/sessions/" + state.session + "/export");
      resultsShown = detail.created;
      found.tickets.forEach(function (ticket) {
        const cell = $("tr[data-result='" + CSS.escape(ticket.key) + "'] [data-field='issue']");
        if (!cell || !ticket.url || cell.querySelector("a")) { return; }
        const link = document.createElement("a");
        link.href = ticket.url;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = ticket.jira_key;
        cell.replaceChildren(link);
      });
    } catch (error) { /* the panel shows the results when the run ends */ }
    finally { resultsLoading = false; }
  }

  // Server-sent events read with fetch, as the token must go in a header. Connect only: a front without
  // streaming (Forge's bridge) has no DTGHost.stream, and watchTask polls.
  async function stream(id, onTask) {
    if (!DTGHost.stream) { throw new Error("no stream"); }
    await DTGHost.stream("/api/tasks/" + id + "/events", onTask);
  }

  const FINISHED = {
    generate: { done: "Tickets drafted", failed: "Generation failed", cancelled: "Generation cancelled" },
    export: { done: "Export finished", failed: "The export failed", cancelled: "Export cancelled" },
  };

  // Follows a task until it ends: the stream first; when it drops, one poll (so the bar never stalls) and then the
  // stream again, backing off while the network is down.
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
      try { onTask(await DTGHost.fetchJson("/api/tasks/" + id)); } catch (error) {
        $("[data-field='message']", box).textContent = error.message + " Retrying…";
      }
      if (task && task.active) {
        await new Promise(function (resolve) { setTimeout(resolve, Math.min(1500 * Math.max(failures, 1), 10000)); });
      }
    }
    delete state.watching[id];
    announce(task, id);
    if (document.body.contains(box)) { reload(); }
  }

  // `id` from the task's box: the stream's events need not carry it.
  function announce(task, id) {
    if (!state.following[id]) { return; }
    delete state.following[id];
    if (state.startFlags[id]) { state.startFlags[id].close(); delete state.startFlags[id]; }
    const titles = FINISHED[task.kind] || {};
    if (titles[task.state]) {
      notify(task.state === "done" ? "success" : task.state === "failed" ? "error" : "warning", titles[task.state],
        task.message || task.done + " of " + task.total + " done.");
    }
  }

  // A run started here is announced when it ends, whichever panel render or watcher sees the end.
  // `started` is the flag that said it started; it closes when the outcome flag shows.
  function follow(taskId, started) {
    state.following[taskId] = true;
    state.startFlags[taskId] = started;
    return reload();
  }

  // A removed file stays restorable for a while: the row says so and offers Undo; the delete is sent only after.
  const UNDO_MS = 8000;
  const pendingRemovals = {};

  async function commitRemoval(name) {
    const pending = pendingRemovals[name];
    if (!pending) { return; }
    clearTimeout(pending.timer);
    delete pendingRemovals[name];
    try {
      await DTGHost.fetchJson(pending.path, { method: "DELETE" });
      notify("success", "Removed " + name, "The drafts made from it are now out of date; generate again to refresh them.");
      if (state.session === pending.session) { await Promise.all([reload(), showSessionName()]); }
    } catch (error) {
      dtg.report(error, name + " was not removed");
      await reload();
    }
  }

  function removeFile(el) {
    const name = el.dataset.name;
    const row = el.closest("tr");
    const path = "/api/sessions/" + state.session + "/files/" + encodeURIComponent(name);
    pendingRemovals[name] = { path: path, session: state.session, timer: setTimeout(function () { commitRemoval(name); }, UNDO_MS) };
    const cell = document.createElement("td");
    cell.colSpan = row.cells.length;
    cell.className = "dtg-undo-row";
    const text = document.createElement("span");
    text.textContent = name + " will be removed. ";
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "dtg-button";
    undo.dataset.action = "undo-remove";
    undo.dataset.name = name;
    undo.textContent = "Undo";
    cell.append(text, undo);
    row.dataset.removing = "true";
    row.replaceChildren(cell);
    undo.focus();
  }

  async function undoRemoval(el) {
    const pending = pendingRemovals[el.dataset.name];
    if (pending) { clearTimeout(pending.timer); delete pendingRemovals[el.dataset.name]; }
    notify("info", "Kept " + el.dataset.name, "Nothing was removed.");
    await reload();
  }

  // Removals waiting for their undo time are sent before the page goes away.
  window.addEventListener("pagehide", function () { Object.keys(pendingRemovals).forEach(commitRemoval); });

  const ACTIONS = {
    "new-session": async function () {
      const session = await DTGHost.fetchJson("/api/sessions", { method: "POST", body: {} });
      notify("success", "Session started", "Upload the spec's CSV exports.");
      await openSession(session.id, "upload");
      const pick = $("[data-action='pick-files']");
      if (pick) { pick.focus(); }
    },
    "open-session": function (el) { return openSession(el.dataset.session); },
    "all-sessions": function () { showSessions(true); const first = $("#dtg-sessions button"); if (first) { first.focus(); } },
    "delete-session": function (el) { el.closest("tr").querySelector(".dtg-confirm").hidden = false; $("[data-action='confirm-delete']", el.closest("tr")).focus(); },
    "cancel-delete": function (el) { el.closest(".dtg-confirm").hidden = true; $("[data-action='delete-session']", el.closest("tr")).focus(); },
    "confirm-delete": async function (el) {
      const id = el.dataset.session;
      await DTGHost.fetchJson("/api/sessions/" + id, { method: "DELETE" });
      if (String(state.session) === id) { state.session = null; remember(null); }
      notify("success", "Session deleted", el.dataset.label + " and its files and drafts are gone.");
      await loadSessions();
      const next = $("#dtg-sessions button");
      if (next) { next.focus(); }
    },
    tab: function (el) {
      return showTab(el.dataset.tab).then(function () {
        const tab = $(".dtg-tabs [data-tab='" + el.dataset.tab + "']");
        if (el.closest("#dtg-panel") && tab) { tab.focus(); }
      });
    },
    "rename-session": function () { showRename(true); },
    "cancel-rename": function () { showRename(false); },
    "pick-files": pickFiles,
    "replace-file": pickFiles,
    "remove-file": removeFile,
    "undo-remove": undoRemoval,
    generate: async function () {
      const provider = $("#dtg-provider");
      const started = await DTGHost.fetchJson("/api/sessions/" + state.session + "/generate", { method: "POST", body: { provider: provider ? provider.value : null } });
      const flag = notify("info", "Drafting the tickets", "Progress shows below; you can leave the page and come back.", true);
      await follow(started.taskId, flag);
    },
    "cancel-task": async function (el) {
      await DTGHost.fetchJson("/api/tasks/" + el.dataset.task + "/cancel", { method: "POST", body: {} });
      notify("info", "Cancelling", "The run stops after the tickets in progress.");
    },
    export: async function () {
      const started = await DTGHost.fetchJson("/api/sessions/" + state.session + "/export", { method: "POST", body: {} });
      const flag = notify("info", "Export started", "Issues are created in dependency order; progress shows below.", true);
      resultsShown = -1;
      await follow(started.taskId, flag);
    },
    download: function () { return dtg.download("/api/sessions/" + state.session + "/export/spec.zip"); },
    acceptance: function () { return dtg.download("/api/sessions/" + state.session + "/acceptance.feature"); },
    revise: async function () {
      const revision = await DTGHost.fetchJson("/api/sessions/" + state.session + "/revise", { method: "POST", body: {} });
      notify("success", "Revision started", revision.files
        ? "It holds " + revision.files + " spec files; replace or add those that changed."
        : "Upload the revised CSV files or workbook; the plan shows before anything is written.");
      await openSession(revision.id, "upload");
    },
    "revision-plan": async function () {
      const plan = await DTGHost.fetchJson("/api/sessions/" + state.session + "/revision");
      const box = $("#dtg-revision-plan");
      box.replaceChildren();
      const counts = document.createElement("p");
      counts.textContent = ["new", "changed", "unchanged", "gone", "conflict"].map(function (kind) {
        return kind + " " + (plan.counts[kind] || 0);
      }).join(", ") + ", moved " + plan.moves.length;
      box.append(counts);
      const list = document.createElement("ul");
      plan.changes.filter(function (c) { return c.kind !== "unchanged"; }).forEach(function (change) {
        const item = document.createElement("li");
        const label = document.createElement("strong");
        label.textContent = change.kind + (change.flagged ? " (flagged already)" : "") + ": ";
        item.append(label, document.createTextNode(change.title + (change.issueKey ? " (" + change.issueKey + ")" : "")));
        if (change.kind === "conflict") {
          const pick = document.createElement("select");
          pick.setAttribute("aria-label", "What to do with " + change.title + ", edited in Jira since");
          [["keep", "Keep Jira's"], ["overwrite", "Take the spec's"], ["comment", "Add the spec's change as a comment"]].forEach(function (o) {
            const option = new Option(o[1], o[0], false, (plan.choices[change.ticketKey] || "keep") === o[0]);
            pick.append(option);
          });
          pick.addEventListener("change", function () {
            DTGHost.fetchJson("/api/sessions/" + state.session + "/revision/choices", { method: "POST", body: { ticketKey: change.ticketKey, choice: pick.value } })
              .then(function () { notify("success", "Choice saved", change.title + ": " + pick.options[pick.selectedIndex].text); })
              .catch(function (error) { dtg.report(error, "The choice was not saved"); });
          });
          item.append(document.createTextNode(" "), pick);
        }
        if (change.diff.length) {
          const details = document.createElement("details");
          const summary = document.createElement("summary");
          summary.textContent = "What changes";
          const pre = document.createElement("pre");
          pre.textContent = change.diff.join("\n");
          details.append(summary, pre);
          item.append(details);
        }
        list.append(item);
      });
      plan.moves.forEach(function (move) {
        const item = document.createElement("li");
        item.textContent = "moved: " + move.name + " from " + move.from + " to " + move.to;
        list.append(item);
      });
      box.append(list);
    },
  };

  // Other scripts (review.js) add their actions here.
  window.dtgPage = {
    state: state, actions: ACTIONS, showTab: showTab, reload: reload, notify: notify, keepingFocus: keepingFocus, $: $,
  };

  document.addEventListener("click", function (event) {
    const el = event.target.closest("[data-action]");
    if (!el || !ACTIONS[el.dataset.action]) { return; }
    event.preventDefault();
    const busy = el.tagName === "BUTTON" && !el.disabled;
    if (busy) { el.disabled = true; el.setAttribute("aria-busy", "true"); }
    Promise.resolve().then(function () { return ACTIONS[el.dataset.action](el); })
      .catch(function (error) { dtg.report(error, el.dataset.failure || (el.textContent.trim() + ": not done")); })
      .finally(function () {
        if (busy && document.body.contains(el)) { el.disabled = false; el.removeAttribute("aria-busy"); if (document.activeElement === document.body) { el.focus(); } }
      });
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "dtg-rename") { return; }
    event.preventDefault();
    rename().catch(function (error) { dtg.report(new dtg.FieldError($("#dtg-rename-input"), error.message), "Not renamed"); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.id === "dtg-rename-input") { showRename(false); }
  });

  // Tabs follow the ARIA pattern: arrow keys move between them.
  document.addEventListener("keydown", function (event) {
    const tab = event.target.closest && event.target.closest(".dtg-tabs [role=tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) { return; }
    const tabs = Array.prototype.slice.call(document.querySelectorAll(".dtg-tabs [role=tab]"));
    const next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    next.click();
  });

  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.id === "dtg-file-input") { upload(el.files); el.value = ""; }
    else if (el.id === "dtg-provider") { estimate(); }
    else if (el.classList.contains("dtg-kind")) {
      DTGHost.fetchJson("/api/sessions/" + state.session + "/files/" + encodeURIComponent(el.dataset.name) + "/kind",
        { method: "PUT", body: { kind: el.value || null } })
        .then(function () { notify("success", "Type set for " + el.dataset.name, "The files were checked again."); return reload(); })
        .catch(function (error) { dtg.report(error, "The type was not set"); });
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

  window.addEventListener("resize", function () { DTGHost.resize(); });

  document.addEventListener("DOMContentLoaded", function () {
    loadSessions().then(function () {
      const last = remembered();
      if (last && $("[data-session-row='" + last + "']")) { return openSession(last); }
      return null;
    }).catch(function (error) { dtg.report(error, "The sessions could not be loaded"); });
  });
})();
