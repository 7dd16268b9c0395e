// The queue's filters apply as soon as one changes (the search after a pause in typing), so the
// "Filter" button is only for a browser without JavaScript, which keeps it. The header's box
// ticks every ticket of the page for the bulk form.
(function () {
  "use strict";
  var filters = document.querySelector("form[data-apply-on-change]");
  if (filters) {
    var button = filters.querySelector("[data-filter-button]");
    // Not the hidden attribute: the button class sets display, which would win over it.
    if (button) button.style.display = "none";
    var apply = function () {
      if (filters.requestSubmit) filters.requestSubmit(); else filters.submit();
    };
    filters.addEventListener("change", function (event) {
      if (event.target.type !== "search") apply();
    });
    var timer = null;
    filters.addEventListener("input", function (event) {
      if (event.target.type !== "search") return;
      window.clearTimeout(timer);
      timer = window.setTimeout(apply, 600);
    });
  }
  var all = document.querySelector("[data-select-all]");
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="tickets"][form="queue-bulk"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
})();
