// The configure page: shows the fields the chosen provider needs, edits the status table, tests and saves.
// The API key field is write-only: the server never sends a stored key back, only whether one is stored.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  function setResult(element, state, text) {
    element.dataset.state = state;
    element.textContent = text;
  }

  function llmChoice() {
    return {
      provider: byId("dtg-provider").value,
      model: byId("dtg-model").value,
      baseUrl: byId("dtg-base-url").value,
      apiKey: byId("dtg-api-key").value,
      removeApiKey: byId("dtg-remove-key").checked,
    };
  }

  function mappingRows() {
    return Array.from(byId("dtg-mapping").tBodies[0].rows).map(function (row) {
      return { status: row.querySelector("[name=status]").value, action: row.querySelector("[name=action]").value };
    });
  }

  function labels() {
    return byId("dtg-labels").value.split(",").map(function (label) { return label.trim(); }).filter(Boolean);
  }

  function keyStatusText(status, provider) {
    const storedProvider = byId("dtg-settings").dataset.storedProvider;
    if (status.dataset.stored === "true" && provider !== storedProvider) {
      return "The stored key belongs to the previous provider and is forgotten when you save without a new one.";
    }
    if (status.dataset.stored === "true") { return "A key is stored (encrypted). It is never shown again."; }
    if (status.dataset.serverKey === "true") { return "No key stored here: the server's default key applies."; }
    return "No key stored.";
  }

  function showProviderFields() {
    const provider = byId("dtg-provider").value;
    document.querySelectorAll("[data-for]").forEach(function (field) {
      field.hidden = field.dataset.for.split(" ").indexOf(provider) < 0;
    });
    const status = byId("dtg-key-status");
    status.textContent = keyStatusText(status, provider);
    DTGHost.resize();
  }

  function addRow(status, action) {
    const row = byId("dtg-mapping-row").content.firstElementChild.cloneNode(true);
    row.querySelector("[name=status]").value = status;
    row.querySelector("[name=action]").value = action;
    byId("dtg-mapping").tBodies[0].appendChild(row);
    return row;
  }

  function resetMapping() {
    const table = byId("dtg-mapping");
    table.tBodies[0].replaceChildren();
    JSON.parse(table.dataset.legend).forEach(function (pair) { addRow(pair[0], pair[1]); });
  }

  function showSaved(view) {
    const status = byId("dtg-key-status");
    status.dataset.stored = view.apiKeyStored ? "true" : "false";
    status.dataset.serverKey = view.serverKeyApplies ? "true" : "false";
    byId("dtg-settings").dataset.storedProvider = view.provider;
    byId("dtg-api-key").value = "";
    byId("dtg-api-key").placeholder = view.apiKeyStored ? "Type a new key to replace the stored one" : "Paste the key";
    byId("dtg-remove-key").checked = false;
    byId("dtg-remove-key-label").hidden = !view.apiKeyStored;
    byId("dtg-labels").value = view.labels.join(", ");
    byId("dtg-existing-site").checked = view.existingSite;
    showProviderFields();
  }

  // The outcome shows beside the button that asked for it; failures are flagged too, wherever the person scrolled.
  async function run(button, result, pending, work) {
    button.disabled = true;
    setResult(result, "pending", pending);
    try {
      await work();
    } catch (error) {
      setResult(result, "error", error.message);
      DTGHost.flag({ type: "error", title: button.textContent.trim() + ": failed", body: error.message });
    } finally {
      button.disabled = false;
    }
  }

  function post(path, method, body) { return DTGHost.fetchJson(path, { method: method, body: body }); }

  document.addEventListener("DOMContentLoaded", function () {
    const form = byId("dtg-settings");
    if (!form) { return; }
    showProviderFields();
    byId("dtg-provider").addEventListener("change", showProviderFields);
    byId("dtg-add-row").addEventListener("click", function () { addRow("", "build").querySelector("input").focus(); });
    byId("dtg-reset-mapping").addEventListener("click", resetMapping);
    byId("dtg-mapping").addEventListener("click", function (event) {
      if (event.target.classList.contains("dtg-remove-row")) { event.target.closest("tr").remove(); }
    });

    byId("dtg-test").addEventListener("click", function () {
      const result = byId("dtg-test-result");
      run(byId("dtg-test"), result, "Calling the provider…", async function () {
        const answer = await post("/api/admin/settings/check", "POST", llmChoice());
        setResult(result, answer.ok ? "ok" : "error", answer.message);
      });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const result = byId("dtg-save-result");
      run(byId("dtg-save"), result, "Saving…", async function () {
        const body = Object.assign(llmChoice(), {
          statusMapping: mappingRows(), labels: labels(), existingSite: byId("dtg-existing-site").checked,
        });
        showSaved(await post("/api/admin/settings", "PUT", body));
        setResult(result, "ok", "Saved. New generation runs use these settings.");
        DTGHost.flag({ type: "success", title: "Settings saved", body: "New generation runs use these settings." });
        byId("dtg-updated").textContent = "Last changed just now, by you.";
      });
    });
  });
})();
