// The customer's signature drawn on the technician's phone: pointer strokes on a canvas, sent as
// a PNG data URL in the form's hidden field when the form is submitted (nothing when untouched).
(function () {
  "use strict";
  document.querySelectorAll("[data-signature-form]").forEach(function (form) {
    var pad = form.querySelector("[data-signature-pad]");
    var value = form.querySelector("[data-signature-value]");
    var clear = form.querySelector("[data-signature-clear]");
    if (!pad || !value) return;
    var context = pad.getContext("2d");
    var drawing = false;
    var signed = false;
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.strokeStyle = "#111";

    function point(event) {
      var box = pad.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (pad.width / box.width),
        y: (event.clientY - box.top) * (pad.height / box.height),
      };
    }
    pad.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      pad.setPointerCapture(event.pointerId);
      var p = point(event);
      drawing = true;
      context.beginPath();
      context.moveTo(p.x, p.y);
    });
    pad.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      context.lineTo(p.x, p.y);
      context.stroke();
      signed = true;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      pad.addEventListener(name, function () { drawing = false; });
    });
    if (clear) {
      clear.addEventListener("click", function () {
        context.clearRect(0, 0, pad.width, pad.height);
        signed = false;
        value.value = "";
      });
    }
    form.addEventListener("submit", function () {
      value.value = signed ? pad.toDataURL("image/png") : "";
    });
  });
})();
