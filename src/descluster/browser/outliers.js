/* descluster browser: every flagged image of the outliers page, paged, sortable by score,
 * kind and number of models flagging, filterable by path or kind; every tile opens the
 * image view. */
(function () {
  "use strict";
  var DC = window.DC, el = DC.el;
  var PER_PAGE = 60;
  var ORDERS = {
    score: ["outlier score, highest first", function (a, b) { return a.rank - b.rank; }],
    kind: ["kind, then score", function (a, b) {
      if (!a.kind !== !b.kind) return a.kind ? -1 : 1;  // images without a kind last
      return a.kind.localeCompare(b.kind) || a.rank - b.rank;
    }],
    models: ["models flagging, most first", function (a, b) {
      return b.models - a.models || a.rank - b.rank;
    }],
    path: ["path", function (a, b) { return a.path.localeCompare(b.path); }]
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("flagged"), data = DC.outlierData;
    if (!data) {
      root.appendChild(el("p", {className: "warn", text: "The data of the flagged images " +
        "(files/data/outliers.js) could not be loaded: has results/report been moved?"}));
      return;
    }
    var all = data.rows.map(function (r) {
      return {rank: r[0], path: r[1], score: r[2], models: r[3], kind: r[4], scores: r[5]};
    });
    var sort = el("select", {id: "sort", "aria-label": "sort by"});
    Object.keys(ORDERS).forEach(function (k) {
      sort.appendChild(el("option", {value: k, text: ORDERS[k][0]}));
    });
    var filter = el("input", {type: "search", className: "filter", "aria-label": "filter flagged images",
                              placeholder: "filter by path or kind\u2026"});
    var prev = el("button", {type: "button", text: "\u2190 previous ([)"});
    var next = el("button", {type: "button", text: "next (]) \u2192"});
    var where = el("span", {className: "count"});
    var grid = el("div", {className: "tilegrid gallery-grid"});
    root.appendChild(el("div", {className: "tablebar"},
                        [el("label", {}, ["sort by ", sort]), filter, prev, next, where]));
    root.appendChild(el("p", {className: "help", text: "click or Enter opens a picture \u00b7 " +
                                                       "arrows move \u00b7 [ ] previous/next page"}));
    root.appendChild(grid);
    var page = 0, shown = [];

    function info(item) {
      return [["rank", String(item.rank)], ["outlier score", DC.num(item.score)],
              ["models flagging", String(item.models)], ["kind (ground truth)", item.kind || "\u2014"]]
        .concat(data.models.map(function (m, i) { return ["score " + m, DC.num(item.scores[i])]; }));
    }

    function render() {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      shown = all.filter(function (item) {
        var text = (item.path + " " + item.kind).toLowerCase();
        return words.every(function (w) { return text.indexOf(w) >= 0; });
      }).sort(ORDERS[sort.value][1]);
      var pages = Math.max(1, Math.ceil(shown.length / PER_PAGE));
      page = Math.max(0, Math.min(page, pages - 1));
      var items = shown.slice(page * PER_PAGE, (page + 1) * PER_PAGE);
      where.textContent = shown.length + " of " + all.length + " flagged images, page " + (page + 1) +
        " of " + pages;
      prev.disabled = page === 0;
      next.disabled = page + 1 >= pages;
      grid.textContent = "";
      items.forEach(function (item, at) {
        item.caption = "#" + item.rank + " \u00b7 " + DC.num(item.score) +
          (item.kind ? " \u00b7 " + item.kind : "");
        grid.appendChild(DC.tile(data, item, function () {
          DC.openView(items, at, {data: data, info: info, onClose: function (i) {
            var tiles = grid.querySelectorAll(".tile");
            if (tiles[i]) tiles[i].focus();
          }});
        }));
      });
    }

    sort.addEventListener("change", function () { page = 0; render(); });
    filter.addEventListener("input", function () { page = 0; render(); });
    prev.addEventListener("click", function () { page -= 1; render(); });
    next.addEventListener("click", function () { page += 1; render(); });
    document.addEventListener("keydown", function (event) {
      if (DC.viewOpen() || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") return;
      if (DC.gridKeys(event)) return;
      if (event.key === "]" && !next.disabled) { page += 1; render(); }
      else if (event.key === "[" && !prev.disabled) { page -= 1; render(); }
      else return;
      event.preventDefault();
    });
    render();
  });
})();
