// The repair request form: the visit's times are offered only for an on-site repair the customer
// asks to be repaired (the server ignores a time sent with anything else).
(function () {
  "use strict";
  var picker = document.getElementById("visit-times");
  if (!picker) return;
  var form = picker.closest("form");
  function update() {
    var mode = form.querySelector("input[name=mode]:checked");
    var remedy = form.querySelector("[name=remedy_wanted]");
    var show = (!mode || mode.value === picker.dataset.whenMode) && (!remedy || remedy.value === picker.dataset.whenRemedy);
    picker.hidden = !show;
    if (!show) {
      picker.querySelectorAll("input[name=window_start]").forEach(function (input) { input.checked = false; });
    }
  }
  form.addEventListener("change", update);
  update();
})();
