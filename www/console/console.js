/*
 * Hookline console: the little script the server-rendered pages need.
 *
 * A form (or button) with data-api="METHOD /api/v1/…" is sent to the JSON admin API as the
 * JSON its fields' names spell (`entry_methods[0].action`, `settings.social_proof.enabled`),
 * with the session cookie and the X-Hookline-Console header. The API's {code, detail, field}
 * errors (and an `errors` list of {field, message, line, column}) are shown beside the
 * fields they name, a template's error with its line, column and a caret under the place,
 * and nothing typed is lost (an item of a one-a-line list is marked on its own line). On
 * success, in this order: data-reveal shows what the answer's
 * data-reveal-field holds (a key or secret shown once) in the element it names;
 * data-outcome renders the answer's test request outcome (`test`, or the answer itself)
 * into the element it names; data-add-option adds the created object to a select;
 * data-then goes to a page ({field} filled from the answer) or "reload"s; else data-say
 * (with {field}s of the answer) or data-ok is shown. A button with data-body-from="sel"
 * sends the fields of the elements `sel` names, even inside a larger form (the audience
 * preview).
 *
 * Field hints (data-type): "bool" (checkbox), "list" (checkboxes sharing a name: the
 * ticked values), "number", "numbers" (whole numbers separated by commas), "lines" (one
 * item per line), "headers" (one `Name: value` per line, an object), "json", "datetime" (a
 * local date-time sent as UTC RFC 3339; empty sends null), "nullable" (empty sends null),
 * "optional" (empty is left out). data-empty="null" sends null for an empty number or
 * list; data-wrap="key" sends {key: value} (null stays null); data-send="changed" leaves a
 * field out unless it was edited. Inputs in a disabled fieldset are not sent.
 *
 * Elsewhere: data-show-when="name=a|b" shows (and enables) an element only while the
 * control `name` has one of those values; data-insert="text" + data-target="id" types text
 * at the caret of a field; data-open-dialog="#id" opens a <dialog>; data-load="url" fills
 * an element with the request the admin API answers (the Example tab); data-live refreshes
 * an element from its page every few seconds while the page is visible (the History tab).
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
      if (node[key] === undefined || node[key] === null) node[key] = typeof parts[i + 1] === "number" ? [] : {};
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

  function problem(input, detail) {
    return { field: input.name, detail: detail };
  }

  function fieldValue(input) {
    var type = input.getAttribute("data-type");
    var emptyNull = input.getAttribute("data-empty") === "null";
    if (input.type === "checkbox") return input.checked;
    if (input.multiple) {
      return Array.prototype.filter.call(input.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
    }
    var text = input.value;
    switch (type) {
      case "number":
        if (text.trim() === "") return emptyNull ? null : undefined;
        if (!/^-?\d+(\.\d+)?$/.test(text.trim())) throw problem(input, "Write a number.");
        return Number(text);
      case "numbers": {
        if (text.trim() === "") return null;
        var items = text.split(/[\s,]+/).filter(Boolean);
        if (!items.every(function (item) { return /^\d+$/.test(item); })) {
          throw problem(input, "Write whole numbers separated by commas, like 60, 300, 3600.");
        }
        return items.map(Number);
      }
      case "lines": return text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
      case "headers": {
        var headers = {};
        var lines = text.split("\n");
        for (var i = 0; i < lines.length; i++) {
          var line = lines[i].trim();
          if (!line) continue;
          var colon = line.indexOf(":");
          if (colon < 1) throw problem(input, "Line " + (i + 1) + " is not a header: write Name: value.");
          headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
        }
        return headers;
      }
      case "json":
        if (text.trim() === "") return undefined;
        try { return JSON.parse(text); } catch (e) { throw problem(input, "This is not valid JSON."); }
      case "datetime": return text === "" ? null : new Date(text).toISOString().replace(/\.000Z$/, "Z");
      case "nullable": return text.trim() === "" ? null : text;
      case "optional": return text.trim() === "" ? undefined : text;
      default: return text;
    }
  }

  // Whether a person changed the field since the page was loaded.
  function edited(input) {
    if (input.tagName === "SELECT") {
      return Array.prototype.some.call(input.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return input.value !== input.defaultValue;
  }

  function body(form) {
    var data = {};
    var lists = {};
    var inputs = form.querySelectorAll("input[name], select[name], textarea[name]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.matches(":disabled") || input.closest("[data-skip]")) continue;
      if (input.type === "radio" && !input.checked) continue;
      if (input.getAttribute("data-send") === "changed" && !edited(input)) continue;
      if (input.getAttribute("data-type") === "list") {
        // Checkboxes sharing a name: the ticked values, in page order.
        var list = lists[input.name] || (lists[input.name] = { values: [], emptyNull: input.getAttribute("data-empty") === "null" });
        if (input.checked) list.values.push(input.value);
        continue;
      }
      var value = fieldValue(input);
      var wrap = input.getAttribute("data-wrap");
      if (wrap && value !== undefined && value !== null) {
        var wrapped = {};
        wrapped[wrap] = value;
        value = wrapped;
      }
      if (value !== undefined) setPath(data, input.name, value);
    }
    Object.keys(lists).forEach(function (name) {
      var list = lists[name];
      setPath(data, name, list.values.length === 0 && list.emptyNull ? null : list.values);
    });
    return compact(data);
  }

  function clearErrors(scope) {
    scope.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    scope.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    scope.querySelectorAll("[data-form-error], [data-form-ok]").forEach(function (el) { el.hidden = true; el.textContent = ""; });
  }

  // The error place for `field`, or for the nearest field it is part of
  // (`headers.X-Api-Key` → `headers`, `codes[3]` → `codes`), with what is left over.
  function placeFor(scope, field) {
    var path = field;
    while (path) {
      var place = scope.querySelector('[data-error-for="' + CSS.escape(path) + '"]');
      if (place) return { place: place, path: path, rest: field.slice(path.length).replace(/^[.[]/, "").replace(/\]$/, "") };
      var cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
      if (cut <= 0) break;
      path = path.slice(0, cut);
    }
    return null;
  }

  // The offset in `text` of 1-based `line` and `column` (counted in characters).
  function offsetOf(text, line, column) {
    var lines = text.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    return Math.min(text.length, offset + Math.max(0, column - 1));
  }

  function caretExcerpt(text, line, column) {
    var source = text.split("\n")[line - 1];
    if (source === undefined) return null;
    var pre = document.createElement("pre");
    pre.className = "caret";
    pre.textContent = source + "\n" + " ".repeat(Math.max(0, column - 1)) + "^";
    return pre;
  }

  function showError(scope, error) {
    var problems = Array.isArray(error.errors) && error.errors.length
      ? error.errors.map(function (p) { return { field: p.field, detail: p.message, line: p.line, column: p.column }; })
      : [{ field: error.field, detail: error.detail }];
    var first = null;
    var unplaced = [];
    problems.forEach(function (p) {
      var found = p.field && placeFor(scope, p.field);
      if (!found) { unplaced.push(p); return; }
      var input = scope.querySelector('[name="' + CSS.escape(found.path) + '"]');
      var rest = found.rest;
      if (input && input.getAttribute("data-type") === "lines" && /^\d+$/.test(rest)) {
        // Item N of a one-a-line list: the problem's line is that item's line of the field.
        var lines = input.value.split("\n"), item = -1;
        for (var k = 0; k < lines.length; k++) {
          if (!lines[k].trim()) continue;
          if (++item === Number(rest)) {
            p.line = k + (p.line || 1);
            p.column = (p.column || 1) + (lines[k].length - lines[k].replace(/^\s+/, "").length);
            rest = "";
            break;
          }
        }
      }
      var text = (rest ? rest + ": " : "") + p.detail;
      if (p.line) text = "Line " + p.line + ", column " + p.column + ": " + text;
      var line = document.createElement("span");
      line.textContent = text;
      if (found.place.childNodes.length) found.place.appendChild(document.createElement("br"));
      found.place.appendChild(line);
      if (p.line && input && typeof input.value === "string") {
        var excerpt = caretExcerpt(input.value, p.line, p.column);
        if (excerpt) found.place.appendChild(excerpt);
        if (!first) {
          var at = offsetOf(input.value, p.line, p.column);
          first = function () { input.focus(); input.setSelectionRange(at, at); };
        }
      }
      found.place.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = function () { input.focus(); };
      }
    });
    if (unplaced.length) {
      var general = scope.querySelector("[data-form-error]") || document.querySelector("[data-form-error]");
      var text = unplaced.map(function (p) { return p.detail + (p.field ? " (" + p.field + ")" : ""); }).join(" ");
      if (general) {
        general.textContent = text;
        general.hidden = false;
        general.setAttribute("tabindex", "-1");
        if (!first) first = function () { general.focus(); };
      } else {
        window.alert(text);
      }
    } else if (problems.length > 1) {
      var summary = scope.querySelector("[data-form-error]");
      if (summary) {
        summary.textContent = problems.length + " settings need a change: each is marked below.";
        summary.hidden = false;
      }
    }
    if (first) first();
  }

  function lookup(answer, path) {
    return path.split(".").reduce(function (node, key) { return node == null ? node : node[key]; }, answer);
  }

  function fill(template, answer) {
    return template.replace(/\{([\w.]+)\}/g, function (_, path) {
      var value = lookup(answer, path);
      return encodeURIComponent(value == null ? "" : value);
    });
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }

  // A request as text: the request line, the headers, a blank line, the body.
  function requestText(request) {
    var lines = [request.method + " " + request.url];
    request.headers.forEach(function (h) { lines.push(h.name + ": " + h.value); });
    return lines.join("\n") + "\n\n" + request.body + (request.body_truncated ? "\n[cut at 64 KiB]" : "");
  }

  function renderRequest(target, request) {
    target.textContent = "";
    var pre = make("pre", "request", requestText(request));
    pre.setAttribute("data-request", "");
    target.appendChild(pre);
  }

  // What a test request brought back (TestOutcome).
  function renderOutcome(target, outcome) {
    target.textContent = "";
    var box = make("div", "outcome " + (outcome.succeeded ? "good" : "bad"));
    box.setAttribute("data-succeeded", outcome.succeeded ? "true" : "false");
    var headline = outcome.status_code
      ? "Test request answered " + outcome.status_code + (outcome.succeeded ? " (success)" : " (failure)")
      : "Test request failed: " + (outcome.error_kind || "no answer");
    var title = make("p", "headline");
    title.appendChild(make("strong", null, headline));
    title.appendChild(document.createTextNode(" in " + outcome.latency_ms + " ms"));
    box.appendChild(title);
    if (outcome.error) box.appendChild(make("p", null, outcome.error));
    box.appendChild(make("h3", null, "Response"));
    box.appendChild(make("pre", "response", outcome.response_snippet || "(empty)"));
    if (outcome.request) {
      var details = make("details");
      details.appendChild(make("summary", null, "Request sent"));
      details.appendChild(make("pre", "request", requestText(outcome.request)));
      box.appendChild(details);
    }
    target.appendChild(box);
    target.hidden = false;
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
    element.setAttribute("aria-busy", "true");
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
      element.removeAttribute("aria-busy");
      answered(element, scope, answer || {});
    }).catch(function (error) {
      busy.forEach(function (b) { b.disabled = false; });
      element.removeAttribute("aria-busy");
      showError(scope, error && error.detail ? error : { detail: "The server could not be reached. Nothing was lost: try again." });
    });
  }

  function answered(element, scope, answer) {
    var focus = null;
    var reveal = element.getAttribute("data-reveal");
    if (reveal) {
      var target = document.querySelector(reveal);
      var value = lookup(answer, element.getAttribute("data-reveal-field"));
      target.querySelectorAll("[data-value]").forEach(function (el) { el.textContent = value; });
      target.querySelectorAll("[data-value-input]").forEach(function (el) { el.value = value; });
      target.querySelectorAll("[data-fill-href]").forEach(function (el) {
        el.setAttribute("href", fill(el.getAttribute("data-fill-href"), answer));
      });
      target.hidden = false;
      focus = target;
    }
    var outcomeShown = false;
    var outcomeTarget = element.getAttribute("data-outcome");
    if (outcomeTarget) {
      var outcome = answer.test !== undefined ? answer.test : answer;
      var place = document.querySelector(outcomeTarget);
      if (outcome && outcome.latency_ms !== undefined) {
        renderOutcome(place, outcome);
        outcomeShown = true;
        focus = focus || place;
      } else if (place) {
        place.hidden = true;
      }
    }
    var option = element.getAttribute("data-add-option");
    if (option) {
      var select = document.querySelector(option);
      var added = new Option(answer.name + " (" + answer.type + ")", answer.id, true, true);
      select.appendChild(added);
      select.value = answer.id;
      var dialog = element.closest("dialog");
      if (dialog) dialog.close();
      element.reset();
      applyShowWhen();
      select.focus();
      return;
    }
    if (element.hasAttribute("data-hide-on-success")) element.hidden = true;
    var then = element.getAttribute("data-then");
    if (then) {
      window.location.assign(then === "reload" ? window.location.href : fill(then, answer));
      return;
    }
    var ok = scope.querySelector("[data-form-ok]");
    var say = element.getAttribute("data-say");
    if (ok && !reveal && (say || element.hasAttribute("data-ok") || !outcomeShown)) {
      ok.textContent = say
        ? say.replace(/\{([\w.]+)\}/g, function (_, path) { return lookup(answer, path); })
        : element.getAttribute("data-ok") || "Saved.";
      ok.hidden = false;
      ok.setAttribute("tabindex", "-1");
      focus = focus || ok;
    }
    if (focus) {
      if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
      focus.focus();
    }
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
    if (button && (!button.form || button.hasAttribute("data-body-from"))) {
      event.preventDefault();
      var payload = button.hasAttribute("data-body") ? JSON.parse(button.getAttribute("data-body")) : undefined;
      var from = button.getAttribute("data-body-from");
      if (from) {
        // The fields of these elements (of a larger form), as one body.
        payload = {};
        try {
          document.querySelectorAll(from).forEach(function (part) { Object.assign(payload, body(part)); });
        } catch (problem) {
          var scope = button.closest("[data-scope]") || document;
          clearErrors(scope);
          showError(scope, problem);
          return;
        }
      }
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
      return;
    }
    var insert = event.target.closest("[data-insert]");
    if (insert) {
      var field = document.getElementById(insert.getAttribute("data-target"));
      var snippet = insert.getAttribute("data-insert");
      var start = field.selectionStart === undefined ? field.value.length : field.selectionStart;
      var end = field.selectionEnd === undefined ? start : field.selectionEnd;
      field.setRangeText(snippet, start, end, "end");
      field.focus();
      return;
    }
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.querySelector(opener.getAttribute("data-open-dialog"));
      dialog.showModal();
      dialog.addEventListener("close", function () { opener.focus(); }, { once: true });
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });

  // data-show-when: shown and enabled only while the named control has one of the values.
  function applyShowWhen() {
    document.querySelectorAll("[data-show-when]").forEach(function (el) {
      var rule = el.getAttribute("data-show-when");
      var cut = rule.indexOf("=");
      var name = rule.slice(0, cut), values = rule.slice(cut + 1).split("|");
      var scope = el.closest("form") || document;
      var control = scope.querySelector('[name="' + CSS.escape(name) + '"]');
      if (!control) return;
      var current = control.type === "checkbox" ? String(control.checked) : control.value;
      var on = values.indexOf(current) !== -1;
      el.hidden = !on;
      if (el.tagName === "FIELDSET") el.disabled = !on;
    });
  }
  document.addEventListener("change", applyShowWhen);

  // data-load: the request the admin API answers, shown as text (the Example tab).
  function load(el) {
    el.setAttribute("aria-busy", "true");
    fetch(el.getAttribute("data-load"), { credentials: "same-origin" }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) throw answer;
        return answer;
      });
    }).then(function (request) {
      renderRequest(el, request);
      el.removeAttribute("aria-busy");
    }).catch(function (error) {
      el.removeAttribute("aria-busy");
      el.textContent = "";
      el.appendChild(make("p", "form-error", (error && error.detail) || "The example could not be loaded."));
    });
  }

  // data-live: the element is fetched again from its page every few seconds while the page
  // is visible, and replaced when it changed (keeping focus on the same control).
  function live(el, served) {
    var timer = window.setInterval(function () {
      if (document.visibilityState !== "visible" || document.querySelector("[aria-busy=true]")) return;
      fetch(window.location.href, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(el.id);
        if (!fresh) { window.clearInterval(timer); return; }
        // Once nothing is waiting any more, this is the last refresh.
        if (!fresh.hasAttribute("data-live")) window.clearInterval(timer);
        if (fresh.innerHTML === served) return;
        served = fresh.innerHTML;
        var focused = document.activeElement && el.contains(document.activeElement) ? document.activeElement.id : null;
        el.innerHTML = fresh.innerHTML;
        localTimes(el);
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      }, function () {});
    }, 2500);
  }

  // Show times in the viewer's own time zone (the page says UTC without a script).
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = at.toLocaleString();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // What the server sent, before times are shown locally: what a refresh compares with.
    var served = Array.prototype.map.call(document.querySelectorAll("[data-live][id]"), function (el) {
      return [el, el.innerHTML];
    });
    localTimes(document);
    document.querySelectorAll("input[data-type=datetime][data-utc]").forEach(function (el) {
      var at = new Date(el.getAttribute("data-utc"));
      if (isNaN(at)) return;
      var local = new Date(at.getTime() - at.getTimezoneOffset() * 60000);
      el.value = local.toISOString().slice(0, 16);
      el.defaultValue = el.value;
    });
    applyShowWhen();
    document.querySelectorAll("[data-load]").forEach(load);
    served.forEach(function (pair) { live(pair[0], pair[1]); });
  });
})();
