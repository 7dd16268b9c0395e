/* Ticks the dashboard's deadline countdowns every 30 seconds. The server renders each one in
 * full ("in 42 min", "3 h 5 min overdue"); this only keeps it true while the page stays open.
 * The words come from the page (#countdown-formats), so they follow its language. */
(function () {
  "use strict";

  var source = document.getElementById("countdown-formats");
  if (!source) { return; }
  var formats = JSON.parse(source.textContent);
  var MINUTES_PER_DAY = 24 * 60;
  var STATES = ["normal", "warning", "breached"];

  function fill(format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  function duration(minutes) {
    var units = formats.units;
    var days = Math.floor(minutes / MINUTES_PER_DAY);
    var hours = Math.floor((minutes % MINUTES_PER_DAY) / 60);
    var rest = minutes % 60;
    var parts;
    if (days) {
      parts = [fill(units.days, { n: days })];
      if (hours) { parts.push(fill(units.hours, { n: hours })); }
    } else if (hours) {
      parts = [fill(units.hours, { n: hours })];
      if (rest) { parts.push(fill(units.minutes, { n: rest })); }
    } else {
      parts = [fill(units.minutes, { n: rest })];
    }
    return parts.join(" ");
  }

  function update(clock, now) {
    var due = Date.parse(clock.getAttribute("data-due"));
    if (isNaN(due)) { return; }
    var warn = Date.parse(clock.getAttribute("data-warn") || "");
    var seconds = (due - now) / 1000;
    var state = "normal";
    if (clock.hasAttribute("data-escalated") || seconds <= 0) {
      state = "breached";
    } else if (!isNaN(warn) && warn <= now) {
      state = "warning";
    }
    var text = seconds > 0
      ? fill(formats["in"], { duration: duration(Math.floor(seconds / 60)) })
      : fill(formats.overdue, { duration: duration(Math.floor(-seconds / 60)) });
    var label = clock.querySelector(".countdown__text");
    if (label && label.textContent !== text) { label.textContent = text; }
    var badge = clock.querySelector(".countdown__badge");
    if (badge && formats.states[state]) { badge.textContent = formats.states[state]; }
    STATES.forEach(function (name) {
      clock.classList.toggle("countdown--" + name, name === state);
    });
  }

  function tick() {
    var now = Date.now();
    var clocks = document.querySelectorAll(".countdown[data-due]");
    for (var i = 0; i < clocks.length; i++) { update(clocks[i], now); }
  }

  window.setInterval(tick, 30000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { tick(); }
  });
}());
