/*
 * Hookline loader: the one script a site owner adds.
 *
 *   <div class="hookline-campaign" data-campaign="KEY"></div>
 *   <script async src="https://HOOKLINE/widget/hookline.js"></script>
 *
 * It reserves space for each widget, loads the WebAssembly widget once (from the directory
 * this script came from), mounts it in every `.hookline-campaign[data-campaign]`, and runs the
 * `window.Hookline` command queue: ["on", name, fn], ["off", name, fn], ["mount", element],
 * ["unmount", element]. It must never throw into the host page.
 */
(function () {
  "use strict";
  var w = window, d = document;
  if (w.__hooklineLoaded) return; // Included twice: the first copy does the work.
  w.__hooklineLoaded = true;

  var SELECTOR = ".hookline-campaign[data-campaign]";
  var NAMES = ["ready", "capture", "entry", "error", "login", "reward", "open", "close"];
  var RESERVED_HEIGHT = "400px"; // About the form's height, so the page does not jump.

  // The widget files sit beside this script; the API is on the same origin.
  var script = d.currentScript || d.querySelector('script[src*="hookline.js"]');
  var src = (script && script.src) || "";
  var base = src.slice(0, src.lastIndexOf("/") + 1);
  var apiBase = src ? new URL(src, d.baseURI).origin : location.origin;

  var listeners = {}; // name -> [fn]
  var widget = null; // The glue module once loaded.
  var failed = false;
  var pending = []; // Elements waiting for the widget.

  function logError(message, error) {
    try { console.error("Hookline: " + message, error || ""); } catch (e) { /* no console */ }
  }

  // One window listener per event name calls every `on` listener, then onHooklineEvent.
  function listen(name) {
    if (listeners[name]) return;
    listeners[name] = [];
    w.addEventListener("hookline:" + name, function (event) {
      var fns = listeners[name].slice();
      for (var i = 0; i < fns.length; i++) {
        try { fns[i](event.detail); } catch (e) { logError("listener for " + name + " threw", e); }
      }
      if (typeof w.onHooklineEvent === "function") {
        try { w.onHooklineEvent({ name: name, detail: event.detail }); } catch (e) {
          logError("onHooklineEvent threw", e);
        }
      }
    });
  }
  for (var n = 0; n < NAMES.length; n++) listen(NAMES[n]);

  function fire(el, name, detail) {
    try {
      el.dispatchEvent(new CustomEvent("hookline:" + name, { bubbles: true, composed: true, detail: detail }));
    } catch (e) { /* very old browser: nothing to tell */ }
  }

  function showFailure(el) {
    fire(el, "error", { campaign: el.getAttribute("data-campaign"), code: "campaign_unavailable",
      detail: "The Hookline widget could not be loaded." });
    if (el.shadowRoot || el.getAttribute("data-hookline-state") === "error") return;
    el.setAttribute("data-hookline-state", "error");
    var p = d.createElement("p");
    p.textContent = "This form could not be loaded. Please try again later.";
    el.appendChild(p);
  }

  function toElement(target) {
    return typeof target === "string" ? d.querySelector(target) : target;
  }

  // Reserve space until the widget has drawn itself (ready or error), then let it size itself.
  function reserve(el) {
    if (el.style.minHeight || el.getAttribute("data-hookline-state")) return;
    el.style.minHeight = RESERVED_HEIGHT;
    function release() {
      el.style.minHeight = "";
      el.removeEventListener("hookline:ready", release);
      el.removeEventListener("hookline:error", release);
    }
    el.addEventListener("hookline:ready", release);
    el.addEventListener("hookline:error", release);
  }

  function mount(el) {
    if (!el || el.nodeType !== 1) return;
    reserve(el);
    if (failed) return showFailure(el);
    if (!widget) {
      if (pending.indexOf(el) < 0) pending.push(el);
      return;
    }
    try { widget.mount(el, apiBase); } catch (e) { logError("mount failed", e); showFailure(el); }
  }

  function unmount(el) {
    var i = pending.indexOf(el);
    if (i >= 0) pending.splice(i, 1);
    if (widget && el) {
      try { widget.unmount(el); } catch (e) { logError("unmount failed", e); }
    }
  }

  function mountAll() {
    var els = d.querySelectorAll(SELECTOR);
    for (var i = 0; i < els.length; i++) mount(els[i]);
  }

  function run(cmd) {
    try {
      var name = cmd && cmd[0];
      if (name === "on" && typeof cmd[2] === "function") {
        listen(cmd[1]);
        listeners[cmd[1]].push(cmd[2]);
      } else if (name === "off" && listeners[cmd[1]]) {
        var fns = listeners[cmd[1]], at = fns.indexOf(cmd[2]);
        if (at >= 0) fns.splice(at, 1);
      } else if (name === "mount") {
        mount(toElement(cmd[1]));
      } else if (name === "unmount") {
        unmount(toElement(cmd[1]));
      } else {
        logError("unknown command", cmd);
      }
    } catch (e) { logError("command failed", e); }
  }

  // Replace the queue array with an object whose push runs commands at once.
  var queued = w.Hookline;
  w.Hookline = { push: function () { for (var i = 0; i < arguments.length; i++) run(arguments[i]); } };
  if (queued && queued.length) for (var q = 0; q < queued.length; q++) run(queued[q]);

  // A crash inside the widget is a WebAssembly trap that surfaces as an uncaught error (or
  // rejection). Turn ours into a `hookline:error` event on each widget instead.
  function onCrash(event) {
    var error = event.error || event.reason;
    if (!w.WebAssembly || !(error instanceof WebAssembly.RuntimeError)) return;
    if (String(error.stack).indexOf("hookline_widget") < 0) return; // Not ours.
    logError("the widget crashed", error);
    if (event.preventDefault) event.preventDefault();
    var els = d.querySelectorAll(SELECTOR);
    for (var i = 0; i < els.length; i++) {
      if (!els[i].shadowRoot) continue;
      els[i].setAttribute("data-hookline-state", "error");
      fire(els[i], "error", { campaign: els[i].getAttribute("data-campaign"), code: "internal",
        detail: "Sorry, something went wrong." });
    }
  }
  w.addEventListener("error", onCrash);
  w.addEventListener("unhandledrejection", onCrash);

  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();

  // Load the glue and the wasm once, then mount whatever is waiting.
  try {
    import(base + "hookline_widget.js")
      .then(function (glue) {
        return glue.default({ module_or_path: base + "hookline_widget_bg.wasm" }).then(function () {
          return glue;
        });
      })
      .then(function (glue) {
        widget = glue;
        var els = pending;
        pending = [];
        for (var i = 0; i < els.length; i++) mount(els[i]);
      }, function (e) {
        fail(e);
      });
  } catch (e) {
    fail(e);
  }

  function fail(e) {
    failed = true;
    logError("could not load the widget", e);
    var els = pending;
    pending = [];
    for (var i = 0; i < els.length; i++) showFailure(els[i]);
  }
})();
