// The dispatch board's drag and drop, on top of the click forms: drag a visit (a block on a
// technician's row, or a job in the unassigned list) onto another technician's row to assign it
// there, or onto the unassigned list to take it back. The drop submits that visit's own assign form
// (its CSRF token, start time and pin kept) with the technician changed, so the server, its checks
// and its messages are the ones of a click; keyboards and phones keep using the forms.
(function () {
  "use strict";
  var board = document.querySelector("[data-dispatch-board]");
  if (!board || !("draggable" in document.createElement("span"))) return;
  var dragged = null;

  function clearTargets() {
    board.querySelectorAll(".is-drop-target").forEach(function (target) {
      target.classList.remove("is-drop-target");
    });
  }

  board.querySelectorAll("[data-drag-visit]").forEach(function (item) {
    item.setAttribute("draggable", "true");
    item.classList.add("is-draggable");
    item.addEventListener("dragstart", function (event) {
      dragged = item;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.dragVisit);
      item.classList.add("is-dragging");
    });
    item.addEventListener("dragend", function () {
      item.classList.remove("is-dragging");
      clearTargets();
      dragged = null;
    });
  });

  board.querySelectorAll("[data-drop-technician]").forEach(function (target) {
    target.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      target.classList.add("is-drop-target");
    });
    target.addEventListener("dragleave", function (event) {
      if (!target.contains(event.relatedTarget)) target.classList.remove("is-drop-target");
    });
    target.addEventListener("drop", function (event) {
      event.preventDefault();
      clearTargets();
      if (!dragged) return;
      var form = dragged.querySelector("form.dispatch-assign");
      var select = form && form.querySelector("select[name=technician]");
      if (!select || select.value === target.dataset.dropTechnician) return;
      select.value = target.dataset.dropTechnician;
      board.setAttribute("aria-busy", "true");
      // Submitted once the drop has finished, so the browser ends the drag before it navigates.
      setTimeout(function () {
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      }, 0);
    });
  });
})();
