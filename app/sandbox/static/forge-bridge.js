// The Jira sandbox's stand-in for what Forge puts in a Custom UI iframe: `window.__bridge.callBridge`, which
// @forge/bridge (invokeRemote, requestRemote, showFlag, router, view.getContext...) calls for everything.
// Like all.js for Connect, it only posts to the host page, which answers (app/sandbox/static/host.js).
// The sandbox serves the resource itself, so the host page has this frame's origin.
(function () {
  "use strict";
  if (window.__bridge) return;

  var hostOrigin = window.location.origin;
  var pending = {};
  var nextId = 1;

  function callBridge(method, payload) {
    return new Promise(function (resolve, reject) {
      if (window.parent === window) {
        reject(new Error("@forge/bridge " + method + ": this page is not inside a Jira (sandbox) page"));
        return;
      }
      var id = nextId++;
      pending[id] = { resolve: resolve, reject: reject };
      window.parent.postMessage({ dtg: "forge", id: id, method: method, args: payload === undefined ? null : payload }, hostOrigin);
    });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    var data = event.data || {};
    if (data.dtg !== "forge-reply" || !pending[data.id]) return;
    var waiting = pending[data.id];
    delete pending[data.id];
    if (data.error) waiting.reject(new Error(data.error));
    else waiting.resolve(data.result);
  });

  window.__bridge = { callBridge: callBridge };
})();
