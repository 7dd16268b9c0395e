// While a customer types a new request, show the knowledge-base articles that may answer it.
// Debounced; the server renders the fragment (escaped, translated). Without this script the form
// still links to the help centre's search page.
(function () {
  "use strict";
  var box = document.getElementById("help-suggestions");
  if (!box || !window.fetch) return;
  var form = box.closest("form");
  var subject = form && form.querySelector("[name=subject]");
  var description = form && form.querySelector("[name=description]");
  var timer = null;
  var lastQuery = "";
  var pending = null;

  function question() {
    var text = ((subject && subject.value) || "") + " " + ((description && description.value) || "");
    return text.trim().slice(0, 200);
  }

  function ask() {
    var q = question();
    if (q === lastQuery) return;
    lastQuery = q;
    if (q.length < 2) { box.innerHTML = ""; return; }
    if (pending) pending.abort();
    pending = new AbortController();
    var url = box.dataset.suggestUrl + "?" + new URLSearchParams({ q: q, order: box.dataset.order || "" });
    fetch(url, { credentials: "same-origin", signal: pending.signal, headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* aborted by a newer question, or offline: keep what is shown */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 350);
  }

  [subject, description].forEach(function (field) {
    if (field) field.addEventListener("input", later);
  });
})();
