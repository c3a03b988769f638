/*
 * Hookline console: the little script the server-rendered pages need.
 *
 * A form (or button) with data-api="METHOD /api/v1/…" is sent to the JSON admin API as the
 * JSON its fields' names spell (`entry_methods[0].action`, `settings.social_proof.enabled`),
 * with the session cookie and the X-Hookline-Console header. The API's {code, detail, field}
 * errors are shown beside the field they name, and nothing typed is lost. On success the
 * page follows data-then (with {field} filled from the answer), shows data-ok, or reveals
 * what data-reveal names (a key shown once).
 *
 * Field hints: data-type="bool" (checkbox), "number", "lines" (one item per line), "json",
 * "datetime" (a local date-time sent as UTC RFC 3339; empty sends null), "nullable" (empty
 * sends null), "optional" (empty is left out).
 */
(function () {
  "use strict";

  function setPath(target, path, value) {
    var parts = [];
    path.replace(/([^.[\]]+)|\[(\d+)\]/g, function (_, name, index) {
      parts.push(index !== undefined ? Number(index) : name);
    });
    var node = target;
    for (var i = 0; i < parts.length - 1; i++) {
      var key = parts[i];
      if (node[key] === undefined) node[key] = typeof parts[i + 1] === "number" ? [] : {};
      node = node[key];
    }
    node[parts[parts.length - 1]] = value;
  }

  function compact(value) {
    // Arrays built from sparse indices (a removed row) close their gaps.
    if (Array.isArray(value)) return value.filter(function (item) { return item !== undefined; }).map(compact);
    if (value && typeof value === "object") {
      Object.keys(value).forEach(function (key) { value[key] = compact(value[key]); });
    }
    return value;
  }

  function fieldValue(input) {
    var type = input.getAttribute("data-type");
    if (input.type === "checkbox" && type !== "list") return input.checked;
    if (input.multiple) {
      return Array.prototype.filter.call(input.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
    }
    var text = input.value;
    switch (type) {
      case "number": return text.trim() === "" ? undefined : Number(text);
      case "lines": return text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
      case "json": return text.trim() === "" ? undefined : JSON.parse(text);
      case "datetime": return text === "" ? null : new Date(text).toISOString().replace(/\.000Z$/, "Z");
      case "nullable": return text.trim() === "" ? null : text;
      case "optional": return text.trim() === "" ? undefined : text;
      default: return text;
    }
  }

  function body(form) {
    var data = {};
    var inputs = form.querySelectorAll("input[name], select[name], textarea[name]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.disabled || input.closest("[data-skip]")) continue;
      if (input.type === "radio" && !input.checked) continue;
      var value;
      try { value = fieldValue(input); } catch (e) {
        throw { field: input.name, detail: "This is not valid JSON." };
      }
      if (value !== undefined) setPath(data, input.name, value);
    }
    return compact(data);
  }

  function clearErrors(scope) {
    scope.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    scope.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    scope.querySelectorAll("[data-form-error], [data-form-ok]").forEach(function (el) { el.hidden = true; });
  }

  function showError(scope, error) {
    var field = error.field;
    var place = field && scope.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
    var input = field && scope.querySelector('[name="' + CSS.escape(field) + '"]');
    if (place) {
      place.textContent = error.detail;
      place.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
      return;
    }
    var general = scope.querySelector("[data-form-error]") || document.querySelector("[data-form-error]");
    var text = error.detail + (field ? " (" + field + ")" : "");
    if (general) {
      general.textContent = text;
      general.hidden = false;
      general.focus && general.setAttribute("tabindex", "-1");
      general.focus();
    } else {
      window.alert(text);
    }
  }

  function fill(template, answer) {
    return template.replace(/\{([\w.]+)\}/g, function (_, path) {
      var value = path.split(".").reduce(function (node, key) { return node == null ? node : node[key]; }, answer);
      return encodeURIComponent(value == null ? "" : value);
    });
  }

  function send(element, payload) {
    var spec = element.getAttribute("data-api").split(" ");
    var method = spec[0], path = spec[1];
    var scope = element.tagName === "FORM" ? element : (element.closest("[data-scope]") || document);
    var confirmText = element.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) return;
    clearErrors(scope);
    var busy = element.tagName === "FORM" ? element.querySelectorAll("button") : [element];
    busy.forEach(function (b) { b.disabled = true; });
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "x-hookline-console": "1" }
    };
    if (payload !== undefined && method !== "GET" && method !== "DELETE") {
      options.headers["content-type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var answer = null;
        try { answer = text ? JSON.parse(text) : null; } catch (e) { answer = null; }
        if (!response.ok) {
          throw answer && answer.detail ? answer : { detail: "The server answered " + response.status + "." };
        }
        return answer;
      });
    }).then(function (answer) {
      busy.forEach(function (b) { b.disabled = false; });
      var reveal = element.getAttribute("data-reveal");
      if (reveal) {
        var target = document.querySelector(reveal);
        var value = element.getAttribute("data-reveal-field").split(".").reduce(function (n, k) { return n && n[k]; }, answer);
        target.querySelectorAll("[data-value]").forEach(function (el) { el.textContent = value; });
        target.querySelectorAll("[data-value-input]").forEach(function (el) { el.value = value; });
        target.hidden = false;
        target.focus();
        return;
      }
      var then = element.getAttribute("data-then");
      if (then) {
        window.location.assign(then === "reload" ? window.location.href : fill(then, answer || {}));
        return;
      }
      var ok = scope.querySelector("[data-form-ok]");
      if (ok) {
        ok.textContent = element.getAttribute("data-ok") || "Saved.";
        ok.hidden = false;
      }
    }).catch(function (error) {
      busy.forEach(function (b) { b.disabled = false; });
      showError(scope, error && error.detail ? error : { detail: "The server could not be reached. Nothing was lost: try again." });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-api")) return;
    event.preventDefault();
    var payload;
    try { payload = body(form); } catch (problem) { clearErrors(form); showError(form, problem); return; }
    send(form, payload);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-api]");
    if (button && !button.form) {
      event.preventDefault();
      var payload = button.hasAttribute("data-body") ? JSON.parse(button.getAttribute("data-body")) : undefined;
      send(button, payload);
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      var text = source.value !== undefined ? source.value : source.textContent;
      var done = function () { copy.textContent = "Copied"; };
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () {});
      else { source.select && source.select(); document.execCommand("copy"); done(); }
    }
  });

  // Show times in the viewer's own time zone (the page says UTC without a script).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = at.toLocaleString();
    });
    document.querySelectorAll("input[data-type=datetime][data-utc]").forEach(function (el) {
      var at = new Date(el.getAttribute("data-utc"));
      if (isNaN(at)) return;
      var local = new Date(at.getTime() - at.getTimezoneOffset() * 60000);
      el.value = local.toISOString().slice(0, 16);
    });
  });
})();
