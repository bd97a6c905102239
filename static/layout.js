/* Wide tables: a table's scroll region (.table-scroll) that is narrower than its table gets the class
 * "is-scrollable" and a short hint above it, so that a phone user sees there is more to the side.
 * Progressive enhancement only: without this file the regions still scroll and show their edge shadows.
 * The hint's words come from the page (<html data-scroll-hint>), in the user's language. */
(function () {
  "use strict";
  var text = document.documentElement.getAttribute("data-scroll-hint");
  var regions = Array.prototype.slice.call(document.querySelectorAll(".table-scroll"));
  if (!text || !regions.length) { return; }
  var hints = regions.map(function (region) {
    var hint = document.createElement("p");
    hint.className = "scroll-hint";
    hint.hidden = true;
    hint.textContent = text;
    region.parentNode.insertBefore(hint, region);
    return hint;
  });
  function update() {
    regions.forEach(function (region, i) {
      // clientWidth is 0 inside a closed <details>: not wide until it is shown.
      var wide = region.clientWidth > 0 && region.scrollWidth > region.clientWidth + 1;
      region.classList.toggle("is-scrollable", wide);
      hints[i].hidden = !wide;
    });
  }
  update();
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending === null) { pending = window.requestAnimationFrame(function () { pending = null; update(); }); }
  });
  document.addEventListener("toggle", update, true);  // a table inside <details> that opens
}());
