/* descluster browser: every flagged image of the outliers page, paged, sortable by score,
 * kind and number of models flagging, filterable by path or kind; every tile opens the
 * image view, where b marks the image bad in a clustering's label file (kept in this
 * browser as that clustering's page keeps it, DC.store: its next download includes the
 * mark). The page's keys are the table pageKeys, which also writes its help. */
(function () {
  "use strict";
  var DC = window.DC, LF = DC.labelfile, el = DC.el;
  var BAD = [LF.IMAGE_MARKS[0]];  // b: bad image (the only mark without a cluster in view)
  var PER_PAGE = 60;  // tiles per page
  /* Sort orders: value of the sort list -> [its text, comparison of two rows]. */
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
    var pager = DC.pager("\u2190 previous ([)", "next (]) \u2192", function (page) {
      shownPage = page;
      render();
    });
    var grid = el("div", {className: "tilegrid gallery-grid"});
    var markIn = el("select", {id: "markin", "aria-label": "label file to mark bad images in"});
    data.clusterings.forEach(function (c, i) {
      markIn.appendChild(el("option", {value: String(i), text: c.name}));
    });
    var line = DC.statusLine(), say = line.say;
    /* The page's keys (the tiles' keys are DC.keys.grid). */
    var pageKeys = DC.keys.table("flagged images", [
      {keys: ["[", "]"], label: "[ ]", does: "previous/next page",
       action: function (event) { pager.turn(event.key === "]" ? 1 : -1); }}]);
    root.appendChild(el("div", {className: "tablebar"},
                        [el("label", {}, ["sort by ", sort]), filter, pager.prev, pager.next,
                         pager.where]));
    if (data.clusterings.length) {
      root.appendChild(el("div", {className: "tablebar"},
                          [el("label", {}, ["mark bad images (b in a picture) in the label file of ",
                                            markIn])]));
    }
    root.appendChild(line.node);
    root.appendChild(el("p", {className: "help", text: DC.keys.help([pageKeys, DC.keys.grid])}));
    root.appendChild(grid);
    /* State: all (every flagged image, from the data), shown (those the filter lets
     * through, in the chosen order) and shownPage (the page of them shown), set by render;
     * shownPage also by the pager, and reset to 0 when the order or filter changes. */
    var shownPage = 0, shown = [];

    function chosen() { return data.clusterings[Number(markIn.value)] || null; }

    function markTile(tile, path) {
      var clustering = chosen();
      var image = clustering ? DC.store.imageMarks(data.run, clustering, path) : {};
      tile.classList.toggle("bad", !!image.outlier);
    }

    var marks = {
      keys: BAD,
      get: function (item) { return DC.store.imageMarks(data.run, chosen(), item.path); },
      toggle: function (item) {
        var clustering = chosen();
        try {
          var now = !DC.store.imageMarks(data.run, clustering, item.path).outlier;
          DC.store.markImages(data.run, clustering, [item.path], "outlier", now);
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
      shownPage = pager.set(shownPage, shown.length, PER_PAGE);
      var items = shown.slice(shownPage * PER_PAGE, (shownPage + 1) * PER_PAGE);
      pager.where.textContent = shown.length + " of " + all.length + " flagged images, " +
        pager.where.textContent;
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

    sort.addEventListener("change", function () { shownPage = 0; render(); });
    markIn.addEventListener("change", render);
    filter.addEventListener("input", function () { shownPage = 0; render(); });
    DC.keys.listen(document, function () {
      return DC.viewOpen() ? [] : [pageKeys, DC.keys.grid];  // the view takes its own keys
    });
    render();
  });
})();
