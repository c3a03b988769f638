/*
 * Hookline loader: the one script a site owner adds.
 *
 *   <div class="hookline-campaign" data-campaign="KEY"></div>
 *   <script async src="https://HOOKLINE/widget/hookline.js"></script>
 *
 * It reserves space for each widget, loads the WebAssembly widget once (from the directory
 * this script came from), mounts it in every `.hookline-campaign[data-campaign]`, and runs the
 * `window.Hookline` command queue: ["on", name, fn], ["off", name, fn], ["open", key],
 * ["close", key], ["mount", element], ["unmount", element]. Where the page's
 * Content-Security-Policy forbids WebAssembly, it shows the campaign's hosted page instead
 * (an iframe and a link). It must never throw into the host page.
 *
 * The bundle serves it minified (xtask/src/bundle.rs), under its 3 KB gzipped budget.
 */
(function () {
  "use strict";
  var w = window, d = document;
  // Included twice: the first copy does the work.
  if (w.__hooklineLoaded) return;
  w.__hooklineLoaded = true;

  var SELECTOR = ".hookline-campaign[data-campaign]";
  var NAMES = ["ready", "login", "capture", "entry", "reward", "open", "close", "error", "notification"];
  // About the form's height, so the page does not jump.
  var RESERVED_HEIGHT = "400px";
  var OVERLAYS = /^(modal|bar|exit_intent)$/;

  // The widget files sit beside this script; the API is on the same origin.
  var script = d.currentScript || d.querySelector('script[src*="hookline.js"]');
  var src = (script && script.src) || "";
  var base = src.slice(0, src.lastIndexOf("/") + 1);
  var apiBase = src ? new URL(src, d.baseURI).origin : location.origin;

  // name -> [fn]
  var listeners = {};
  // The glue module once loaded.
  var widget = null;
  var failed = false;
  var cspBlocked = false;
  // Elements waiting for the widget, and open/close commands waiting for it.
  var pending = [];
  var later = [];

  function logError(message, error) {
    try { console.error("Hookline: " + message, error || ""); } catch (e) { }
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
    } catch (e) { }
  }

  function key(el) { return el.getAttribute("data-campaign"); }

  // Without WebAssembly (the page's CSP forbids it) the campaign's hosted page stands in:
  // in an iframe, and as a link for pages that forbid frames too. Otherwise a short notice.
  function showFailure(el) {
    var csp = cspBlocked;
    fire(el, "error", { campaign: key(el), code: csp ? "wasm_blocked" : "campaign_unavailable",
      detail: csp ? "This page does not allow WebAssembly; showing the hosted campaign page."
        : "The Hookline widget could not be loaded.", field: null });
    if (el.shadowRoot || /^(error|fallback)$/.test(el.getAttribute("data-hookline-state"))) return;
    el.setAttribute("data-hookline-state", csp ? "fallback" : "error");
    el.style.minHeight = "";
    var lang = el.getAttribute("data-lang") || "";
    var fr = /^fr/i.test(lang);
    var page = apiBase + "/c/" + encodeURIComponent(key(el)) + (lang ? "?lang=" + encodeURIComponent(lang) : "");
    if (csp) {
      var frame = d.createElement("iframe");
      frame.src = page;
      frame.title = key(el);
      frame.setAttribute("style", "display:block;width:100%;height:620px;border:0");
      el.appendChild(frame);
    }
    var p = d.createElement("p");
    var a = d.createElement("a");
    a.href = page;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = fr ? "Ouvrir la campagne" : "Open the campaign";
    if (!csp) p.textContent = (fr ? "Ce formulaire n'a pas pu être chargé. " : "This form could not be loaded. ");
    p.appendChild(a);
    el.appendChild(p);
  }

  function toElement(target) {
    return typeof target === "string" ? d.querySelector(target) : target;
  }

  // Keep the element shown whatever the page's generic CSS says (`div { display: none }`),
  // and reserve space until the widget has drawn itself (ready or error).
  function reserve(el) {
    el.style.setProperty("display", "block", "important");
    if (el.style.minHeight || el.getAttribute("data-hookline-state")) return;
    if (OVERLAYS.test(el.getAttribute("data-display") || "")) return;
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

  // ["open", key] / ["close", key]: every widget of that campaign (all widgets without a key).
  function toggle(name, k) {
    if (!widget) return later.push([name, k]);
    var els = d.querySelectorAll(SELECTOR);
    for (var i = 0; i < els.length; i++) {
      if (k == null || key(els[i]) === String(k)) {
        try { widget[name](els[i]); } catch (e) { logError(name + " failed", e); }
      }
    }
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
      } else if (name === "open" || name === "close") {
        toggle(name, cmd[1]);
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
    // Not ours.
    if (String(error.stack).indexOf("hookline_widget") < 0) return;
    logError("the widget crashed", error);
    if (event.preventDefault) event.preventDefault();
    var els = d.querySelectorAll(SELECTOR);
    for (var i = 0; i < els.length; i++) {
      if (!els[i].shadowRoot) continue;
      els[i].setAttribute("data-hookline-state", "error");
      fire(els[i], "error", { campaign: key(els[i]), code: "internal",
        detail: "Sorry, something went wrong.", field: null });
    }
  }
  w.addEventListener("error", onCrash);
  w.addEventListener("unhandledrejection", onCrash);
  // The page's CSP refused to compile our WebAssembly (or to load our files).
  d.addEventListener("securitypolicyviolation", function (e) {
    var uri = String(e.blockedURI);
    if (uri === "wasm-eval" || (base && uri.indexOf(base) === 0)) cspBlocked = true;
  });
  // Back online: send what waits. Pointer out through the top: exit-intent widgets open.
  w.addEventListener("online", function () { if (widget) widget.online(); });
  d.addEventListener("mouseout", function (e) {
    if (widget && !e.relatedTarget && e.clientY <= 0) widget.exit_intent();
  });

  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();

  function fail(e) {
    failed = true;
    if ((w.WebAssembly && e instanceof WebAssembly.CompileError) || (e && e.name === "EvalError")) cspBlocked = true;
    logError("could not load the widget", e);
    var els = pending;
    pending = [];
    for (var i = 0; i < els.length; i++) showFailure(els[i]);
  }

  // Load the glue and the wasm once, then mount whatever is waiting and run what waited.
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
        var cmds = later;
        later = [];
        for (var c = 0; c < cmds.length; c++) toggle(cmds[c][0], cmds[c][1]);
      }, fail);
  } catch (e) {
    fail(e);
  }
})();
