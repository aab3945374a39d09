// The configure page's "Issues in Jira" form: issue types, epics on or off, values for required fields.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function show(result, state, text) { result.dataset.state = state; result.textContent = text; }

  function fieldDefaults() {
    const defaults = {};
    byId("dtg-field-defaults").querySelectorAll("[data-field]").forEach(function (input) {
      defaults[input.dataset.field] = input.value;
    });
    return defaults;
  }

  function valueInput(field) {
    const input = document.createElement(field.options.length ? "select" : "input");
    if (field.options.length) {
      input.append(new Option("(none)", ""));
      field.options.forEach(function (option) { input.append(new Option(option, option)); });
    }
    input.dataset.field = field.fieldId;
    input.value = field.value;
    input.setAttribute("aria-label", field.name);
    return input;
  }

  function showFields(answer) {
    const checks = byId("dtg-fit-checks");
    checks.replaceChildren();
    answer.checks.forEach(function (check) {
      const item = document.createElement("li");
      item.textContent = check.message + " " + check.todo;
      checks.append(item);
    });
    if (!answer.checks.length) { checks.append(Object.assign(document.createElement("li"), { textContent: "Project " + answer.projectKey + " takes the export as set up." })); }
    const table = byId("dtg-field-defaults");
    table.tBodies[0].replaceChildren();
    answer.fields.forEach(function (field) {
      const row = table.tBodies[0].insertRow();
      row.insertCell().textContent = field.name + " (" + field.fieldId + ")";
      row.insertCell().textContent = field.requiredOn.join(", ") || "optional";
      row.insertCell().append(valueInput(field));
    });
    table.hidden = !answer.fields.length;
    DTGHost.resize();
  }

  function load(settings) {
    byId("dtg-ticket-type").value = settings.ticketIssueType;
    byId("dtg-area-type").value = settings.areaIssueType;
    byId("dtg-epics").checked = settings.epicsEnabled;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = byId("dtg-export-settings");
    if (!form) { return; }
    const result = byId("dtg-export-result");
    DTGHost.fetchJson("/api/admin/export-settings").then(load).catch(function (error) { show(result, "error", error.message); });

    byId("dtg-fit-check").addEventListener("click", function () {
      const key = byId("dtg-fit-project").value.trim().toUpperCase();
      show(result, "pending", "Asking Jira about " + key + "…");
      DTGHost.fetchJson("/api/admin/export-settings/project?project=" + encodeURIComponent(key))
        .then(function (answer) { showFields(answer); show(result, "ok", ""); })
        .catch(function (error) { show(result, "error", error.message); });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const body = {
        ticketIssueType: byId("dtg-ticket-type").value,
        areaIssueType: byId("dtg-area-type").value,
        epicsEnabled: byId("dtg-epics").checked,
        fieldDefaults: fieldDefaults(),
      };
      show(result, "pending", "Saving…");
      DTGHost.fetchJson("/api/admin/export-settings", { method: "PUT", body: body })
        .then(function (saved) {
          load(saved);
          show(result, "ok", "Saved. The next export uses these settings.");
          DTGHost.flag({ type: "success", title: "Export settings saved", body: "The next export uses these settings." });
        })
        .catch(function (error) {
          show(result, "error", error.message);
          DTGHost.flag({ type: "error", title: "Export settings not saved", body: error.message });
        });
    });
  });
})();
