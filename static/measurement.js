/* The kommun's measurement form: hides the questions that a skip rule jumps over.
 * Progressive enhancement only: without this file every question is shown, each rule is
 * explained in words beside its question, and the server ignores (and clears) the answers to
 * questions that are skipped. Mirrors coordinator/measurement/rules.py: walking in order, an
 * answer whose radio carries data-goto="N" skips every question before N. */
(function () {
  "use strict";
  var form = document.querySelector("form.m-form");
  if (!form) { return; }
  var questions = Array.prototype.slice.call(form.querySelectorAll(".m-question[data-position]"));

  function update() {
    var skipUntil = 0;
    questions.forEach(function (q) {
      var position = parseInt(q.getAttribute("data-position"), 10);
      var skipped = position < skipUntil;
      q.hidden = skipped;
      q.classList.toggle("m-is-skipped", skipped);
      if (skipped) { return; }
      var chosen = q.querySelector("input[type=radio][data-goto]:checked");
      if (chosen) {
        var target = parseInt(chosen.getAttribute("data-goto"), 10);
        if (target > position) { skipUntil = target; }
      }
    });
    // The server's note for questions skipped when the page was made: the hiding now says it.
    form.querySelectorAll(".m-skipped-note").forEach(function (note) { note.hidden = true; });
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.type === "radio") { update(); }
  });
  update();
}());
