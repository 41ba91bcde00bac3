/* descluster browser: a labelled clustering's review page. Per attribute it names, two
 * lists, a page at a time: the images whose value comes from this clustering's clusters,
 * the least sure first, and those another labelled clustering's cluster names otherwise;
 * an attribute opens on the list to read first (its data's order: the disagreements when
 * there are any).
 * A number key gives the focused image its own value (an image entry of this clustering's
 * label file, kept in this browser on top of the file the run used, as on its page:
 * DC.labels); the page's keys are the table reviewKeys, which also writes its help. */
(function () {
  "use strict";
  var DC = window.DC, el = DC.el;
  var PER_PAGE = 60;  // tiles per page
  var LISTS = [["low", "least sure"], ["disagree", "disagreements"]];

  /* ---- state ---------------------------------------------------------------------------
   * data: the page's data (DC.pageData), set at start. state: this clustering's labels
   * (DC.labels.open). paths: image paths by row (DC.loadPaths), null until loaded.
   * attribute, list: the index in data.attributes and the LISTS entry shown (set by
   * showAttribute, list also by the list keys and buttons); page: the page of it, changed
   * by show(). ui: the page's elements, made by build(). */
  var data, state, paths = null, attribute = 0, list = 0, ui = {};

  function entry() { return data.attributes[attribute]; }
  function items() { return entry()[LISTS[list][0]]; }
  function name() { return entry().attribute; }

  /* Show attribute i, on the list to read first. */
  function showAttribute(i) {
    attribute = i;
    list = LISTS.map(function (l) { return l[0]; }).indexOf(entry().order[0]);
    show(0);
  }

  function say(text, isError) { ui.say(text, isError, {page: data.target.page, name: data.clustering}); }

  /* The image entry of a path in the state's document, or null. */
  function imageOf(path) { return state.image(path); }

  /* Give the image at path its own value of the shown attribute ('' takes it back). */
  function fix(path, value) {
    var a = name();
    var done = state.setImageValue(path, a, value, (value ? a + " " + value : "own " + a +
                                                     " taken back") + " for " + path);
    if (done) say(path + ": " + (value ? a + " \u201c" + value + "\u201d, its own" :
                                  "own " + a + " taken back") + " (Ctrl+Z undoes).");
    refresh();
  }

  function toggleBad(path) {
    var image = imageOf(path), now = !(image && image.outlier);
    state.mark([path], "outlier", now, (now ? "marked bad: " : "no longer bad: ") + path);
    say(path + (now ? ": marked bad" : ": no longer marked bad") + " (Ctrl+Z undoes).");
    refresh();
  }

  /* ---- the page ----------------------------------------------------------------------- */
  function build() {
    var root = document.getElementById("review");
    var line = DC.statusLine();
    ui.say = line.say;
    ui.attributes = el("select", {id: "attribute", "aria-label": "attribute"});
    data.attributes.forEach(function (e, i) {
      ui.attributes.appendChild(el("option", {value: String(i), text: e.attribute}));
    });
    ui.attributes.addEventListener("change", function () {
      showAttribute(Number(ui.attributes.value));
    });
    ui.lists = LISTS.map(function (l, i) {
      var button = el("button", {type: "button", className: "listchoice"});
      button.addEventListener("click", function () { list = i; show(0); });
      return button;
    });
    ui.pager = DC.pager("\u2190 previous page ([)", "next page (]) \u2192", show);
    ui.values = el("p", {id: "values", className: "meta"});
    ui.grid = el("div", {className: "tilegrid gallery-grid", id: "review-tiles"});
    ui.help = el("p", {className: "help", id: "help"});
    ui.labels = DC.labels.panel(state);
    var toolbar = document.getElementById("toolbar");
    toolbar.appendChild(el("div", {className: "toolbar-row"},
      [el("label", {}, ["attribute ", ui.attributes])].concat(ui.lists,
        [ui.pager.prev, ui.pager.next, ui.pager.where])));
    toolbar.appendChild(ui.labels.node);
    toolbar.appendChild(ui.values);
    toolbar.appendChild(ui.help);
    toolbar.appendChild(line.node);
    root.appendChild(ui.grid);
  }

  /* The values of the shown attribute, each with its key (1-9). */
  function values() { return entry().values.slice(0, 9); }

  /* A tile's caption, a line each: the image's value (its own, ticked, once fixed) and
     the labels' confidence in it; in the disagreements, what its cluster here and the
     other clustering's cluster say. */
  function caption(item, i) {
    var own = imageOf(item.path), fixed = own && own.values[name()];
    var text = (fixed ? "\u2713 " + fixed : item.value) + " \u00b7 confidence " +
      DC.num(item.confidence);
    if (LISTS[list][0] === "disagree") {
      text += "\nhere " + items().clusterValue[i] + " \u00b7 " + items().other[i] + ": " +
        items().otherValue[i];
    }
    return text;
  }

  /* Write a tile's caption, also as its tooltip (under the path). */
  function setCaption(tile, item, i) {
    var text = caption(item, i);
    tile.querySelector(".caption").textContent = text;
    tile.title = item.path + "\n" + text;
  }

  /* Show a page of the chosen list of the chosen attribute. */
  function show(page) {
    var shown = items();
    page = ui.pager.set(page, shown.rows.length, PER_PAGE);
    ui.lists.forEach(function (button, i) {
      button.textContent = LISTS[i][1] + " (" + entry()[LISTS[i][0]].rows.length + ")";
      button.setAttribute("aria-pressed", String(i === list));
    });
    ui.attributes.value = String(attribute);
    ui.values.textContent = "keys: " + values().map(function (v, i) {
      return (i + 1) + " " + v;
    }).join(" \u00b7 ") + " \u00b7 0 takes the image's own " + name() + " back";
    ui.help.textContent = DC.keys.help([reviewKeys, fileKeys, DC.keys.grid]);
    ui.grid.textContent = "";
    if (!shown.rows.length) {
      ui.grid.appendChild(el("p", {className: "meta empty", text: "Nothing in this list: " +
                                   shown.why}));
      return;
    }
    if (!paths) return;
    var first = page * PER_PAGE, tiles = [];
    for (var i = first; i < Math.min(shown.rows.length, first + PER_PAGE); i++) {
      var item = {path: paths[shown.rows[i]], row: shown.rows[i], value: shown.value[i],
                  confidence: shown.confidence[i], cluster: shown.cluster[i], at: i};
      tiles.push(item);
    }
    tiles.forEach(function (item, k) {
      item.caption = caption(item, item.at);
      var tile = DC.tile(data, item, function () {
        DC.openView(tiles, k, {data: data, info: info, keys: [fileKeys],
                               onClose: function (index) { focusTile(index); },
                               fields: state.doc ? viewFields() : null});
      });
      setCaption(tile, item, item.at);
      mark(tile, item);
      ui.grid.appendChild(tile);
    });
  }

  /* The image view's fields: the image's own value of every attribute, any value (a
     closed list's only). */
  function viewFields() {
    return {
      attributes: state.doc.attributes,
      get: function (item) { var image = imageOf(item.path); return image ? image.values : {}; },
      set: function (item, a, text) {
        text = DC.labelfile.cleanText(text).trim();
        var allowed = DC.labels.closedValues(data.rules, a);
        if (text && allowed && allowed.indexOf(text) < 0) {
          return "!\u201c" + text + "\u201d is not one of " + a + "'s values: " + allowed.join(", ");
        }
        state.setImageValue(item.path, a, text, (text ? a + " " + text : "own " + a +
                                                  " taken back") + " for " + item.path);
        refresh();
        return item.path + ": " + (text ? a + " \u201c" + text + "\u201d, its own" :
                                   "own " + a + " taken back");
      },
      options: function (a) {
        var entry_ = data.attributes.filter(function (e) { return e.attribute === a; })[0];
        return DC.labels.closedValues(data.rules, a) || (entry_ ? entry_.values : []);
      }
    };
  }

  function mark(tile, item) {
    var own = imageOf(item.path);
    tile.classList.toggle("bad", !!(own && own.outlier));
    tile.classList.toggle("fixed", !!(own && own.values[name()]));
  }

  function info(item) {
    var pairs = [["cluster", String(item.cluster)], [name() + " (labels)", item.value],
                 ["confidence", DC.num(item.confidence)]];
    if (LISTS[list][0] === "disagree") {
      pairs.push([name() + " of its cluster here", items().clusterValue[item.at]],
                 [name() + " of its cluster in " + items().other[item.at],
                  items().otherValue[item.at]]);
    }
    return pairs;
  }

  function focusTile(index) {
    var tiles = ui.grid.querySelectorAll(".tile");
    if (tiles[index]) tiles[index].focus();
  }

  /* Rewrite the tiles' captions and marks after an edit, keeping the focus. */
  function refresh() {
    var tiles = ui.grid.querySelectorAll(".tile");
    var shown = items();
    Array.prototype.forEach.call(tiles, function (tile, k) {
      var at = ui.pager.page * PER_PAGE + k;
      var item = {path: tile.getAttribute("data-path"), value: shown.value[at],
                  confidence: shown.confidence[at]};
      setCaption(tile, item, at);
      mark(tile, item);
    });
    ui.labels.update();
    DC.refreshView();
  }

  function focusedPath(event) {
    var tile = event.target.closest && event.target.closest(".tile");
    return tile ? tile.getAttribute("data-path") : null;
  }

  /* After a fix, on to the next picture. */
  function next(event) {
    var tile = event.target.closest(".tile"), following = tile && tile.nextElementSibling;
    if (following) following.focus();
  }

  /* ---- keys ----------------------------------------------------------------------------- */
  /* Keys that act everywhere, over the image view too. */
  var fileKeys = DC.keys.table("label file", [
    {keys: ["Ctrl+s"], does: "download", typing: true, action: function () {
      var said = DC.labels.download(state, data.target.file);
      say(said[0], said[1]);
    }},
    {keys: ["Ctrl+z"], does: "undo", typing: true, action: function () {
      var what = state.undo();
      say(what ? "Undone: " + what + "." : DC.labels.NOTHING_TO_UNDO);
      refresh();
    }}]);

  var reviewKeys = DC.keys.table("review", function () {
    var byValue = values().map(function (v, i) {
      return {keys: [String(i + 1)], does: v, action: function (event) {
        var path = focusedPath(event);
        if (!path) return false;
        fix(path, v);
        next(event);
      }};
    });
    return [
      {keys: ["0"], does: "own value back", action: function (event) {
        var path = focusedPath(event);
        if (!path) return false;
        fix(path, "");
      }},
      {keys: ["b"], does: "bad image", action: function (event) {
        var path = focusedPath(event);
        if (!path) return false;
        toggleBad(path);
      }},
      {keys: ["[", "]"], label: "[ ]", does: "previous/next page", action: function (event) {
        ui.pager.turn(event.key === "]" ? 1 : -1);
        focusTile(0);
      }},
      {keys: ["a"], does: "next attribute", action: function () {
        showAttribute((attribute + 1) % data.attributes.length); focusTile(0);
      }},
      {keys: ["l"], does: "other list", action: function () {
        list = (list + 1) % LISTS.length; show(0); focusTile(0);
      }}].concat(byValue);
  });

  document.addEventListener("DOMContentLoaded", function () {
    data = DC.takePageData("The review's data (files/data/) could not be loaded: has " +
      "results/report been moved without its folder files/?");
    if (!data) return;
    state = DC.labels.open(data.target, data.rules);
    build();
    // fixes made on the clustering's page in another tab land here too
    DC.store.onChange(state.name, state.base.hash, function () {
      if (state.sync()) { refresh(); say(DC.labels.CHANGED_ELSEWHERE); }
    });
    if (state.problem) say(state.problem, true);
    if (!data.attributes.length) {
      ui.grid.appendChild(el("p", {className: "meta", text: "This clustering's label file names " +
                                   "no attribute: nothing to review."}));
      return;
    }
    showAttribute(0);
    DC.loadPaths(data, function (loaded) { paths = loaded; show(ui.pager.page); focusTile(0); },
                 function (url) { say("The image paths could not be loaded (" + url + ")", true); });
    DC.keys.listen(document, function () {
      return DC.viewOpen() ? [] : [fileKeys, reviewKeys, DC.keys.grid];
    });
  });
})();
