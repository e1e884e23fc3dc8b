/*
 * Instant search on the index page. Without this script the page is a plain
 * form that reloads; with it, results follow the typing (the list endpoint of
 * the API, with the same filters), filter chips toggle the role, category and
 * status filters, the arrow keys move through the results, and the address bar
 * always holds the current filters, so a filtered view can be shared.
 * Text from the API is only ever set as text. No dependencies.
 */
(function () {
  "use strict";

  var form = document.querySelector("form.search[data-instant]");
  if (!form) { return; }
  var api = form.getAttribute("data-instant");
  var input = form.querySelector("#q");
  var area = document.getElementById("results-area");
  var count = document.getElementById("result-count");
  var pending = null;
  var latest = 0;

  form.classList.add("instant");

  function params() {
    var query = new URLSearchParams();
    var text = input.value.trim();
    if (text) { query.set("q", text); }
    ["category", "role"].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) { query.set(name, value); }
    });
    form.querySelectorAll("input[name=status]:checked").forEach(function (box) {
      query.append("status", box.value);
    });
    return query;
  }

  function syncChips() {
    form.querySelectorAll(".chip").forEach(function (chip) {
      var name = chip.getAttribute("data-filter");
      var value = chip.getAttribute("data-value");
      var on;
      if (name === "status") {
        on = !!form.querySelector("input[name=status][value='" + value + "']:checked");
      } else {
        on = form.elements[name].value === value;
      }
      chip.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function show(results, total) {
    area.textContent = "";
    var list = document.createElement("ul");
    list.className = "term-list instant-results";
    list.id = "instant-results";
    results.forEach(function (term) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/terms/" + encodeURIComponent(term.slug) + "/";
      link.textContent = term.term;
      var chip = document.createElement("span");
      chip.className = "status-chip status-" + term.status;
      chip.textContent = term.status;
      var text = document.createElement("p");
      text.textContent = term.short_def;
      item.append(link, " ", chip, text);
      list.appendChild(item);
    });
    if (!results.length) {
      var none = document.createElement("p");
      none.textContent = "No terms match. ";
      var text = input.value.trim();
      if (text) {
        var ask = document.createElement("a");
        ask.href = form.getAttribute("data-request") + "?term=" + encodeURIComponent(text);
        ask.textContent = "Request \u201c" + text + "\u201d";
        none.appendChild(ask);
      }
      area.appendChild(none);
    }
    area.appendChild(list);
    count.textContent = total + (total === 1 ? " term" : " terms");
  }

  function update() {
    var query = params();
    history.replaceState(null, "", query.toString() ? "?" + query.toString() : location.pathname);
    syncChips();
    var mine = ++latest;
    var url = api + "?" + query.toString() + (query.toString() ? "&" : "") + "page_size=100";
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && mine === latest) { show(body.results, body.count); }
      })
      .catch(function () { /* the server-rendered list stays */ });
  }

  function soon() {
    clearTimeout(pending);
    pending = setTimeout(update, 150);
  }

  input.addEventListener("input", soon);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); update(); });

  form.querySelectorAll(".chip").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var name = chip.getAttribute("data-filter");
      var value = chip.getAttribute("data-value");
      var on = chip.getAttribute("aria-pressed") !== "true";
      if (name === "status") {
        form.querySelector("input[name=status][value='" + value + "']").checked = on;
      } else {
        form.elements[name].value = on ? value : "";
      }
      update();
    });
  });

  // Arrow keys: from the box into the results and back; Escape clears the box.
  form.addEventListener("keydown", function (event) {
    if (event.target === input && event.key === "Escape") {
      input.value = "";
      update();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var links = Array.prototype.slice.call(area.querySelectorAll("a"));
    if (!links.length) { return; }
    var at = links.indexOf(document.activeElement);
    if (document.activeElement === input && event.key === "ArrowDown") {
      links[0].focus();
    } else if (at >= 0) {
      var next = at + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0) { input.focus(); } else if (next < links.length) { links[next].focus(); }
    } else {
      return;
    }
    event.preventDefault();
  });

  syncChips();
})();
