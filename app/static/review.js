// Review on the project page: the ticket editor (debounced autosave, conflicts between tabs), links, bulk changes.
(function () {
  "use strict";

  const page = window.dtgPage;
  const $ = page.$;
  const SAVE_DELAY = 800;
  let users = null;
  let timer = null;

  function base() { return "/api/sessions/" + page.state.session; }

  async function assignees() {
    if (!users) {
      users = dtg.api("/api/assignable-users").then(function (found) { return found.users; })
        .catch(function (error) { users = null; page.flash("The people of this project could not be loaded: " + error.message); return []; });
    }
    const list = await users;
    document.querySelectorAll("select.dtg-assignees").forEach(function (select) {
      const current = select.dataset.current || select.value;
      list.forEach(function (user) {
        if (select.querySelector("option[value='" + CSS.escape(user.accountId) + "']")) { return; }
        select.add(new Option(user.name, user.accountId, false, user.accountId === current));
      });
    });
  }

  async function openTicket(key) {
    if (page.state.tab !== "review") { await page.showTab("review"); }
    const pane = $("#dtg-ticket");
    pane.innerHTML = await dtg.html(base() + "/panels/tickets/" + encodeURIComponent(key));
    document.querySelectorAll(".dtg-ticket-row").forEach(function (row) { row.classList.toggle("dtg-current", row.dataset.key === key); });
    assignees();
    page.resize();
  }

  function editorValues(form) {
    const select = form.elements.assignee;
    const option = select.options[select.selectedIndex];
    return {
      title: form.elements.title.value,
      markdown: form.elements.markdown.value,
      labels: form.elements.labels.value.split(/[\s,]+/).filter(Boolean),
      assignee: select.value ? { accountId: select.value, name: option ? option.text : "" } : null,
      onHold: form.elements.on_hold.checked,
      excluded: form.elements.excluded.checked,
    };
  }

  function saveState(form, text, kind) {
    const el = $("[data-field='save-state']", form);
    el.textContent = text;
    el.dataset.kind = kind || "";
  }

  function showConflict(form, mine, theirs) {
    const box = $("[data-field='conflict']", form);
    box.hidden = false;
    box.innerHTML = "";
    const text = document.createElement("p");
    text.textContent = "Someone saved this ticket in another tab or session (now version " + theirs.version + "). " +
      "Their title: \u201c" + theirs.title + "\u201d. Reload to see their change, or overwrite it with yours.";
    const reloadButton = document.createElement("button");
    reloadButton.type = "button";
    reloadButton.className = "dtg-button";
    reloadButton.textContent = "Reload their version";
    reloadButton.onclick = function () { openTicket(form.dataset.key); };
    const overwrite = document.createElement("button");
    overwrite.type = "button";
    overwrite.className = "dtg-button dtg-warning";
    overwrite.textContent = "Overwrite with mine";
    overwrite.onclick = function () { form.dataset.version = theirs.version; box.hidden = true; save(form, mine); };
    box.append(text, reloadButton, overwrite);
    page.resize();
  }

  async function save(form, values) {
    saveState(form, "Saving…", "saving");
    try {
      const body = Object.assign({ version: Number(form.dataset.version) }, values);
      const ticket = await dtg.api(base() + "/tickets/" + encodeURIComponent(form.dataset.key), { method: "PATCH", json: body });
      form.dataset.version = ticket.version;
      $("[data-field='preview']", form).innerHTML = ticket.html;
      const row = $(".dtg-ticket-row[data-key='" + CSS.escape(ticket.key) + "'] a");
      if (row) { row.textContent = ticket.title; }
      saveState(form, "Saved", "saved");
    } catch (error) {
      if (error.status === 409 && error.body.current) {
        saveState(form, "Not saved: changed elsewhere", "error");
        showConflict(form, values, error.body.current);
      } else {
        saveState(form, "Not saved: " + error.message, "error");
      }
    }
  }

  function scheduleSave(form) {
    saveState(form, "Editing…", "saving");
    clearTimeout(timer);
    timer = setTimeout(function () { save(form, editorValues(form)); }, SAVE_DELAY);
  }

  // Filtering happens in the page: the list holds every ticket of the session (about a hundred), so no round trip.
  function applyFilter() {
    const text = ($("#dtg-filter-text") || {}).value || "";
    const kind = ($("#dtg-filter-kind") || {}).value || "";
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    let total = 0;
    document.querySelectorAll(".dtg-area").forEach(function (area) {
      let inArea = 0;
      area.querySelectorAll(".dtg-ticket-row").forEach(function (row) {
        const match = words.every(function (word) { return row.dataset.search.includes(word); }) &&
          (!kind || row.dataset.kinds.split(" ").includes(kind));
        row.hidden = !match;
        inArea += match ? 1 : 0;
        total += 1;
      });
      const badge = $("[data-field='area-count']", area);
      badge.textContent = inArea === Number(badge.dataset.total) ? badge.dataset.total : inArea + " of " + badge.dataset.total;
      area.hidden = inArea === 0;
      shown += inArea;
    });
    const label = $("#dtg-filter [data-field='shown']");
    if (label) { label.textContent = shown === total ? "" : shown + " of " + total + " tickets shown"; }
    page.resize();
  }

  function selected() {
    return Array.prototype.map.call(document.querySelectorAll(".dtg-select:checked"), function (box) { return box.value; });
  }

  async function bulk(body) {
    const keys = selected();
    if (!keys.length) { throw new Error("Select tickets first (the boxes left of their titles)."); }
    const result = await dtg.api(base() + "/bulk", { method: "POST", json: Object.assign({ keys: keys }, body) });
    await page.showTab("review");
    page.flash("Changed " + result.tickets.length + " tickets.", "success");
  }

  async function link(key, blocker, remove) {
    const path = base() + "/tickets/" + encodeURIComponent(key) + "/links";
    if (remove) { await dtg.api(path + "/" + encodeURIComponent(blocker), { method: "DELETE" }); }
    else { await dtg.api(path, { method: "POST", json: { blockedBy: blocker } }); }
  }

  Object.assign(page.actions, {
    "open-ticket": function (el) { return openTicket(el.dataset.key); },
    link: async function (el) {
      const blocker = $("[data-field='new-blocker']", el.closest("form")).value;
      if (!blocker) { throw new Error("Choose the ticket that blocks this one."); }
      await link(el.dataset.key, blocker, false);
      await openTicket(el.dataset.key);
      page.flash("Link added.", "success");
    },
    unlink: async function (el) {
      await link(el.dataset.key, el.dataset.blocker, true);
      await openTicket(el.dataset.key);
      page.flash("Link removed.", "success");
    },
    "graph-link": async function (el) {
      const from = $("#dtg-link-from").value;
      const to = $("#dtg-link-to").value;
      if (!from || !to) { throw new Error("Choose both tickets."); }
      await link(from, to, el.dataset.mode === "remove");
      await page.showTab("graph");
      page.flash(el.dataset.mode === "remove" ? "Link removed." : "Link added.", "success");
    },
    "bulk-label": function (el) {
      const label = $("#dtg-bulk-label").value.trim();
      if (!label) { throw new Error("Type the label first."); }
      return bulk({ action: "label", add: el.dataset.mode === "add" ? [label] : [], remove: el.dataset.mode === "remove" ? [label] : [] });
    },
    "bulk-assign": function () {
      const select = $("#dtg-bulk-assignee");
      const option = select.options[select.selectedIndex];
      return bulk({ action: "assign", assignee: select.value ? { accountId: select.value, name: option.text } : null });
    },
    "bulk-exclude": function (el) { return bulk({ action: el.dataset.mode }); },
  });

  document.addEventListener("dtg:panel", function (event) {
    if (event.detail.tab === "review") { assignees(); }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "dtg-filter-text") { applyFilter(); return; }
    const form = event.target.closest && event.target.closest("form.dtg-editor");
    if (form && event.target.dataset.field !== "new-blocker") { scheduleSave(form); }
  });

  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.id === "dtg-filter-kind") { applyFilter(); return; }
    const form = el.closest && el.closest("form.dtg-editor");
    if (form && (el.type === "checkbox" || el.name === "assignee")) { scheduleSave(form); }
    if (el.classList.contains("dtg-select-area")) {
      el.closest("details").querySelectorAll(".dtg-ticket-row:not([hidden]) .dtg-select")
        .forEach(function (box) { box.checked = el.checked; });
    }
    if (el.classList.contains("dtg-select") || el.classList.contains("dtg-select-area")) {
      const count = $("#dtg-bulk [data-field='selected']");
      if (count) { count.textContent = selected().length + " selected"; }
    }
  });

  document.addEventListener("click", function (event) {
    const node = event.target.closest && event.target.closest("svg .dtg-node");
    if (node) { openTicket(node.dataset.key).catch(function (error) { page.flash(error.message); }); }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.classList.contains("dtg-editor")) { event.preventDefault(); }
  });
})();
