// Shared page script: every call to our API carries a fresh context token from AP.context.getToken().
(function () {
  "use strict";

  function contextToken() {
    return new Promise(function (resolve, reject) {
      if (!window.AP || !AP.context) { reject(new Error("Open this page from Jira.")); return; }
      AP.context.getToken(function (token) { token ? resolve(token) : reject(new Error("No token from Jira.")); });
    });
  }

  // An Error with the HTTP status and the API's error object, so callers can react to 409s and the like.
  function failure(response, body) {
    const detail = body && body.error ? body.error : {};
    const error = new Error(detail.message || "The app answered " + response.status + ". Please try again.");
    error.status = response.status;
    error.body = detail;
    return error;
  }

  async function request(path, options) {
    const token = await contextToken();
    const init = Object.assign({}, options || {});
    init.headers = Object.assign({ Authorization: "JWT " + token, Accept: "application/json" }, init.headers || {});
    if (init.json !== undefined) {
      init.body = JSON.stringify(init.json);
      init.headers["Content-Type"] = "application/json";
      delete init.json;
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (cause) {
      throw new Error("The app could not be reached. Check your connection and try again.");
    }
    if (!response.ok) {
      const isJson = (response.headers.get("content-type") || "").includes("json");
      throw failure(response, isJson ? await response.json() : null);
    }
    return response;
  }

  async function api(path, options) {
    const response = await request(path, options);
    return (response.headers.get("content-type") || "").includes("json") ? response.json() : null;
  }

  async function html(path) {
    const response = await request(path, { headers: { Accept: "text/html" } });
    return response.text();
  }

  window.dtg = { api: api, html: html, request: request, token: contextToken };

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
