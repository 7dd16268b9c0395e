// The ticket page's "insert an article link": search published articles, then put the title and
// the help-centre link at the cursor of the reply.
(function () {
  "use strict";
  var box = document.querySelector(".kb-insert");
  if (!box || !window.fetch) return;
  var input = box.querySelector(".kb-insert__q");
  var list = box.querySelector(".kb-insert__results");
  var label = box.querySelector(".kb-insert__button-label").innerHTML;
  var reply = box.closest("form").querySelector("textarea[name=body]");
  var timer = null;

  function insert(article) {
    var text = article.title + ": " + article.url;
    var start = reply.selectionStart || 0;
    var end = reply.selectionEnd || 0;
    var before = reply.value.slice(0, start);
    var glue = before && !/\s$/.test(before) ? "\n" : "";
    reply.value = before + glue + text + reply.value.slice(end);
    reply.focus();
  }

  function show(articles) {
    list.textContent = "";
    articles.forEach(function (article) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn--small";
      button.textContent = label;
      button.addEventListener("click", function () { insert(article); });
      item.textContent = article.title + " ";
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (q.length < 2) { show([]); return; }
      fetch(box.dataset.suggestUrl + "?" + new URLSearchParams({ q: q }), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { articles: [] }; })
        .then(function (found) { show(found.articles); })
        .catch(function () {});
    }, 300);
  });
})();
