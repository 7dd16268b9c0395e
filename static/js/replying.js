// The collision notice: while this agent types a reply, tell the server every few seconds; and
// every few seconds ask who else is replying to the ticket, and show it.
(function () {
  "use strict";
  var box = document.querySelector("[data-replying-url]");
  if (!box) return;
  var url = box.getAttribute("data-replying-url");
  var notice = box.querySelector(".collision-notice");
  var composer = document.querySelector(".composer textarea[name=body]");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var typingUntil = 0;
  var EVERY_MS = 8000;

  function show(data) {
    if (!notice) return;
    notice.textContent = data.notice || "";
    notice.hidden = !data.notice;
  }

  function tick() {
    var typing = Date.now() < typingUntil;
    var options = { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } };
    if (typing && tokenInput) {
      options.method = "POST";
      options.headers["X-CSRFToken"] = tokenInput.value;
    }
    fetch(url, options).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data) show(data);
    }).catch(function () { /* offline for a moment: try again at the next tick */ });
  }

  if (composer) {
    composer.addEventListener("input", function () {
      var wasIdle = Date.now() >= typingUntil;
      typingUntil = Date.now() + 20000;
      if (wasIdle) tick();
    });
  }
  tick();
  setInterval(tick, EVERY_MS);
})();
