/* descluster browser: helpers shared by the pages: DOM building, data scripts, tiles, the
 * key tables (DC.keys) and the one typing guard (DC.typing), the status line, the pager and
 * the image view. Everything is built with textContent: no HTML from data or users.
 * Loaded first by every page; the page's data script and its own script come after. */
(function () {
  "use strict";
  var DC = window.DC = window.DC || {};

  /* An element: el("a", {href: "#x", className: "y", text: "z"}, [children]). */
  DC.el = function (tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null) return;
      if (key === "text") node.textContent = value;
      else if (key === "className" || key === "id" || key === "href" || key === "title" ||
               key === "type" || key === "value" || key === "checked" || key === "hidden" ||
               key === "tabIndex" || key === "src" || key === "alt" || key === "htmlFor") {
        node[key] = value;
      } else node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  };

  DC.pct = function (share) {
    return (100 * share).toFixed(share >= 0.1 || share === 0 ? 0 : 1) + " %";
  };

  DC.num = function (x) {
    if (x === null || x === undefined) return "";
    var text = Number(x).toPrecision(4);  // 4 significant digits, trailing zeros dropped
    return /^[^e]*\.[^e]*$/.test(text) ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
  };

  /* ---- data scripts ---------------------------------------------------------------
   * Data scripts call DC.page(...), DC.outliers(...), DC.chunk(name, data); file:// pages
   * may load scripts, not fetch files. DC.pageData (a clustering's or a map's data) and
   * DC.outlierData (the outliers page's) are set once by their data script, before the
   * page's own script reads them. */
  DC.page = function (data) { DC.pageData = data; loadRefused(data); };
  /* The page's data, with the loading line removed; null, and the line turned into a
     warning saying `missing`, when its data script did not load. */
  DC.takePageData = function (missing) {
    var loading = document.getElementById("noscript");
    if (!DC.pageData) {
      loading.textContent = missing;
      loading.className = "warn";
      return null;
    }
    loading.remove();
    return DC.pageData;
  };
  DC.outliers = function (data) { DC.outlierData = data; loadRefused(data); };
  /* chunks: name -> data of each chunk script loaded so far (set by DC.chunk, kept for the
   * page's life); waiting: name -> callbacks of the DC.loadChunk calls whose script is on
   * its way (emptied when it arrives or fails). */
  var chunks = Object.create(null), waiting = Object.create(null);
  DC.chunk = function (name, data) {
    chunks[name] = data;
    (waiting[name] || []).forEach(function (done) { done(data); });
    delete waiting[name];
  };
  /* Load a data chunk by adding a <script> (file:// pages may not fetch). */
  DC.loadChunk = function (url, name, done, failed) {
    if (chunks[name]) { done(chunks[name]); return; }
    if (waiting[name]) { waiting[name].push(done); return; }
    waiting[name] = [done];
    var script = DC.el("script", {src: url});
    script.onerror = function () { delete waiting[name]; if (failed) failed(url); };
    document.body.appendChild(script);
  };

  /* Bytes of a base64 string, as the Python side packs typed arrays. */
  DC.bytes = function (b64) {
    var text = atob(b64), out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  };

  /* The run's image paths by row, from its front-coded paths script (data.paths), decoded
     once per page: galleries and maps hold row numbers only. pathsByRow: the decoded list
     (null until the first DC.loadPaths gets the script), each path the previous one's first
     prefix[i] characters and then rest[i]. */
  var pathsByRow = null;
  /* refusedPaths: the paths whose original file the workflow refused to show (outside the
     image root through a symlink, not a regular file, too large, unreadable: the rows
     paths.js lists as refused); null until paths.js has loaded, and until then no original
     is shown, only thumbnails. */
  var refusedPaths = null;
  DC.loadPaths = function (data, done, failed) {
    if (pathsByRow) { done(pathsByRow); return; }
    DC.loadChunk(data.paths, data.pathsName, function (chunk) {
      if (!pathsByRow) {
        var prefix = DC.bytes(chunk.prefix), rest = chunk.rest, previous = "";
        pathsByRow = new Array(rest.length);
        for (var i = 0; i < rest.length; i++) {
          previous = previous.slice(0, prefix[i]) + rest[i];
          pathsByRow[i] = previous;
        }
        var bytes = DC.bytes(chunk.refused), refused = new Uint32Array(bytes.buffer);
        refusedPaths = new Set();
        for (var j = 0; j < refused.length; j++) refusedPaths.add(pathsByRow[refused[j]]);
      }
      done(pathsByRow);
    }, failed);
  };
  /* Every page's data names paths.js: start loading it as the data arrives, so originals
     can be shown once it is known which of them the workflow checked. */
  function loadRefused(data) {
    if (data && data.paths) DC.loadPaths(data, function () {}, function () {});
  }

  /* URL of an original image: the run's image root and the path, segment by segment; null
     for a path the workflow refused or before paths.js says which it refused. */
  DC.originalUrl = function (root, path) {
    var parts = path.split("/");
    if (!root || parts.some(function (p) { return p === "" || p === "." || p === ".."; })) {
      return null;  // only files under the root, as the workflow reads them
    }
    if (refusedPaths === null || refusedPaths.has(path)) return null;
    return root + parts.map(encodeURIComponent).join("/");
  };

  /* Best picture of an image for a tile: its thumbnail, else the original, else none. */
  DC.tileUrl = function (data, path) {
    var thumb = data.thumbOf && data.thumbOf[path];
    if (thumb) return data.thumbs + thumb;
    return DC.originalUrl(data.imageRoot, path);
  };

  /* ---- tiles ------------------------------------------------------------------------ */
  function placeholder(path, reason) {
    return DC.el("span", {className: "placeholder", text: reason + " " + path.split("/").pop()});
  }

  /* A clickable tile: item {path, caption}; onOpen() when clicked (or Enter: keys.grid). */
  DC.tile = function (data, item, onOpen) {
    var url = DC.tileUrl(data, item.path);
    var button = DC.el("button", {type: "button", className: "tile", title: item.path},
      [url ? DC.el("img", {src: url, alt: item.path, loading: "lazy"})
           : placeholder(item.path, "no picture:"),
       item.caption ? DC.el("span", {className: "caption", text: item.caption}) : null]);
    button.setAttribute("data-path", item.path);
    button.addEventListener("click", onOpen);
    return button;
  };

  /* ---- keys: one table per page, one typing guard, one dispatcher ----------------
   * Every key a page handles is an entry of one of its key tables, and the help the page
   * shows is written from the same tables, so the two cannot drift apart. An entry:
   *   keys    the key names it answers to, as keyName() names them ("j", "Escape", "Ctrl+s");
   *   label   how the help writes them (default: each shown by display(), "/"-joined);
   *   does    what it does, as the help says it (a string);
   *   action  function (event): do it; return false when it does not apply after all (the
   *           key then goes on to the next entry or table, else to the browser);
   *   when    optional function (): false while the entry does not exist (neither handled
   *           nor shown), e.g. the label-form keys of a page without a label file;
   *   typing  true when it also acts while the user types in a field (see DC.typing).
   * A page's handler is DC.keys.listen(document, active): active(event) lists the tables
   * in force (in order: the first entry that takes the key wins), e.g. the gallery's table
   * while the gallery is open, the form's table while a form field has the focus. While the
   * image view is open, the view's handler (below) takes the keys and the page's none. */
  var keys = DC.keys = {};

  /* Every table by name, as created (the tests read them to press each documented key). */
  keys.tables = Object.create(null);

  /* The user is typing: the key belongs to the field (text boxes, lists), not the page. */
  DC.typing = function (event) {
    var target = event.target;
    if (!target || !target.tagName) return false;
    if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") {
      return true;
    }
    return target.tagName === "INPUT" &&
      ["checkbox", "radio", "button", "submit", "reset"].indexOf(target.type) < 0;
  };

  /* The name of a pressed key: Ctrl (or the Mac's Cmd) and Alt spelled out, Shift not
     (it is in the key itself: "?", "+", "S"). */
  keys.keyName = function (event) {
    return (event.ctrlKey || event.metaKey ? "Ctrl+" : "") + (event.altKey ? "Alt+" : "") +
      event.key;
  };

  var SHOWN = {Escape: "Esc", ArrowLeft: "\u2190", ArrowRight: "\u2192", ArrowUp: "\u2191",
               ArrowDown: "\u2193", " ": "Space"};

  /* A key name as the help writes it: "Escape" -> "Esc", "Ctrl+s" -> "Ctrl+S". */
  keys.display = function (name) {
    var parts = /^((?:Ctrl\+|Alt\+)*)(.+)$/.exec(name), key = parts[2];
    return parts[1] + (SHOWN[key] || (parts[1] && key.length === 1 ? key.toUpperCase() : key));
  };

  /* A key table named `name` (unique on the page); `entries` is a list or a function giving
   * it (for tables that change with the page's state). `title` heads it in the help. */
  keys.table = function (name, entries, title) {
    var table = {
      name: name, title: title || "",
      /* The entries that exist now, with their labels. */
      entries: function () {
        return (typeof entries === "function" ? entries() : entries).filter(function (e) {
          return !e.when || e.when();
        }).map(function (e) {
          if (e.label === undefined) e.label = e.keys.map(keys.display).join("/");
          return e;
        });
      }
    };
    keys.tables[name] = table;
    return table;
  };

  /* The help of some tables: "j/k next/previous cluster \u00b7 ...", each table after its
     title. */
  keys.help = function (tables) {
    return tables.map(function (table) {
      var text = table.entries().map(function (e) { return e.label + " " + e.does; })
        .join(" \u00b7 ");
      return text && table.title ? table.title + " " + text : text;
    }).filter(Boolean).join(" \u00b7 ");
  };

  /* Ctrl+Z in a text box that is not a label field (those have a data-field: a card's
     form, the image view's own values) undoes its typing, as the browser does it: no
     page's undo takes it there. */
  function textUndo(event, name) {
    return name === "Ctrl+z" && DC.typing(event) && !event.target.hasAttribute("data-field");
  }

  /* Give a pressed key to the first entry of `tables` that takes it; true when one did
     (its default action, e.g. typing the character, is then prevented). */
  keys.dispatch = function (event, tables) {
    if (event.defaultPrevented) return false;  // taken already (e.g. the key that opened a view)
    var name = keys.keyName(event), typing = DC.typing(event);
    if (textUndo(event, name)) return false;
    for (var t = 0; t < tables.length; t++) {
      var entries = tables[t] ? tables[t].entries() : [];
      for (var i = 0; i < entries.length; i++) {
        var entry = entries[i];
        if (entry.keys.indexOf(name) < 0 || typing && !entry.typing) continue;
        if (entry.action(event) === false) continue;
        event.preventDefault();
        return true;
      }
    }
    return false;
  };

  /* A key handler of a node (the document, a table's header row): keys taken by the tables
     that active(event) lists go no further. */
  keys.listen = function (node, active) {
    node.addEventListener("keydown", function (event) {
      if (keys.dispatch(event, active(event))) event.stopPropagation();
    });
  };

  /* Move from a tile to its neighbour in the direction of an arrow key (rows as laid out
     on screen, so the grid may wrap however the window is wide). */
  function moveInGrid(tile, key) {
    var tiles = Array.prototype.slice.call(tile.closest(".tilegrid").querySelectorAll(".tile"));
    var at = tiles.indexOf(tile), next = at;
    if (key === "ArrowLeft") next = at - 1;
    else if (key === "ArrowRight") next = at + 1;
    else {  // the nearest tile in the next row up or down, by its left edge
      var here = tile.getBoundingClientRect();
      var down = key === "ArrowDown", bestScore = Infinity;
      next = -1;
      tiles.forEach(function (other, i) {
        var r = other.getBoundingClientRect();
        var dy = down ? r.top - here.top : here.top - r.top;
        if (dy <= 2) return;  // same row
        var score = dy * 1000 + Math.abs(r.left - here.left);
        if (score < bestScore) { bestScore = score; next = i; }
      });
    }
    if (next >= 0 && next < tiles.length) tiles[next].focus();
  }

  function focusedTile(event) { return event.target.closest && event.target.closest(".tile"); }

  /* Keys on a picture of a tile grid (every page that shows tiles dispatches to it). */
  keys.grid = keys.table("pictures", [
    {keys: ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"],
     label: "\u2190 \u2192 \u2191 \u2193", does: "move between pictures", action: function (event) {
       var tile = focusedTile(event);
       if (!tile) return false;
       moveInGrid(tile, event.key);
     }},
    {keys: ["Enter"], does: "open the picture (or click it)", action: function (event) {
      var tile = focusedTile(event);
      if (!tile) return false;
      tile.click();
    }}], "on a picture:");

  /* ---- the status line and the pager (the one of each that every page uses) ------------ */
  /* A status line: a <p id="status"> saying what just happened. say(text, isError,
   * clustering) rewrites it: errors are alerts (read out at once); with a clustering
   * ({page, name}) a link to its page follows. */
  DC.statusLine = function () {
    var node = DC.el("p", {id: "status", className: "status", role: "status"});
    return {node: node, say: function (text, isError, clustering) {
      node.textContent = text;
      node.className = isError ? "status error" : "status";
      node.setAttribute("role", isError ? "alert" : "status");
      if (clustering) {
        node.appendChild(document.createTextNode(" "));
        node.appendChild(DC.el("a", {href: clustering.page, text: "open " + clustering.name}));
      }
    }};
  };

  /* A pager over a list shown perPage items at a time: previous/next buttons (texts
   * prevText, nextText) and a "page 2 of 5" span (where). State: page (0-based) and pages,
   * changed only by set(); go(page) is the page's function that shows a page (and calls
   * set). turn(step) goes step pages on (nothing past either end). */
  DC.pager = function (prevText, nextText, go) {
    var pager = {page: 0, pages: 1,
                 prev: DC.el("button", {type: "button", text: prevText}),
                 next: DC.el("button", {type: "button", text: nextText}),
                 where: DC.el("span", {className: "count"})};
    pager.turn = function (step) {
      var page = pager.page + step;
      if (page >= 0 && page < pager.pages) go(page);
    };
    /* Record that page (clamped to the pages of count items) is shown; returns it. */
    pager.set = function (page, count, perPage) {
      pager.pages = Math.max(1, Math.ceil(count / perPage));
      pager.page = Math.max(0, Math.min(page, pager.pages - 1));
      pager.prev.disabled = pager.page === 0;
      pager.next.disabled = pager.page + 1 >= pager.pages;
      pager.where.textContent = "page " + (pager.page + 1) + " of " + pager.pages;
      return pager.page;
    };
    pager.prev.addEventListener("click", function () { pager.turn(-1); });
    pager.next.addEventListener("click", function () { pager.turn(1); });
    return pager;
  };

  /* ---- the image view: one dialog per page -------------------------------------- */
  /* The view, built on first use by buildView: {dialog, img, path, info, marks, buttons,
   * help} (its elements), and what DC.openView gives it: list (the items one steps
   * through), index (the one shown, changed by showItem), opts (see DC.openView),
   * returnFocus (the element focused before it opened). */
  var view = null;

  /* Keys of the open view: the marks the page offers (b, n), arrows, Esc; the page's tables
     that stay in force over it (opts.keys) follow, in its handler and its help. */
  var viewKeys = keys.table("image view", function () {
    if (!view || !view.opts) return [];
    var marks = view.opts.marks ? view.opts.marks.keys.map(function (k) {
      return {keys: [k[0]], does: k[1], action: function () { toggle(k[2]); }};
    }) : [];
    var fields = view.opts.fields ? view.opts.fields.attributes.slice(0, 9).map(function (a, i) {
      return {keys: [String(i + 1)], does: "its own " + a, action: function () { focusField(i); }};
    }).concat([
      {keys: ["Enter"], does: "keep the value", typing: true, when: inViewField,
       action: function (event) { commitField(event.target); view.dialog.focus(); }},
      {keys: ["Escape"], does: "back to the picture", typing: true, when: inViewField,
       action: function () { renderFields(); view.dialog.focus(); }}]) : [];
    return fields.concat(marks, [
      {keys: ["ArrowLeft", "ArrowRight"], label: "\u2190 \u2192",
       does: "previous/next (" + (view.index + 1) + " of " + view.list.length + ")",
       action: function (event) {
         var index = view.index + (event.key === "ArrowRight" ? 1 : -1);
         if (index >= 0 && index < view.list.length) showItem(index);
       }},
      {keys: ["Escape"], does: "close", action: DC.closeView}]);
  });

  function buildView() {
    var img = DC.el("img", {alt: ""});
    img.setAttribute("data-fallback", "");  // a missing original falls back to the tile
    var box = DC.el("div", {className: "viewer-box"}, [
      DC.el("div", {className: "viewer-picture"}, [img]),
      DC.el("div", {className: "viewer-side"}, [
        DC.el("p", {className: "viewer-path"}),
        DC.el("dl", {className: "viewer-info"}),
        DC.el("p", {className: "viewer-marks"}),
        DC.el("div", {className: "viewer-buttons"}),
        DC.el("div", {className: "viewer-fields"}),
        DC.el("p", {className: "help viewer-help"})])]);
    var dialog = DC.el("div", {id: "viewer", className: "overlay", hidden: true,
                               role: "dialog", "aria-modal": "true", tabIndex: -1}, [box]);
    dialog.addEventListener("click", function (e) { if (e.target === dialog) DC.closeView(); });
    // while the view is open its keys are taken wherever the focus is (a mark button just
    // clicked is rebuilt, and the focus falls back to the page); the pages' own handlers
    // take none then
    keys.listen(document, function () { return DC.viewOpen() ? viewTables() : []; });
    document.body.appendChild(dialog);
    return {dialog: dialog, img: img, path: box.querySelector(".viewer-path"),
            info: box.querySelector(".viewer-info"), marks: box.querySelector(".viewer-marks"),
            buttons: box.querySelector(".viewer-buttons"), help: box.querySelector(".viewer-help"),
            fields: box.querySelector(".viewer-fields")};
  }

  /* ---- the image's own values in the view (opts.fields) ------------------------------
   * opts.fields: {attributes, get(item) -> {a: its own value}, set(item, a, text) -> a
   * message (an error: a string starting "!"), options(a) -> the values to offer}. A
   * number key focuses a field, Enter keeps its value, Esc goes back to the picture. */
  function inViewField() {
    var active = document.activeElement;
    return !!(view && active && active.classList && active.classList.contains("viewer-field"));
  }

  function focusField(i) {
    var input = view.fields.querySelectorAll(".viewer-field")[i];
    if (input) { input.focus(); input.select(); }
  }

  function commitField(input) {
    var item = view.list[view.index], said = view.opts.fields.set(
      item, input.getAttribute("data-field"), input.value);
    renderMarks();
    renderFields();
    if (said) {
      view.marks.textContent = said.replace(/^!/, "");
      view.marks.className = said.charAt(0) === "!" ? "viewer-marks error" : "viewer-marks";
    }
  }

  function renderFields() {
    var opts = view.opts, item = view.list[view.index];
    view.fields.textContent = "";
    if (!opts.fields) return;
    var own = opts.fields.get(item) || {};
    view.fields.appendChild(DC.el("p", {className: "meta", text: "Its own value (an entry " +
      "under 'images:', over its cluster's):"}));
    opts.fields.attributes.forEach(function (a, i) {
      var input = DC.el("input", {type: "text", className: "viewer-field", autocomplete: "off",
                                  value: Object.prototype.hasOwnProperty.call(own, a) ? own[a] : ""});
      input.setAttribute("data-field", a);
      input.setAttribute("spellcheck", "false");
      var list = DC.el("datalist", {id: "viewer-dl-" + i});
      opts.fields.options(a).slice(0, 60).forEach(function (v) {
        list.appendChild(DC.el("option", {value: v}));
      });
      input.setAttribute("list", "viewer-dl-" + i);
      input.addEventListener("change", function () { commitField(input); });
      view.fields.appendChild(DC.el("label", {className: "field"},
        [DC.el("kbd", {text: i < 9 ? String(i + 1) : ""}), " " + a + " ", input, list]));
    });
  }

  function viewTables() { return [viewKeys].concat(view.opts.keys || []); }

  /* Open the view on list[index]. opts: data (page data), info(item) -> [[term, text]],
   * marks: {keys: [[key, label, name]], get(item) -> {name: bool}, toggle(item, name),
   * describe(item) -> text}, fields: the image's own values (see renderFields), keys:
   * the page's key tables in force over the view (e.g. Ctrl+S), onClose(index) (else the
   * focus goes back where it was). */
  DC.openView = function (list, index, opts) {
    view = view || buildView();
    view.list = list; view.opts = opts; view.returnFocus = document.activeElement;
    view.dialog.hidden = false;
    showItem(index);
    view.dialog.focus();
  };

  DC.closeView = function () {
    if (!view || view.dialog.hidden) return;
    view.dialog.hidden = true;
    if (view.opts.onClose) view.opts.onClose(view.index);
    else if (view.returnFocus && view.returnFocus.focus) view.returnFocus.focus();
  };

  DC.viewOpen = function () { return !!view && !view.dialog.hidden; };

  function showItem(index) {
    var item = view.list[index], opts = view.opts, data = opts.data;
    view.index = index;
    // the original picture; if it does not load, the tile's (thumbnail), else none
    var original = DC.originalUrl(data.imageRoot, item.path);
    var fallback = DC.tileUrl(data, item.path);
    view.img.onerror = function () {
      view.img.onerror = null;
      if (fallback && view.img.src.indexOf(fallback) < 0) view.img.src = fallback;
      else view.img.removeAttribute("src");
    };
    view.img.alt = item.path;
    if (original || fallback) view.img.src = original || fallback;
    else view.img.removeAttribute("src");
    view.path.textContent = item.path;
    view.info.textContent = "";
    (opts.info ? opts.info(item) : []).forEach(function (pair) {
      view.info.appendChild(DC.el("dt", {text: pair[0]}));
      view.info.appendChild(DC.el("dd", {text: pair[1]}));
    });
    renderMarks();
    renderFields();
    view.help.textContent = keys.help(viewTables());  // "n of m" changes with the item
  }

  /* The mark buttons of the shown item (a button per mark, pressed when set) and the
     page's note about it. */
  function renderMarks() {
    var opts = view.opts, item = view.list[view.index];
    view.marks.textContent = ""; view.buttons.textContent = "";
    view.marks.className = "viewer-marks";
    if (!opts.marks) return;
    var state = opts.marks.get(item);
    opts.marks.keys.forEach(function (k) {
      var on = !!state[k[2]];
      var button = DC.el("button", {type: "button", className: on ? "mark on" : "mark",
                                    text: (on ? "\u2713 " : "") + k[1] + " (" + k[0] + ")"});
      button.setAttribute("aria-pressed", String(on));
      button.setAttribute("data-mark", k[2]);
      button.addEventListener("click", function () { toggle(k[2]); });
      view.buttons.appendChild(button);
    });
    var notes = opts.marks.describe ? opts.marks.describe(item) : "";
    view.marks.textContent = notes;
  }

  /* Show the open view's marks and values anew (after an undo, or another page's edit). */
  DC.refreshView = function () {
    if (DC.viewOpen()) { renderMarks(); renderFields(); }
  };

  function toggle(name) {
    view.opts.marks.toggle(view.list[view.index], name);
    renderMarks();
  }
})();
