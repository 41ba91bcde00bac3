/* descluster browser: every <table class="sortable"> sorts by any column (click or Enter on
 * its header; again to reverse) and filters its rows by text (the field above it).
 * State: each table's, in the DOM: data-sortable="1" once set up, aria-sort on the header
 * it is sorted by, hidden on the rows the filter hides. */
(function () {
  "use strict";
  var DC = window.DC = window.DC || {};

  /* Keys on a column header (the header's tooltip is written from them). */
  var headerKeys = DC.keys.table("table headers", [
    {keys: ["Enter", " "], does: "sort, again to reverse", action: function (event) {
      var th = event.target.closest && event.target.closest("th.sort");
      if (!th) return false;
      th.click();
    }}]);

  /* A cell's sort key: its data-v (numbers, as the page wrote them), else its text. */
  function key(cell) {
    var v = cell.getAttribute("data-v");
    return v !== null ? v : cell.textContent.trim();
  }

  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (!isNaN(x) && !isNaN(y)) return x - y;
    return a.localeCompare(b, undefined, {numeric: true, sensitivity: "base"});
  }

  DC.sortable = function (table) {
    if (table.getAttribute("data-sortable") === "1") return;
    table.setAttribute("data-sortable", "1");
    var body = table.tBodies[0];
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var count = DC.el("span", {className: "count"});
    var filter = DC.el("input", {type: "search", className: "filter",
                                 placeholder: "filter rows\u2026", "aria-label": "filter rows"});
    var bar = DC.el("div", {className: "tablebar"}, [filter, count]);
    var holder = table.parentNode.classList.contains("scroll") ? table.parentNode : table;
    holder.parentNode.insertBefore(bar, holder);

    function showCount() {
      var rows = body.rows, shown = 0;
      for (var i = 0; i < rows.length; i++) if (!rows[i].hidden) shown++;
      count.textContent = shown === rows.length ? rows.length + " rows"
                                                : shown + " of " + rows.length + " rows";
    }
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(body.rows, function (row) {
        var text = row.textContent.toLowerCase();
        row.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
      showCount();
    });

    headers.forEach(function (th, column) {
      th.tabIndex = 0;
      th.className = "sort";
      th.title = "sort by " + th.textContent + " (click, or " + DC.keys.help([headerKeys]) + ")";
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r, s) {
          var a = key(r.cells[column]), b = key(s.cells[column]);
          if (a === "" || b === "") return a === b ? 0 : (a === "" ? 1 : -1);  // empty last
          return ascending ? compare(a, b) : compare(b, a);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
    });
    DC.keys.listen(table.tHead, function () { return [headerKeys]; });
    showCount();
  };

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), DC.sortable);
  });
})();
