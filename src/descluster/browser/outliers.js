/* descluster browser: the histogram of the combined outlier score with the flag cut, and
 * every flagged image of the outliers page, paged, sortable by score,
 * kind and number of models flagging, filterable by path or kind; every tile opens the
 * image view, where b marks the image bad in the working clustering's label file (shown
 * and chosen in the toolbar, remembered in this browser; the mark is kept on top of the
 * file the run used, as that clustering's page keeps it: DC.labels, its next download
 * includes it; Ctrl+Z takes it back). The page's keys are the table pageKeys, which also
 * writes its help. */
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

  /* Histogram geometry (SVG user units): the plot's size and the margins around it. */
  var PLOT = {width: 600, height: 150, left: 46, right: 70, top: 22, bottom: 34};
  /* The SVG namespace, from the page's empty <svg> the histogram is drawn in. */
  var svgSpace = null;

  /* An SVG element: svg("rect", {x: 1, ...}, [children]); text only through textContent. */
  function svg(tag, attrs, children) {
    var node = document.createElementNS(svgSpace, tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function titled(node, text) {
    node.appendChild(svg("title", {})).textContent = text;
    return node;
  }

  /* The histogram of the combined score (hist: low, high, counts, above, n, threshold, rate,
   * cut; binned by the run), counts on a log scale, the cut as a red line, and one line
   * saying the rate used and how it was found. The images above `high` (in suspicious
   * clusters, or extreme) are one bar of their own, right of the axis. */
  function drawHistogram(root, hist) {
    var n = hist.counts.length, width = hist.high - hist.low;
    var most = Math.max.apply(null, hist.counts.concat([hist.above, 1]));
    var W = PLOT.width, H = PLOT.height, x0 = PLOT.left, y0 = PLOT.top + H;
    var barWidth = W / n;
    function x(value) { return x0 + W * (value - hist.low) / width; }
    function height(count) { return H * Math.log(1 + count) / Math.log(1 + most); }
    var chart = root.querySelector("svg");
    svgSpace = chart.namespaceURI;
    [["viewBox", "0 0 " + (x0 + W + PLOT.right) + " " + (y0 + PLOT.bottom)],
     ["width", x0 + W + PLOT.right], ["height", y0 + PLOT.bottom],
     ["aria-label", "histogram of the combined outlier score of " + hist.n + " images, " +
                    "with the flag cut at " + DC.num(hist.threshold)]]
      .forEach(function (pair) { chart.setAttribute(pair[0], pair[1]); });
    hist.counts.forEach(function (count, i) {
      if (!count) return;
      var from = hist.low + i * width / n, h = height(count);
      var flagged = from >= hist.threshold;  // the whole bin right of the cut
      chart.appendChild(titled(svg("rect", {x: x0 + i * barWidth, y: y0 - h, height: h,
                                            width: barWidth - 1, "class": "bin",
                                            fill: flagged ? "#d00000" : "#7a8fb0"}),
                               DC.num(from) + " to " + DC.num(from + width / n) + ": " +
                               count + " images"));
    });
    if (hist.above) {
      var h = height(hist.above);
      chart.appendChild(titled(svg("rect", {x: x0 + W + 12, y: y0 - h, width: barWidth + 4,
                                            height: h, fill: "#d00000", "class": "bin above"}),
                               "above " + DC.num(hist.high) + ": " + hist.above + " images"));
      chart.appendChild(svg("text", {x: x0 + W + 12, y: y0 - h - 4, "font-size": 10}))
        .textContent = "> " + DC.num(hist.high);
    }
    chart.appendChild(svg("line", {x1: x0, y1: y0, x2: x0 + W, y2: y0, stroke: "#444"}));
    chart.appendChild(svg("line", {x1: x0, y1: y0, x2: x0, y2: PLOT.top, stroke: "#444"}));
    for (var t = 0; t <= 4; t++) {  // score ticks: five, evenly spaced
      var value = hist.low + t * width / 4;
      chart.appendChild(svg("line", {x1: x(value), y1: y0, x2: x(value), y2: y0 + 4,
                                     stroke: "#444"}));
      chart.appendChild(svg("text", {x: x(value), y: y0 + 15, "font-size": 10,
                                     "text-anchor": "middle"})).textContent = DC.num(value);
    }
    for (var power = 1; power <= most; power *= 10) {  // count ticks: 1, 10, 100, ...
      chart.appendChild(svg("text", {x: x0 - 4, y: y0 - height(power) + 3, "font-size": 10,
                                     "text-anchor": "end"})).textContent = String(power);
    }
    chart.appendChild(svg("text", {x: x0 + W / 2, y: y0 + 29, "font-size": 11,
                                   "text-anchor": "middle"}))
      .textContent = "combined outlier score";
    chart.appendChild(svg("text", {x: 10, y: PLOT.top - 8, "font-size": 11}))
      .textContent = "images (log scale)";
    var cutX = x(hist.threshold);
    chart.appendChild(titled(svg("line", {x1: cutX, y1: y0, x2: cutX, y2: PLOT.top - 4,
                                          stroke: "#d00000", "stroke-width": 2, "class": "cut"}),
                             "flag cut: " + DC.num(hist.threshold)));
    chart.appendChild(svg("text", {x: cutX + 3, y: PLOT.top + 4, "font-size": 11,
                                   fill: "#d00000"}))
      .textContent = "cut " + DC.num(hist.threshold);
    var how = /^rate /.test(hist.cut) ? hist.cut + ", set by outliers.rate" :
      hist.cut + " (the default: the rate comes from the data)";
    root.appendChild(el("p", {className: "meta", id: "cutline", text:
      "Flagged: " + Math.round(hist.rate * hist.n) + " of " + hist.n + " images (" +
      DC.pct(hist.rate) + "), right of the red line at " + DC.num(hist.threshold) +
      "; the cut: " + how + "." + (hist.above ? " The bar on the right: the " + hist.above +
      " highest-scoring images (above " + DC.num(hist.high) + "), drawn apart so that the " +
      "others stay readable. An image in a cluster labelled outlier or tiny scores 10 more " +
      "per such clustering." : "")}));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("flagged"), data = DC.outlierData;
    if (!data) {
      root.appendChild(el("p", {className: "warn", text: "The data of the flagged images " +
        "(files/data/outliers.js) could not be loaded: has results/report been moved?"}));
      return;
    }
    drawHistogram(document.getElementById("histogram"), data.histogram);
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
    var markIn = el("select", {id: "markin", "aria-label": "the working clustering"});
    var names = data.clusterings.map(function (c) { return c.name; });
    data.clusterings.forEach(function (c, i) {
      markIn.appendChild(el("option", {value: String(i), text: c.name}));
    });
    markIn.value = String(names.indexOf(DC.labels.working(data, names)));
    var workingNote = el("span", {className: "meta", id: "working-note",
                                  text: DC.labels.workingNote(data, names)});
    var line = DC.statusLine(), say = line.say;
    /* states: clustering name -> its labels (DC.labels.open), opened when first marked in;
     * panel: the working clustering's unsaved changes (DC.labels.panel), rebuilt when the
     * working clustering changes. */
    var states = Object.create(null), panel = null, panelBox = el("div", {});

    function chosen() { return data.clusterings[Number(markIn.value)] || null; }

    function stateOf(target) {
      if (!states[target.name]) {
        states[target.name] = DC.labels.open(target, data.rules);
        DC.store.onChange(target.name, target.base.hash, function () {
          if (!states[target.name].sync()) return;
          render();
          updatePanel();
          say(DC.labels.CHANGED_ELSEWHERE);
        });
      }
      return states[target.name];
    }

    function updatePanel() {
      if (!chosen()) return;
      var state = stateOf(chosen());
      if (!panel || panel.state !== state) {
        panel = DC.labels.panel(state);
        panel.state = state;
        panelBox.textContent = "";
        panelBox.appendChild(panel.node);
      } else panel.update();
    }

    function undo() {
      var state = chosen() && stateOf(chosen());
      var what = state ? state.undo() : null;
      say(what ? "Undone in " + state.name + ": " + what + "." : DC.labels.NOTHING_TO_UNDO);
      render();
      updatePanel();
      DC.refreshView();
    }

    /* The page's keys (the tiles' keys are DC.keys.grid). */
    var pageKeys = DC.keys.table("flagged images", [
      {keys: ["[", "]"], label: "[ ]", does: "previous/next page",
       action: function (event) { pager.turn(event.key === "]" ? 1 : -1); }}]);
    /* Keys that act over the image view too. */
    var markKeys = DC.keys.table("marks", [
      {keys: ["Ctrl+z"], typing: true,
       does: "undo the last edit of the working clustering's labels (from any page)",
       when: function () { return data.clusterings.length > 0; }, action: undo}]);
    root.appendChild(el("div", {className: "tablebar"},
                        [el("label", {}, ["sort by ", sort]), filter, pager.prev, pager.next,
                         pager.where]));
    if (data.clusterings.length) {
      root.appendChild(el("div", {className: "tablebar"},
                          [el("label", {}, ["working clustering (b in a picture marks the image " +
                                            "bad in its label file): ", markIn]),
                           " ", workingNote]));
      root.appendChild(panelBox);
    }
    root.appendChild(line.node);
    root.appendChild(el("p", {className: "help",
                              text: DC.keys.help([pageKeys, markKeys, DC.keys.grid])}));
    root.appendChild(grid);
    /* State: all (every flagged image, from the data), shown (those the filter lets
     * through, in the chosen order) and shownPage (the page of them shown), set by render;
     * shownPage also by the pager, and reset to 0 when the order or filter changes. */
    var shownPage = 0, shown = [];

    function markTile(tile, path) {
      var image = chosen() ? stateOf(chosen()).image(path) : null;
      tile.classList.toggle("bad", !!(image && image.outlier));
    }

    var marks = {
      keys: BAD,
      get: function (item) { return stateOf(chosen()).image(item.path) || {}; },
      toggle: function (item) {
        var target = chosen(), state = stateOf(target);
        if (!state.doc) { say(state.problem, true); return; }
        var image = state.image(item.path), now = !(image && image.outlier);
        state.mark([item.path], "outlier", now, (now ? "marked bad: " : "no longer bad: ") +
                   item.path);
        if (!state.keptOk) say("This browser keeps nothing for these pages, so the mark cannot " +
                               "reach the label file; mark it on the clustering page.", true);
        else say(item.path + ": " + (now ? "" : "no longer ") + "marked bad in the label file of " +
                 target.name + ", kept in this browser: its page's next download includes it " +
                 "(Ctrl+Z takes it back).", false, target);
        grid.querySelectorAll(".tile").forEach(function (tile) {
          if (tile.dataset.path === item.path) markTile(tile, item.path);
        });
        updatePanel();
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
                                  keys: [markKeys],
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
    markIn.addEventListener("change", function () {
      DC.labels.setWorking(data, chosen().name);
      workingNote.textContent = DC.labels.workingNote(data, names);
      say("Working clustering: " + chosen().name + " (remembered in this browser: the map " +
          "marks in it too).");
      render();
      updatePanel();
    });
    filter.addEventListener("input", function () { shownPage = 0; render(); });
    DC.keys.listen(document, function () {
      return DC.viewOpen() ? [] : [pageKeys, markKeys, DC.keys.grid];  // the view: its own
    });
    render();
    updatePanel();
  });
})();
