// The quote form's part picker: while staff type a part number or name, ask the server for the
// merchant's matching parts (those fitting the repair's product first) and offer them in a
// datalist; picking one fills its description and price, which stay editable. Without this
// script staff type the part number and the server fills the rest from the catalogue.
(function () {
  "use strict";
  if (!window.fetch) return;
  var inputs = document.querySelectorAll("input[data-part-search]");
  if (!inputs.length) return;
  var list = document.getElementById("quote-parts");
  if (!list) {
    list = document.createElement("datalist");
    list.id = "quote-parts";
    document.body.appendChild(list);
  }
  var found = {};
  var pending = null;
  var timer = null;

  function sibling(input, name) {
    return input.form && input.form.querySelector("[name=" + name + "_" + input.dataset.line + "]");
  }

  function search(input) {
    if (pending) pending.abort();
    pending = new AbortController();
    var url = input.dataset.partSearch + "?" + new URLSearchParams({ q: input.value.trim() });
    fetch(url, { credentials: "same-origin", signal: pending.signal, headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { parts: [] }; })
      .then(function (answer) {
        list.textContent = "";
        answer.parts.forEach(function (part) {
          found[part.part_number] = part;
          var option = document.createElement("option");
          option.value = part.part_number;
          option.label = part.label;
          option.textContent = part.label;
          list.appendChild(option);
        });
        fill(input);
      })
      .catch(function () { /* aborted by newer typing, or offline: keep what is offered */ });
  }

  function fill(input) {
    var part = found[input.value.trim()];
    if (!part || input.dataset.filled === part.part_number) return;
    input.dataset.filled = part.part_number;
    var description = sibling(input, "part_description");
    var price = sibling(input, "part_price");
    var quantity = sibling(input, "part_quantity");
    if (description) description.value = part.name;
    if (price) price.value = part.price;
    if (quantity && !quantity.value) quantity.value = "1";
  }

  inputs.forEach(function (input) {
    input.addEventListener("focus", function () { search(input); });
    input.addEventListener("input", function () {
      fill(input);
      clearTimeout(timer);
      timer = setTimeout(function () { search(input); }, 250);
    });
    input.addEventListener("change", function () { fill(input); });
  });
})();
