// Shared page script: every JSON call carries a fresh context token from AP.context.getToken().
(function () {
  "use strict";

  function contextToken() {
    return new Promise(function (resolve, reject) {
      if (!window.AP || !AP.context) { reject(new Error("Open this page from Jira.")); return; }
      AP.context.getToken(function (token) { token ? resolve(token) : reject(new Error("No token from Jira.")); });
    });
  }

  async function api(path, options) {
    const token = await contextToken();
    const init = Object.assign({}, options || {});
    init.headers = Object.assign({ Authorization: "JWT " + token, Accept: "application/json" }, init.headers || {});
    const response = await fetch(path, init);
    const body = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
    if (!response.ok) {
      const message = body && body.error ? body.error.message : "The app answered " + response.status + ".";
      throw new Error(message);
    }
    return body;
  }

  window.dtg = { api: api };

  document.addEventListener("DOMContentLoaded", function () {
    const status = document.getElementById("dtg-connection");
    if (!status) { return; }
    api("/api/me").then(function (me) {
      status.textContent = "Connected to " + me.siteUrl + ".";
      status.dataset.state = "connected";
    }).catch(function (error) {
      status.textContent = error.message;
      status.dataset.state = "failed";
    });
    if (window.AP && AP.resize) { AP.resize(); }
  });
})();
