/* descluster browser: helpers shared by the pages (DOM building, data scripts, tiles and
 * the image view). Everything is built with textContent: no HTML from data or users. */
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

  /* Data scripts call DC.page(...), DC.outliers(...), DC.chunk(name, data). */
  DC.page = function (data) { DC.pageData = data; };
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
  DC.outliers = function (data) { DC.outlierData = data; };
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
     once per page: galleries and maps hold row numbers only. */
  var pathsByRow = null;
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
      }
      done(pathsByRow);
    }, failed);
  };

  /* URL of an original image: the run's image root and the path, segment by segment. */
  DC.originalUrl = function (root, path) {
    var parts = path.split("/");
    if (!root || parts.some(function (p) { return p === "" || p === "." || p === ".."; })) {
      return null;  // only files under the root, as the workflow reads them
    }
    return root + parts.map(encodeURIComponent).join("/");
  };

  /* Best picture of an image for a tile: its thumbnail, else the original, else none. */
  DC.tileUrl = function (data, path) {
    var thumb = data.thumbOf && data.thumbOf[path];
    if (thumb) return data.thumbs + thumb;
    return DC.originalUrl(data.imageRoot, path);
  };

  function placeholder(path, reason) {
    return DC.el("span", {className: "placeholder", text: reason + " " + path.split("/").pop()});
  }

  /* A clickable tile: item {path, caption}; onOpen() when clicked or Enter. */
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

  /* Arrow keys move between the tiles of one grid (rows as laid out on screen). */
  DC.gridKeys = function (event) {
    var tile = event.target.closest && event.target.closest(".tile");
    if (!tile || ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].indexOf(event.key) < 0) {
      return false;
    }
    var grid = tile.closest(".tilegrid");
    var tiles = Array.prototype.slice.call(grid.querySelectorAll(".tile"));
    var at = tiles.indexOf(tile), next = at;
    if (event.key === "ArrowLeft") next = at - 1;
    else if (event.key === "ArrowRight") next = at + 1;
    else {
      var here = tile.getBoundingClientRect();
      var down = event.key === "ArrowDown", best = -1, bestScore = Infinity;
      tiles.forEach(function (other, i) {
        var r = other.getBoundingClientRect();
        var dy = down ? r.top - here.top : here.top - r.top;
        if (dy <= 2) return;
        var score = dy * 1000 + Math.abs(r.left - here.left);
        if (score < bestScore) { bestScore = score; best = i; }
      });
      next = best;
    }
    if (next >= 0 && next < tiles.length) tiles[next].focus();
    event.preventDefault();
    return true;
  };

  /* ---- the image view: one dialog per page -------------------------------------- */
  var view = null;

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
        DC.el("p", {className: "help viewer-help"})])]);
    var dialog = DC.el("div", {id: "viewer", className: "overlay", hidden: true,
                               role: "dialog", "aria-modal": "true", tabIndex: -1}, [box]);
    dialog.addEventListener("click", function (e) { if (e.target === dialog) DC.closeView(); });
    dialog.addEventListener("keydown", viewKeys);
    document.body.appendChild(dialog);
    return {dialog: dialog, img: img, path: box.querySelector(".viewer-path"),
            info: box.querySelector(".viewer-info"), marks: box.querySelector(".viewer-marks"),
            buttons: box.querySelector(".viewer-buttons"), help: box.querySelector(".viewer-help")};
  }

  /* Open the view on list[index]. opts: data (page data), info(item) -> [[term, text]],
   * marks: {keys: [[key, label, name]], get(item) -> {name: bool}, toggle(item, name)},
   * onClose(index). */
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
    var keys = (opts.marks ? opts.marks.keys.map(function (k) { return k[0] + " " + k[1]; }) : [])
      .concat(["\u2190 \u2192 previous/next (" + (index + 1) + " of " + view.list.length + ")",
               "Esc close"]);
    view.help.textContent = keys.join(" \u00b7 ");
  }

  function renderMarks() {
    var opts = view.opts, item = view.list[view.index];
    view.marks.textContent = ""; view.buttons.textContent = "";
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

  function toggle(name) {
    view.opts.marks.toggle(view.list[view.index], name);
    renderMarks();
  }

  function viewKeys(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.tagName === "INPUT") return;
    var opts = view.opts;
    if (event.key === "Escape") DC.closeView();
    else if (event.key === "ArrowRight" && view.index + 1 < view.list.length) showItem(view.index + 1);
    else if (event.key === "ArrowLeft" && view.index > 0) showItem(view.index - 1);
    else if (opts.marks && opts.marks.keys.some(function (k) {
      if (k[0] !== event.key) return false;
      toggle(k[2]);
      return true;
    })) { /* toggled */ } else return;
    event.preventDefault();
    event.stopPropagation();
  }
})();
