/* descluster browser: every flagged image of the outliers page, paged, sortable by score,
 * kind and number of models flagging, filterable by path or kind; every tile opens the
 * image view, where b marks the image bad in a clustering's label file (kept in this
 * browser as that clustering's page keeps it: its next download includes the mark). */
(function () {
  "use strict";
  var DC = window.DC, LF = DC.labelfile, el = DC.el;
  var BAD = [LF.IMAGE_MARKS[0]];  // b: bad image (the only mark without a cluster in view)
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
    var markIn = el("select", {id: "markin", "aria-label": "label file to mark bad images in"});
    data.clusterings.forEach(function (c, i) {
      markIn.appendChild(el("option", {value: String(i), text: c.name}));
    });
    var status = el("p", {id: "status", className: "status", role: "status"});
    root.appendChild(el("div", {className: "tablebar"},
                        [el("label", {}, ["sort by ", sort]), filter, prev, next, where]));
    if (data.clusterings.length) {
      root.appendChild(el("div", {className: "tablebar"},
                          [el("label", {}, ["mark bad images (b in a picture) in the label file of ",
                                            markIn])]));
    }
    root.appendChild(status);
    root.appendChild(el("p", {className: "help", text: "click or Enter opens a picture \u00b7 " +
                                                       "arrows move \u00b7 [ ] previous/next page"}));
    root.appendChild(grid);
    var page = 0, shown = [];

    function chosen() { return data.clusterings[Number(markIn.value)] || null; }

    function say(text, isError, link) {
      status.textContent = text;
      status.className = isError ? "status error" : "status";
      status.setAttribute("role", isError ? "alert" : "status");
      if (link) {
        status.appendChild(document.createTextNode(" "));
        status.appendChild(el("a", {href: link.page, text: "open " + link.name}));
      }
    }

    function markTile(tile, path) {
      var clustering = chosen();
      tile.classList.toggle("bad", !!(clustering && LF.imageMarks(data.run, clustering, path).outlier));
    }

    var marks = {
      keys: BAD,
      get: function (item) { return LF.imageMarks(data.run, chosen(), item.path); },
      toggle: function (item) {
        var clustering = chosen();
        try {
          var now = !LF.imageMarks(data.run, clustering, item.path).outlier;
          LF.markImages(data.run, clustering, [item.path], "outlier", now);
          say(item.path + ": " + (now ? "" : "no longer ") + "marked bad in the label file of " +
              clustering.name + ", kept in this browser: its page's next download includes it.",
              false, clustering);
        } catch (e) { say(e.message, true); }
        grid.querySelectorAll(".tile").forEach(function (tile) {
          if (tile.dataset.path === item.path) markTile(tile, item.path);
        });
      },
      describe: function () { return "Marks go into the label file of " + chosen().name + "."; }
    };

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
        var tile = DC.tile(data, item, function () {
          DC.openView(items, at, {data: data, info: info, marks: chosen() ? marks : null,
                                  onClose: function (i) {
                                    var tiles = grid.querySelectorAll(".tile");
                                    if (tiles[i]) tiles[i].focus();
                                  }});
        });
        markTile(tile, item.path);
        grid.appendChild(tile);
      });
    }

    sort.addEventListener("change", function () { page = 0; render(); });
    markIn.addEventListener("change", render);
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
