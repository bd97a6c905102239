/* The note editor: autosave of what is typed as the user's draft, and small conveniences.
 * Progressive enhancement only: without this file the form posts the whole note as usual.
 * The draft goes to the form's data-autosave-url with the form's own fields (the CSRF token
 * included): by fetch about 5 s after typing stops, and by navigator.sendBeacon when the page
 * is hidden or left. Nothing of the note's text is kept in the browser. */
(function () {
  "use strict";
  var form = document.querySelector("form.note-form[data-autosave-url]");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave-url");
  var statusEl = document.getElementById("autosave-status");
  var DELAY = 5000;
  var timer = null;
  var dirty = false;
  var submitting = false;

  function say(text) { if (statusEl && text) { statusEl.textContent = text; } }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function now() { var d = new Date(); return two(d.getHours()) + "." + two(d.getMinutes()); }

  function save() {
    timer = null;
    if (!dirty || submitting) { return; }
    dirty = false;
    say(form.getAttribute("data-msg-saving"));
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (response.status === 204) {
          say(form.getAttribute("data-msg-saved").replace("{time}", now()));
        } else {
          dirty = true;
          say(form.getAttribute("data-msg-failed"));
        }
      })
      .catch(function () { dirty = true; say(form.getAttribute("data-msg-failed")); });
  }

  function changed() {
    dirty = true;
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, DELAY);
  }

  function flush() {
    if (!dirty || submitting || !navigator.sendBeacon) { return; }
    if (navigator.sendBeacon(url, new FormData(form))) {
      dirty = false;
      if (timer) { clearTimeout(timer); timer = null; }
    }
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    submitting = true;
    if (timer) { clearTimeout(timer); timer = null; }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  window.addEventListener("pagehide", flush);

  /* The chosen themes shown under the collapsed list, kept up to date. */
  function showThemes(passage) {
    var names = [];
    passage.querySelectorAll("details.themes input[type=checkbox]:checked").forEach(function (box) {
      var label = passage.querySelector("label[for='" + box.id + "']");
      if (label) { names.push(label.firstChild.textContent.trim()); }
    });
    var count = passage.querySelector(".theme-count");
    if (count) { count.textContent = "(" + names.length + ")"; }
    var chosen = passage.querySelector(".chosen-themes");
    if (chosen) {
      chosen.textContent = "";
      names.forEach(function (name) {
        var tag = document.createElement("span");
        tag.className = "theme-tag";
        tag.textContent = name;
        chosen.appendChild(document.createTextNode(" "));
        chosen.appendChild(tag);
      });
    }
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    var passage = target.closest("fieldset.passage");
    if (!passage) { return; }
    if (target.closest("details.themes")) { showThemes(passage); }
    /* Choosing why a quote was chosen makes the passage a quote. */
    if (target.type === "radio" && target.name.slice(-13) === ".quote_reason" && target.checked) {
      var citat = passage.querySelector("input[name$='.citat']");
      if (citat) { citat.checked = true; }
    }
  });

  /* "Add a passage": a copy of the section's empty slot with the next index. */
  function renumber(node, key, from, to) {
    var names = [key + "." + from + ".", "p-" + key + "-" + from + "-"];
    var repl = [key + "." + to + ".", "p-" + key + "-" + to + "-"];
    ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
      node.querySelectorAll("[" + attr + "]").forEach(function (el) {
        var value = el.getAttribute(attr);
        for (var i = 0; i < names.length; i++) { value = value.split(names[i]).join(repl[i]); }
        el.setAttribute(attr, value);
      });
    });
  }

  form.querySelectorAll("section.note-section").forEach(function (section) {
    var slots = section.querySelectorAll("fieldset.passage-new");
    if (!slots.length) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "add-passage";
    button.textContent = form.getAttribute("data-msg-add");
    slots[slots.length - 1].insertAdjacentElement("afterend", button);
    button.addEventListener("click", function () {
      var all = section.querySelectorAll("fieldset.passage");
      var last = section.querySelectorAll("fieldset.passage-new");
      var template = last[last.length - 1];
      var key = template.getAttribute("data-section");
      var from = template.getAttribute("data-index");
      var to = 0;
      all.forEach(function (p) { to = Math.max(to, parseInt(p.getAttribute("data-index"), 10) + 1); });
      var copy = template.cloneNode(true);
      copy.setAttribute("data-index", String(to));
      renumber(copy, key, from, to);
      copy.querySelectorAll("textarea").forEach(function (t) { t.value = ""; });
      copy.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (b) { b.checked = false; });
      copy.querySelectorAll("details").forEach(function (d) { d.open = false; });
      copy.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      var label = copy.querySelector("label[for$='-text']");
      if (label && section.getAttribute("data-label")) {
        label.textContent = section.getAttribute("data-label").replace("{n}", String(to + 1));
      }
      showThemes(copy);
      button.insertAdjacentElement("beforebegin", copy);
      var area = copy.querySelector("textarea");
      if (area) { area.focus(); }
    });
  });
}());
