// The host side of the sandbox's Connect bridge: answers AP calls that app iframes post to this page.
// Mirrors the real host: only the iframe's own window, from the app's origin, is listened to and answered.
(function () {
  "use strict";

  var FLAG_AUTO_CLOSE_MS = 8000;
  var nextFlagId = 1;

  function frameOf(source) {
    var frames = document.querySelectorAll("iframe.ap-iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  function context(frame) {
    return JSON.parse(frame.dataset.context || "{}");
  }

  function send(frame, message) {
    frame.contentWindow.postMessage(message, frame.dataset.appOrigin);
  }

  function closeFlag(frame, flagId) {
    var element = document.getElementById("ap-flag-" + flagId);
    if (!element) return;
    element.remove();
    send(frame, { dtg: "ap-event", name: "flag.close", flagId: flagId });
  }

  // A frame that asked to fill its parent keeps filling it when the window changes size.
  function fitToParent(frame) {
    var top = frame.getBoundingClientRect().top + window.scrollY;
    frame.style.height = Math.max(320, window.innerHeight - top - 16) + "px";
  }

  window.addEventListener("resize", function () {
    document.querySelectorAll("iframe[data-size-to-parent]").forEach(fitToParent);
  });
  // Forge sizes its full-page Custom UI frames to the page, without asking the app.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("iframe.forge-iframe[data-size-to-parent]").forEach(fitToParent);
  });

  var handlers = {
    getToken: function (frame) {
      return fetch("/_sandbox/context-token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          appKey: frame.dataset.appKey,
          moduleType: frame.dataset.moduleType,
          context: context(frame),
          as: frame.dataset.as,
        }),
      }).then(function (response) {
        if (!response.ok) throw new Error("context token: HTTP " + response.status);
        return response.json();
      }).then(function (body) { return body.token; });
    },
    getContext: function (frame) {
      return { jira: context(frame) };
    },
    getCurrentUser: function (frame) {
      return { atlassianAccountId: frame.dataset.accountId };
    },
    resize: function (frame, args) {
      if (args.height) frame.style.height = String(args.height).replace(/^(\d+)$/, "$1px");
      if (args.width) frame.style.width = String(args.width).replace(/^(\d+)$/, "$1px");
    },
    sizeToParent: function (frame) {
      frame.dataset.sizeToParent = "true";
      fitToParent(frame);
    },
    "flag.create": function (frame, args) {
      var flagId = nextFlagId++;
      var element = document.createElement("div");
      element.id = "ap-flag-" + flagId;
      element.className = "ap-flag " + (args.type || "info");
      element.setAttribute("role", args.type === "error" ? "alert" : "status");
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "×";
      close.setAttribute("aria-label", "Dismiss");
      close.addEventListener("click", function () { closeFlag(frame, flagId); });
      var title = document.createElement("strong");
      title.textContent = args.title || "";
      var body = document.createElement("div");
      body.textContent = args.body || "";  // text only: an app's flag must not inject markup into the host
      element.append(close, title, body);
      document.getElementById("ap-flags").append(element);
      if (args.close === "auto") setTimeout(function () { closeFlag(frame, flagId); }, FLAG_AUTO_CLOSE_MS);
      return { flagId: flagId };
    },
    "flag.close": function (frame, args) {
      closeFlag(frame, args.flagId);
    },
  };

  // The Forge app's Custom UI frames: @forge/bridge's calls, answered as Forge would (see forge-bridge.js).
  function forgeFrameOf(source) {
    var frames = document.querySelectorAll("iframe.forge-iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  function forgeCall(path, frame, args) {
    var extension = context(frame).extension;
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ as: frame.dataset.as, extension: extension }, args)),
    }).then(function (response) {
      if (!response.ok) return response.text().then(function (text) { throw new Error(path + ": HTTP " + response.status + " " + text); });
      return response.json();
    });
  }

  var forgeFlags = {};
  var forgeHandlers = {
    getContext: function (frame) { return context(frame); },
    invoke: function (frame, args) { return forgeCall("/_sandbox/forge/invoke", frame, { request: args }); },
    fetchRemote: function (frame, args) { return forgeCall("/_sandbox/forge/remote", frame, args); },
    showFlag: function (frame, args) {
      var shown = handlers["flag.create"](frame, {
        type: args.type, title: args.title, body: args.description, close: args.isAutoDismiss ? "auto" : "manual",
      });
      forgeFlags[args.id] = shown.flagId;
    },
    closeFlag: function (frame, args) { closeFlag(frame, forgeFlags[args.id]); },
    navigate: function (frame, args) {
      if (args.type === "new-tab") window.open(args.url, "_blank", "noopener");
      else window.location.assign(args.url);
    },
    reload: function () { window.location.reload(); },
  };

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.dtg !== "forge") return;
    var frame = forgeFrameOf(event.source);
    if (!frame || event.origin !== window.location.origin) {
      console.warn("Jira sandbox: ignored a bridge message from", event.origin);
      return;
    }
    var handler = forgeHandlers[data.method];
    var reply = function (message) { frame.contentWindow.postMessage(message, window.location.origin); };
    Promise.resolve()
      .then(function () {
        if (!handler) throw new Error("@forge/bridge " + data.method + " is not supported in the sandbox");
        return handler(frame, data.args || {});
      })
      .then(
        function (result) { reply({ dtg: "forge-reply", id: data.id, result: result === undefined ? null : result }); },
        function (error) { reply({ dtg: "forge-reply", id: data.id, error: String(error.message || error) }); }
      );
  });

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.dtg !== "ap") return;
    var frame = frameOf(event.source);
    if (!frame || event.origin !== frame.dataset.appOrigin) {
      console.warn("Jira sandbox: ignored a message from", event.origin);
      return;
    }
    var handler = handlers[data.method];
    Promise.resolve()
      .then(function () {
        if (!handler) throw new Error(data.method + " is not supported in the sandbox");
        return handler(frame, data.args || {});
      })
      .then(
        function (result) { send(frame, { dtg: "ap-reply", id: data.id, result: result === undefined ? null : result }); },
        function (error) { send(frame, { dtg: "ap-reply", id: data.id, error: String(error.message || error) }); }
      );
  });
})();
