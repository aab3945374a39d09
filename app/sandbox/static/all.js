// The Jira sandbox's stand-in for Atlassian's all.js: `window.AP` inside an app iframe.
// Like the real one it talks to the host page with postMessage and trusts only the host's origin.
// @see https://developer.atlassian.com/cloud/jira/platform/about-the-javascript-api/
(function () {
  "use strict";
  if (window.AP) return;

  var script = document.currentScript;

  // The host origin: `xdm_e` of the iframe URL, else what the host put in the iframe's name (it survives
  // navigation inside the iframe), else the origin this script was served from (the sandbox itself).
  function findHostOrigin() {
    var xdm = new URLSearchParams(window.location.search).get("xdm_e");
    if (xdm) return new URL(xdm).origin;
    try {
      var options = JSON.parse(window.name).dtgSandbox;
      if (options && options.hostOrigin) return new URL(options.hostOrigin).origin;
    } catch (ignored) { /* a plain window name */ }
    return script && script.src ? new URL(script.src).origin : null;
  }

  var hostOrigin = findHostOrigin();
  var pending = {};
  var nextId = 1;
  var flags = {};

  function call(method, args) {
    return new Promise(function (resolve, reject) {
      if (window.parent === window || !hostOrigin) {
        reject(new Error("AP." + method + ": this page is not inside a Jira (sandbox) page"));
        return;
      }
      var id = nextId++;
      pending[id] = { resolve: resolve, reject: reject };
      window.parent.postMessage({ dtg: "ap", id: id, method: method, args: args || {} }, hostOrigin);
    });
  }

  // The real API takes a callback and, in recent versions, also returns a Promise.
  function withCallback(promise, callback) {
    if (typeof callback === "function") {
      promise.then(callback, function (error) { console.error(error); });
    }
    return promise;
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    var data = event.data || {};
    if (data.dtg === "ap-reply" && pending[data.id]) {
      var waiting = pending[data.id];
      delete pending[data.id];
      if (data.error) waiting.reject(new Error(data.error));
      else waiting.resolve(data.result);
    } else if (data.dtg === "ap-event" && data.name === "flag.close" && flags[data.flagId]) {
      delete flags[data.flagId];
    }
  });

  function unsupported(name) {
    return function () {
      console.warn("AP." + name + " is not supported in the Jira sandbox");
      return Promise.reject(new Error("AP." + name + " is not supported in the Jira sandbox"));
    };
  }

  function contentHeight() {
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }

  function resize(width, height) {
    call("resize", { width: width || null, height: height || contentHeight() }).catch(function () {});
  }

  var AP = {
    context: {
      getToken: function (callback) { return withCallback(call("getToken"), callback); },
      getContext: function (callback) { return withCallback(call("getContext"), callback); },
    },
    user: {
      getCurrentUser: function (callback) { return withCallback(call("getCurrentUser"), callback); },
    },
    resize: resize,
    sizeToParent: function () { call("sizeToParent").catch(function () {}); },
    flag: {
      create: function (options) {
        var flag = { _id: null, _closeRequested: false };
        var created = call("flag.create", {
          title: options.title, body: options.body, type: options.type || "info", close: options.close || "manual",
        }).then(function (result) {
          flag._id = result.flagId;
          flags[result.flagId] = flag;
          if (flag._closeRequested) flag.close();
        });
        flag.close = function () {
          if (flag._id === null) { flag._closeRequested = true; return; }
          call("flag.close", { flagId: flag._id }).catch(function () {});
        };
        created.catch(function (error) { console.error(error); });
        return flag;
      },
    },
    navigator: { go: unsupported("navigator.go"), reload: unsupported("navigator.reload") },
    request: unsupported("request"),
    dialog: { create: unsupported("dialog.create") },
    events: { on: unsupported("events.on"), emit: unsupported("events.emit") },
  };
  window.AP = AP;

  // Like the real all.js: data-options="sizeToParent:true" makes the iframe fill the page below it (and never grow
  // with its content); otherwise the iframe is kept as tall as its content unless the page says "resize:false".
  var options = (script && script.getAttribute("data-options")) || "";
  if (/sizeToParent:\s*true/.test(options)) {
    AP.sizeToParent();
  } else if (!/resize:\s*false/.test(options) && window.ResizeObserver) {
    var scheduled = false;
    new ResizeObserver(function () {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(function () { scheduled = false; resize(); });
    }).observe(document.documentElement);
  }
})();
