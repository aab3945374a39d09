// Review on the project page: the ticket editor (debounced autosave, conflicts between tabs), moving through the
// list (next/previous, j/k), marking tickets reviewed, links with a searchable picker, bulk changes.
(function () {
  "use strict";

  const page = window.dtgPage;
  const $ = page.$;
  const SAVE_DELAY = 800;
  let users = null;
  let timer = null;
  let opening = 0;

  function base() { return "/api/sessions/" + page.state.session; }
  function ticketPath(key) { return base() + "/tickets/" + encodeURIComponent(key); }
  function titleOf(key) {
    const link = $(".dtg-ticket-row[data-key='" + CSS.escape(key) + "'] a");
    return link ? link.firstChild.textContent : key;
  }

  async function assignees() {
    if (!users) {
      users = DTGHost.fetchJson("/api/assignable-users").then(function (found) { return found.users; })
        .catch(function (error) { users = null; dtg.report(error, "The people of this project could not be loaded"); return []; });
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

  // The rows a person can move through: those the filter shows, in list order.
  function visibleRows() {
    return Array.prototype.filter.call(document.querySelectorAll(".dtg-ticket-row"), function (row) {
      return !row.hidden && !row.closest(".dtg-area").hidden;
    });
  }

  function showPosition(key) {
    const rows = visibleRows();
    const index = rows.findIndex(function (row) { return row.dataset.key === key; });
    const out = $("#dtg-ticket [data-field='position']");
    if (out) { out.textContent = index >= 0 ? (index + 1) + " of " + rows.length : "not in the filtered list"; }
    document.querySelectorAll(".dtg-ticket-row").forEach(function (row) {
      const current = row.dataset.key === key;
      row.classList.toggle("dtg-current", current);
      const link = $("a", row);
      if (current) { link.setAttribute("aria-current", "true"); } else { link.removeAttribute("aria-current"); }
    });
    const row = $(".dtg-ticket-row[data-key='" + CSS.escape(key) + "']");
    if (row) { dtg.reveal($(".dtg-ticket-list"), row, false); }
  }

  // Opens a ticket in the editor beside the list. A later open wins over an earlier one still loading.
  async function openTicket(key, focusTarget) {
    if (page.state.tab !== "review") { await page.showTab("review"); }
    const load = ++opening;
    const html = await dtg.panel(base() + "/panels/tickets/" + encodeURIComponent(key));
    if (load !== opening) { return; }
    const pane = $("#dtg-ticket");
    pane.innerHTML = html;
    pane.scrollTop = 0;
    scrollableTables(pane);
    showPosition(key);
    assignees();
    const target = focusTarget && $(focusTarget, pane);
    if (target) { target.focus({ preventScroll: true }); }
  }

  // A wide table scrolls inside its cell, so a keyboard must be able to reach it to scroll it.
  function scrollableTables(root) {
    root.querySelectorAll(".dtg-adf table").forEach(function (table) { table.tabIndex = 0; });
  }

  function currentKey() { const form = $("form.dtg-editor"); return form ? form.dataset.key : null; }

  // Next (+1) or previous (-1) among the shown rows, from the open ticket or the top of the list.
  function step(direction, focusTarget) {
    const rows = visibleRows();
    if (!rows.length) { return Promise.resolve(); }
    const index = rows.findIndex(function (row) { return row.dataset.key === currentKey(); });
    const next = index < 0 ? (direction > 0 ? 0 : rows.length - 1) : index + direction;
    if (next < 0 || next >= rows.length) {
      page.notify("info", direction > 0 ? "That was the last ticket" : "This is the first ticket",
        rows.length + " tickets are shown; change the filter to see others.");
      return Promise.resolve();
    }
    return openTicket(rows[next].dataset.key, focusTarget);
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
    const who = theirs.changedBy === "you" ? "You saved this ticket in another tab" :
      (theirs.changedBy || "another person") + " saved this ticket";
    const whoShort = theirs.changedBy === "you" ? "you, in another tab" : (theirs.changedBy || "another person");
    text.textContent = who + " meanwhile (now version " + theirs.version + "). " +
      "That title: \u201c" + theirs.title + "\u201d. Reload to see that change, or overwrite it with yours.";
    const reloadButton = document.createElement("button");
    reloadButton.type = "button";
    reloadButton.className = "dtg-button";
    reloadButton.textContent = "Reload the saved version";
    reloadButton.onclick = function () { openTicket(form.dataset.key, "input[name=title]"); };
    const overwrite = document.createElement("button");
    overwrite.type = "button";
    overwrite.className = "dtg-button dtg-warning";
    overwrite.textContent = "Overwrite with mine";
    overwrite.onclick = function () { form.dataset.version = theirs.version; box.hidden = true; save(form, mine); };
    box.append(text, reloadButton, overwrite);
    page.notify("warning", "Not saved: changed by " + whoShort, "\u201c" + theirs.title + "\u201d was saved meanwhile; choose which version to keep.");
  }

  // A field the server refused is marked where it is: the title, the labels or the description.
  const FIELD_OF_MESSAGE = [[/title/i, "title"], [/label/i, "labels"], [/description|markdown/i, "markdown"]];

  async function save(form, values) {
    saveState(form, "Saving…", "saving");
    try {
      const body = Object.assign({ version: Number(form.dataset.version) }, values);
      const ticket = await DTGHost.fetchJson(ticketPath(form.dataset.key), { method: "PATCH", body: body });
      form.dataset.version = ticket.version;
      $("[data-field='preview']", form).innerHTML = ticket.html;
      scrollableTables(form);
      const link = $(".dtg-ticket-row[data-key='" + CSS.escape(ticket.key) + "'] a");
      if (link) { link.firstChild.textContent = ticket.title; }
      saveState(form, "Saved", "saved");
    } catch (error) {
      if (error.status === 409 && error.body.current) {
        saveState(form, "Not saved: changed elsewhere", "error");
        showConflict(form, values, error.body.current);
        return;
      }
      saveState(form, "Not saved", "error");
      const field = (FIELD_OF_MESSAGE.find(function (pair) { return pair[0].test(error.message); }) || [])[1];
      const control = field && form.elements[field];
      dtg.report(control && error.status === 400 ? new dtg.FieldError(control, error.message) : error, "Not saved");
    }
  }

  function scheduleSave(form) {
    saveState(form, "Editing…", "saving");
    clearTimeout(timer);
    timer = setTimeout(function () { save(form, editorValues(form)); }, SAVE_DELAY);
  }

  function countReviewed() {
    document.querySelectorAll(".dtg-area").forEach(function (area) {
      const out = $("[data-field='area-reviewed']", area);
      const done = area.querySelectorAll(".dtg-ticket-row[data-reviewed='true']").length;
      out.textContent = done + " of " + out.dataset.total + " reviewed";
    });
    const total = $("#dtg-reviewed-total");
    const done = document.querySelectorAll(".dtg-ticket-row[data-reviewed='true']").length;
    total.textContent = done + " of " + total.dataset.total + " reviewed";
    total.className = "dtg-lozenge dtg-lozenge-" + (String(done) === total.dataset.total ? "success" : "inprogress");
    return done;
  }

  // Marks the open ticket reviewed (or takes the mark back); marking moves on to the next ticket, as a reviewer would.
  async function toggleReviewed(button, moveOn) {
    const form = button.closest("form.dtg-editor");
    const reviewed = form.dataset.reviewed !== "true";
    const ticket = await DTGHost.fetchJson(ticketPath(form.dataset.key) + "/reviewed", { method: "PUT", body: { reviewed: reviewed } });
    form.dataset.version = ticket.version;
    form.dataset.reviewed = String(ticket.reviewed);
    button.setAttribute("aria-pressed", String(ticket.reviewed));
    button.textContent = ticket.reviewed ? "✓ Reviewed" : "Mark reviewed";
    button.className = "dtg-button " + (ticket.reviewed ? "dtg-reviewed" : "dtg-primary");
    const row = $(".dtg-ticket-row[data-key='" + CSS.escape(ticket.key) + "']");
    if (row) {
      row.dataset.reviewed = String(ticket.reviewed);
      row.dataset.kinds = row.dataset.kinds.replace(/\bunreviewed ?/, "") + (ticket.reviewed ? "" : " unreviewed");
      $("[data-field='reviewed-text']", row).textContent = ticket.reviewed ? " (reviewed)" : "";
    }
    const done = countReviewed();
    const total = $("#dtg-reviewed-total").dataset.total;
    if (ticket.reviewed && moveOn) {
      const last = visibleRows().slice(-1)[0];
      if (last && last.dataset.key === ticket.key) {
        page.notify("success", "Reviewed: " + ticket.title, done + " of " + total + " reviewed; this was the last ticket shown.");
      } else {
        await step(1, "[data-action='toggle-reviewed']");
      }
    } else if (!ticket.reviewed) {
      page.notify("info", "Marked for another look", "\u201c" + ticket.title + "\u201d is no longer counted as reviewed.");
    }
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
    if (currentKey()) { showPosition(currentKey()); }
  }

  function selected() {
    return Array.prototype.map.call(document.querySelectorAll(".dtg-select:checked"), function (box) { return box.value; });
  }

  async function bulk(body, describe) {
    const keys = selected();
    if (!keys.length) { throw new dtg.FieldError($("#dtg-bulk [data-field='selected']"), "Select tickets first (the boxes left of their titles)."); }
    const result = await DTGHost.fetchJson(base() + "/bulk", { method: "POST", body: Object.assign({ keys: keys }, body) });
    const open = currentKey();
    await page.keepingFocus(function () { return page.showTab("review"); });
    if (open) { await openTicket(open); }
    page.notify("success", describe + ": " + result.tickets.length + (result.tickets.length === 1 ? " ticket" : " tickets"),
      result.tickets.map(function (t) { return t.title; }).slice(0, 3).join("; ") + (result.tickets.length > 3 ? "; …" : ""));
  }

  async function link(key, blocker, remove) {
    const path = ticketPath(key) + "/links";
    if (remove) { return DTGHost.fetchJson(path + "/" + encodeURIComponent(blocker), { method: "DELETE" }); }
    return DTGHost.fetchJson(path, { method: "POST", body: { blockedBy: blocker } });
  }

  // A refused cycle is named by the tickets' titles, so the person can see which link to take out.
  function linkFailure(error) {
    const cycle = error.body && error.body.details && error.body.details.cycle;
    if (!cycle) { return error; }
    const named = new Error("That link would close a cycle: " + cycle.map(titleOf).join(" → ") +
      " (each is blocked by the next). Remove one of these links first.");
    named.flagTitle = "Link refused";
    return named;
  }

  // The picker shows titles; the key is the datalist option whose text was chosen.
  function chosenBlocker(input) {
    const value = input.value.trim();
    if (!value) { throw new dtg.FieldError(input, "Type part of a title and choose the ticket that blocks this one."); }
    const option = Array.prototype.find.call(input.list.options, function (o) { return o.value === value; }) ||
      Array.prototype.find.call(input.list.options, function (o) { return o.value.toLowerCase() === value.toLowerCase(); });
    if (!option) { throw new dtg.FieldError(input, "No ticket has the title \u201c" + value + "\u201d. Choose one from the suggestions."); }
    return option.dataset.key;
  }

  Object.assign(page.actions, {
    "open-ticket": function (el) { return openTicket(el.dataset.key); },
    "step-ticket": function (el) { return step(Number(el.dataset.step), "[data-action='step-ticket'][data-step='" + el.dataset.step + "']"); },
    "toggle-reviewed": function (el) { return toggleReviewed(el, true); },
    shortcuts: function () { const dialog = $("#dtg-shortcuts"); if (dialog && !dialog.open) { dialog.showModal(); } },
    "view-mode": function (el) {
      const form = el.closest("form");
      $(".dtg-split", form).dataset.mode = el.dataset.mode;
      form.querySelectorAll("[data-action='view-mode']").forEach(function (b) { b.setAttribute("aria-pressed", String(b === el)); });
    },
    link: async function (el) {
      const blocker = chosenBlocker($("[data-field='new-blocker']", el.closest("form")));
      try { await link(el.dataset.key, blocker, false); } catch (error) { throw linkFailure(error); }
      await openTicket(el.dataset.key, "[data-field='new-blocker']");
      page.notify("success", "Link added", "\u201c" + titleOf(el.dataset.key) + "\u201d is blocked by \u201c" + titleOf(blocker) + "\u201d.");
    },
    unlink: async function (el) {
      await link(el.dataset.key, el.dataset.blocker, true);
      await openTicket(el.dataset.key, "[data-field='new-blocker']");
      page.notify("success", "Link removed", "\u201c" + titleOf(el.dataset.key) + "\u201d no longer waits for \u201c" + titleOf(el.dataset.blocker) + "\u201d.");
    },
    "graph-link": async function (el) {
      const from = $("#dtg-link-from");
      const to = $("#dtg-link-to");
      if (!from.value) { throw new dtg.FieldError(from, "Choose the ticket that is blocked."); }
      if (!to.value) { throw new dtg.FieldError(to, "Choose the ticket that blocks it."); }
      const names = [from.options[from.selectedIndex].text, to.options[to.selectedIndex].text];
      try { await link(from.value, to.value, el.dataset.mode === "remove"); } catch (error) { throw linkFailure(error); }
      await page.keepingFocus(function () { return page.showTab("graph"); });
      page.notify("success", el.dataset.mode === "remove" ? "Link removed" : "Link added",
        "\u201c" + names[0] + "\u201d " + (el.dataset.mode === "remove" ? "no longer waits for" : "is blocked by") + " \u201c" + names[1] + "\u201d.");
    },
    "bulk-label": function (el) {
      const input = $("#dtg-bulk-label");
      const label = input.value.trim();
      if (!label) { throw new dtg.FieldError(input, "Type the label first."); }
      const add = el.dataset.mode === "add";
      return bulk({ action: "label", add: add ? [label] : [], remove: add ? [] : [label] }, (add ? "Label added" : "Label removed") + " (" + label + ")");
    },
    "bulk-assign": function () {
      const select = $("#dtg-bulk-assignee");
      const option = select.options[select.selectedIndex];
      return bulk({ action: "assign", assignee: select.value ? { accountId: select.value, name: option.text } : null },
        select.value ? "Assigned to " + option.text : "Unassigned");
    },
    "bulk-exclude": function (el) {
      return bulk({ action: el.dataset.mode }, el.dataset.mode === "exclude" ? "Left out of the export" : "Put back into the export");
    },
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
      if (count) { count.textContent = selected().length + " selected"; dtg.clearFieldError(count); }
      // The bulk bar takes room only while there is something to change.
      const bar = $("#dtg-bulk");
      if (bar) { bar.hidden = selected().length === 0; }
    }
  });

  // Shortcuts work while no text field has the focus (Escape leaves one), as in Jira.
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) && el.type !== "checkbox";
  }

  const SHORTCUTS = {
    j: function () { return step(1); },
    k: function () { return step(-1); },
    e: function () { const area = $("form.dtg-editor textarea[name=markdown]"); if (area) { area.focus(); } },
    r: function () { const button = $("form.dtg-editor [data-action='toggle-reviewed']"); return button ? toggleReviewed(button, true) : null; },
    "/": function () { const find = $("#dtg-filter-text"); if (find) { find.focus(); } },
    "?": function () { page.actions.shortcuts(); },
  };

  document.addEventListener("keydown", function (event) {
    if (page.state.tab !== "review" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape" && typing(event.target) && event.target.closest("#dtg-panel")) {
      const form = event.target.closest("form.dtg-editor");
      (form ? $("#dtg-editor-heading") : $("#dtg-panel h2")).focus();
      return;
    }
    const action = SHORTCUTS[event.key];
    if (!action || typing(event.target) || $("#dtg-shortcuts[open]")) { return; }
    event.preventDefault();
    Promise.resolve(action()).catch(function (error) { dtg.report(error, "That did not work"); });
  });

  document.addEventListener("click", function (event) {
    const node = event.target.closest && event.target.closest("svg .dtg-node");
    if (node) { openTicket(node.dataset.key).catch(function (error) { dtg.report(error, "The ticket could not be opened"); }); }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.classList.contains("dtg-editor")) { event.preventDefault(); }
  });
})();
