// Shared page script: every call goes through window.DTGHost (host.js), which knows the Jira front around us.
(function () {
  "use strict";

  // The panels are HTML rendered by the server, answered as {html} so every front can carry them as JSON.
  async function panel(path) { return (await DTGHost.fetchJson(path)).html; }

  // A field the person must fix: the message sits next to the control (and is announced), not in a flag.
  class FieldError extends Error {
    constructor(control, message) { super(message); this.control = control; }
  }

  function clearFieldError(control) {
    if (!control) { return; }
    control.removeAttribute("aria-invalid");
    const note = control.dtgErrorNote;
    if (note) { note.remove(); control.dtgErrorNote = null; }
  }

  function showFieldError(control, message) {
    clearFieldError(control);
    const note = document.createElement("span");
    note.className = "dtg-field-error";
    note.id = "dtg-error-" + Math.random().toString(36).slice(2);
    note.setAttribute("role", "alert");
    note.textContent = message;
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", note.id);
    control.insertAdjacentElement("afterend", note);
    control.dtgErrorNote = note;
    control.focus();
  }

  // Where an action's failure goes: next to its field, or a flag that says what failed and why.
  function report(error, title) {
    if (error instanceof FieldError && error.control && document.body.contains(error.control)) {
      showFieldError(error.control, error.message);
    } else {
      DTGHost.flag({ type: "error", title: error.flagTitle || title || "That did not work", body: error.message });
    }
  }

  // Brings `el` into view inside its scrolling `box` only: scrollIntoView would also scroll Jira's page around
  // the frame, pushing the app's own header and tabs out of sight.
  function reveal(box, el, centre) {
    if (!box || !el) { return; }
    const boxRect = box.getBoundingClientRect();
    const rect = el.getBoundingClientRect();
    if (centre) {
      box.scrollTop += rect.top - boxRect.top - (box.clientHeight - rect.height) / 2;
      box.scrollLeft += rect.left - boxRect.left - (box.clientWidth - rect.width) / 2;
    } else if (rect.top < boxRect.top) {
      box.scrollTop -= boxRect.top - rect.top;
    } else if (rect.bottom > boxRect.bottom) {
      box.scrollTop += rect.bottom - boxRect.bottom;
    }
  }

  // Saves a file the API answers, under the name its Content-Disposition gives. Each front fetches it its own way
  // (DTGHost.fetchFile); saving it is the same everywhere, so it lives here, in the script every front loads.
  async function download(path) {
    const response = await DTGHost.fetchFile(path);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = (/filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "") || [])[1] || "download";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  window.dtg = {
    panel: panel, FieldError: FieldError, clearFieldError: clearFieldError, report: report, reveal: reveal, download: download,
  };

  document.addEventListener("input", function (event) { clearFieldError(event.target); });
  document.addEventListener("change", function (event) { clearFieldError(event.target); });

  document.addEventListener("DOMContentLoaded", function () {
    DTGHost.resize();
    const status = document.getElementById("dtg-connection");
    if (!status) { return; }
    DTGHost.fetchJson("/api/me").then(function (me) {
      status.textContent = "Connected to " + me.siteUrl + ".";
      status.dataset.state = "connected";
    }).catch(function (error) {
      status.textContent = error.message;
      status.dataset.state = "failed";
      report(error, "Not connected to Jira");
    });
  });
})();
