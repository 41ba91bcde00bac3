/* descluster browser: the map of every image of one model and variant. A canvas with all
 * points (no sample), coloured by any clustering, ground-truth attribute, propagated label
 * or outlier score; hover shows the picture and path, a click opens the image view; a box
 * or lasso selection lists the images and marks them in the working clustering's label
 * file (shown and chosen in the toolbar, remembered in this browser), kept on top of the
 * file the run used as its page keeps it (DC.labels: its next download includes them;
 * more than 50 at once asks first; Ctrl+Z takes marks back). A labelled clustering's
 * legend and hover name its clusters. The page's keys are the table mapKeys, which also
 * writes its help and its mode buttons. */
(function () {
  "use strict";
  var DC = window.DC, LF = DC.labelfile, el = DC.el;
  var PER_PAGE = 60;  // selected images listed per page
  var LEGEND_MAX = 80;  // legend entries shown
  var MAX_MARK = 20000;  // images one action marks at most (the label file stays readable)
  var GRID = 256;  // hover index: GRID x GRID cells over the uint16 coordinates
  var HOVER_PX = 6;  // a point this close to the pointer (CSS pixels) is under it
  var COORD = 65535;
  var FIXED = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#17becf", "#bcbd22", "#393b79", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
               "#c5b0d5", "#c49c94", "#f7b6d2", "#9edae5", "#dbdb8d", "#637939"];
  var UNKNOWN = "#d0d0d0", OTHER = "#8f8f8f";
  var RAMP = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];  // low -> high score

  /* ---- state ------------------------------------------------------------------------
   * Set once at start: data (DC.pageData), n (images), xs, ys (their uint16 coordinates),
   * drawOrder (a fixed shuffle of the rows), colourings (data.colourings; each caches its
   * decoded codes, palette and score order on first use), grid (the hover index, built
   * after the first paint), canvas and ctx.
   * paths: image path by row, null until paths.js has loaded (loadPaths).
   * current: the colouring shown (the colour list changes it).
   * selected: 1 per selected row, nSelected how many; changed by select and clearSelection.
   * image, pixels (the ImageData and its words), width, height (the canvas's device pixels),
   *   dpr: set by resize; paint draws into pixels.
   * view: map-to-screen transform (scale, tx, ty) and zoom (1 = the whole map), changed by
   *   resetView, zoom and panning.
   * drag: the press being dragged ({mode, start, points, ...}, pointerDown to pointerUp),
   *   else null; hovered: the row under the pointer, else -1.
   * ui: the page's elements (toolbar, legend, selection panel, tip), made at start; with
   *   ui.mode the drag mode (setMode) and ui.pager, ui.say.
   * listPage: the page of the selection list shown (its pager and showSelection change it).
   * chosen: the working clustering ({name, page, file, template, base}: marks go to its
   *   label file), changed by the toolbar's list; states: name -> its labels
   *   (DC.labels.open), opened when first used; ui.labels its unsaved changes. */
  var data, n, xs, ys, paths = null, grid, drawOrder;
  var colourings = [], current = null, selected, nSelected = 0;
  var canvas, ctx, image, pixels, width = 0, height = 0, dpr = 1;
  var view = {scale: 1, tx: 0, ty: 0, zoom: 1}, drag = null, hovered = -1;
  var ui = {}, listPage = 0, chosen = null, states = Object.create(null);

  /* ---- decoding ------------------------------------------------------------------- */
  function typed(b64, size) {
    var raw = DC.bytes(b64);
    return size === 2 ? new Uint16Array(raw.buffer, 0, raw.length / 2) : raw;
  }

  /* A colouring's code per row (uint8 or uint16), decoded on first use and kept. */
  function codesOf(c) {
    if (!c.decoded) c.decoded = typed(c.codes, c.bytes);
    return c.decoded;
  }

  /* ---- colours (ImageData words: 0xAABBGGRR on little-endian machines) ----------- */
  function rgb(hex) {
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
  }

  function word(c, fade) {
    var r = c[0], g = c[1], b = c[2];
    if (fade) {  // most of the way to white: unselected points under a selection
      r = Math.round(255 - (255 - r) * 0.2); g = Math.round(255 - (255 - g) * 0.2);
      b = Math.round(255 - (255 - b) * 0.2);
    }
    return (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
  }

  function hex(c) {
    return "#" + c.map(function (v) { return ("0" + v.toString(16)).slice(-2); }).join("");
  }

  /* The colour of the index-th value of a legend: the fixed palette first, then hues a
     golden angle apart (137.5°: neighbours differ), light and dark in turn; unknown: grey. */
  function categoricalColour(value, index) {
    if (value === "") return rgb(UNKNOWN);
    if (index < FIXED.length) return rgb(FIXED[index]);
    var hue = (index * 137.508) % 360, light = index % 2 ? 0.42 : 0.6, sat = 0.65;
    var k = function (m) { return (m + hue / 30) % 12; };
    var a = sat * Math.min(light, 1 - light);
    return [8, 4, 0].map(function (m) {
      var v = light - a * Math.max(-1, Math.min(k(m) - 3, 9 - k(m), 1));
      return Math.round(255 * v);
    });
  }

  /* The score ramp's colour at t in [0, 1], linear between its stops. */
  function rampColour(t) {
    var at = t * (RAMP.length - 1), i = Math.min(RAMP.length - 2, Math.floor(at)), f = at - i;
    var a = rgb(RAMP[i]), b = rgb(RAMP[i + 1]);
    return [0, 1, 2].map(function (j) { return Math.round(a[j] + (b[j] - a[j]) * f); });
  }

  /* Per code: its colour, as [r, g, b]; categorical values in legend order, 'other' last. */
  function palette(c) {
    if (c.palette) return c.palette;
    var list = [];
    if (c.kind === "score") {
      for (var s = 0; s < 256; s++) list.push(rampColour(s / 255));
    } else {
      var known = 0;
      c.values.forEach(function (v) { list.push(categoricalColour(v, v === "" ? -1 : known++)); });
      list.push(rgb(OTHER));
    }
    c.palette = list;
    c.words = new Uint32Array(list.map(function (x) { return word(x, false); }));
    c.faded = new Uint32Array(list.map(function (x) { return word(x, true); }));
    return list;
  }

  /* Points are drawn in a fixed shuffled order (no cluster hides another by position in the
   * file); by score, highest last, so that outliers stay on top. */
  function shuffled() {
    var order = new Uint32Array(n), state = 2463534242;
    for (var i = 0; i < n; i++) order[i] = i;
    for (var j = n - 1; j > 0; j--) {
      state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
      var k = state % (j + 1), t = order[j];
      order[j] = order[k]; order[k] = t;
    }
    return order;
  }

  /* The drawing order of a colouring: drawOrder, by score a counting sort of it by code
     (stable, so equal scores keep the shuffle), computed once. */
  function orderFor(c) {
    if (c.kind !== "score") return drawOrder;
    if (c.order) return c.order;
    var codes = codesOf(c), counts = new Uint32Array(257), out = new Uint32Array(n);
    for (var i = 0; i < n; i++) counts[codes[i] + 1]++;
    for (var s = 1; s < 257; s++) counts[s] += counts[s - 1];
    for (var j = 0; j < n; j++) { var p = drawOrder[j]; out[counts[codes[p]]++] = p; }
    c.order = out;
    return out;
  }

  /* ---- the hover index ------------------------------------------------------------ */
  function buildGrid() {
    var shift = 16 - Math.log2(GRID), starts = new Uint32Array(GRID * GRID + 1);
    var cell = new Uint32Array(n), items = new Uint32Array(n);
    for (var i = 0; i < n; i++) {
      cell[i] = (ys[i] >> shift) * GRID + (xs[i] >> shift);
      starts[cell[i] + 1]++;
    }
    for (var c = 1; c <= GRID * GRID; c++) starts[c] += starts[c - 1];
    var fill = starts.slice(0, GRID * GRID);
    for (var j = 0; j < n; j++) items[fill[cell[j]]++] = j;
    return {shift: shift, starts: starts, items: items};
  }

  /* Index of the point nearest the screen position (device pixels), or -1. */
  function pointAt(sx, sy) {
    var dx = (sx - view.tx) / view.scale, dy = (sy - view.ty) / view.scale;
    var radius = HOVER_PX * dpr / view.scale, best = -1, bestD = radius * radius;
    var size = 1 << grid.shift;
    var x0 = Math.max(0, Math.floor((dx - radius) / size)), x1 = Math.min(GRID - 1, Math.floor((dx + radius) / size));
    var y0 = Math.max(0, Math.floor((dy - radius) / size)), y1 = Math.min(GRID - 1, Math.floor((dy + radius) / size));
    for (var gy = y0; gy <= y1; gy++) {
      for (var gx = x0; gx <= x1; gx++) {
        var cell = gy * GRID + gx;
        for (var at = grid.starts[cell]; at < grid.starts[cell + 1]; at++) {
          var i = grid.items[at], ex = xs[i] - dx, ey = ys[i] - dy, d = ex * ex + ey * ey;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
    }
    return best;
  }

  /* ---- drawing -------------------------------------------------------------------- */
  function resize() {
    dpr = window.devicePixelRatio || 1;
    var box = ui.box.getBoundingClientRect();
    var w = Math.max(200, Math.round(box.width * dpr)), h = Math.max(200, Math.round(box.height * dpr));
    if (w === width && h === height) return false;
    var first = width === 0;
    width = canvas.width = w; height = canvas.height = h;
    image = ctx.createImageData(width, height);
    pixels = new Uint32Array(image.data.buffer);
    if (first) resetView(); else paint();
    return true;
  }

  /* The whole map: the points' bounding box, centred, with a margin. */
  function resetView() {
    var minX = COORD, maxX = 0, minY = COORD, maxY = 0;
    for (var i = 0; i < n; i++) {
      if (xs[i] < minX) minX = xs[i];
      if (xs[i] > maxX) maxX = xs[i];
      if (ys[i] < minY) minY = ys[i];
      if (ys[i] > maxY) maxY = ys[i];
    }
    view.zoom = 1;
    view.scale = 0.96 * Math.min(width / (maxX - minX + 1), height / (maxY - minY + 1));
    view.tx = (width - (minX + maxX) * view.scale) / 2;
    view.ty = (height - (minY + maxY) * view.scale) / 2;
    paint();
  }

  /* Side of a point in device pixels: about a third of the spacing points would have
     spread evenly over the canvas, growing with the square root of the zoom, 1 to 8. */
  function pointSize() {
    var base = 0.3 * Math.sqrt(width * height / Math.max(n, 1));
    return Math.max(1, Math.min(8, Math.round(base * Math.sqrt(view.zoom))));
  }

  /* Paint row i as a size x size square (clipped); 1 when it is on the canvas, else 0. */
  function plot(i, colour, size) {
    var px = (xs[i] * view.scale + view.tx) | 0, py = (ys[i] * view.scale + view.ty) | 0;
    if (px < 0 || py < 0 || px >= width || py >= height) return 0;
    if (size === 1) { pixels[py * width + px] = colour; return 1; }
    var x0 = Math.max(0, px - (size >> 1)), y0 = Math.max(0, py - (size >> 1));
    var x1 = Math.min(width, x0 + size), y1 = Math.min(height, y0 + size);
    for (var y = y0; y < y1; y++) pixels.fill(colour, y * width + x0, y * width + x1);
    return 1;
  }

  /* Repaint every point; under a selection the others are faded and the selected ones
     painted again on top. data-painted says how many points are on the canvas (tests). */
  function paint() {
    if (!width) return;
    var c = current, codes = codesOf(c), order = orderFor(c), size = pointSize();
    palette(c);
    pixels.fill(0xffffffff);
    var words = nSelected ? c.faded : c.words, painted = 0, i, j;
    for (j = 0; j < n; j++) { i = order[j]; painted += plot(i, words[codes[i]], size); }
    if (nSelected) {
      for (j = 0; j < n; j++) { i = order[j]; if (selected[i]) plot(i, c.words[codes[i]], size); }
    }
    canvas.setAttribute("data-painted", String(painted));
    overlay();
  }

  /* The painted points, then what is drawn over them: the box or lasso being drawn, the
   * point under the pointer. */
  function overlay() {
    ctx.putImageData(image, 0, 0);
    ctx.lineWidth = Math.max(1, dpr);
    if (drag && drag.mode === "box" && drag.moved) {
      ctx.strokeStyle = "#000";
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.strokeRect(drag.x0, drag.y0, drag.x - drag.x0, drag.y - drag.y0);
      ctx.setLineDash([]);
    } else if (drag && drag.mode === "lasso" && drag.points.length > 1) {
      ctx.strokeStyle = "#000";
      ctx.beginPath();
      drag.points.forEach(function (p, k) { if (k) ctx.lineTo(p[0], p[1]); else ctx.moveTo(p[0], p[1]); });
      ctx.closePath();
      ctx.stroke();
    }
    if (hovered >= 0) {
      ctx.strokeStyle = "#000";
      ctx.beginPath();
      ctx.arc(xs[hovered] * view.scale + view.tx, ys[hovered] * view.scale + view.ty,
              4 * dpr, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  /* Draw once at the next frame (pointer moves come faster than frames); scheduled: a
     frame is already asked for. */
  var scheduled = false;
  function later(what) {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(function () { scheduled = false; what(); });
  }

  /* ---- selecting ------------------------------------------------------------------ */
  function toData(sx, sy) { return [(sx - view.tx) / view.scale, (sy - view.ty) / view.scale]; }

  /* Select the rows for which test(row) holds: instead of the selection, or with add in
     addition to it. */
  function select(test, add) {
    if (!add) { selected.fill(0); nSelected = 0; }
    for (var i = 0; i < n; i++) {
      if (!selected[i] && test(i)) { selected[i] = 1; nSelected++; }
    }
    listPage = 0;
    paint();
    showSelection();
  }

  function selectBox(a, b, add) {
    var p = toData(Math.min(a[0], b[0]), Math.min(a[1], b[1]));
    var q = toData(Math.max(a[0], b[0]), Math.max(a[1], b[1]));
    select(function (i) { return xs[i] >= p[0] && xs[i] <= q[0] && ys[i] >= p[1] && ys[i] <= q[1]; }, add);
  }

  /* Select the rows inside the polygon points (screen pixels): a bounding-box test first,
     then the even-odd rule (a ray to the right crosses the edges an odd number of times). */
  function selectLasso(points, add) {
    if (points.length < 3) return;
    var poly = points.map(function (p) { return toData(p[0], p[1]); });
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    poly.forEach(function (p) {
      minX = Math.min(minX, p[0]); maxX = Math.max(maxX, p[0]);
      minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]);
    });
    select(function (i) {
      var x = xs[i], y = ys[i], inside = false;
      if (x < minX || x > maxX || y < minY || y > maxY) return false;
      for (var a = 0, b = poly.length - 1; a < poly.length; b = a++) {
        if ((poly[a][1] > y) !== (poly[b][1] > y) &&
            x < (poly[b][0] - poly[a][0]) * (y - poly[a][1]) / (poly[b][1] - poly[a][1]) + poly[a][0]) {
          inside = !inside;
        }
      }
      return inside;
    }, add);
  }

  function clearSelection() {
    if (!nSelected) return;
    selected.fill(0); nSelected = 0;
    paint();
    showSelection();
  }

  function selectedRows() {
    var rows = [];
    for (var i = 0; i < n; i++) if (selected[i]) rows.push(i);
    return rows;
  }

  function status(text, isError, link) { ui.say(text, isError, link); }

  /* The labels of the working clustering (opened once, followed across tabs). */
  function chosenState() {
    if (!states[chosen.name]) {
      var target = chosen;
      states[target.name] = DC.labels.open(target, data.rules);
      DC.store.onChange(target.name, target.base.hash, function () {
        if (states[target.name].sync()) { showLabels(); status(DC.labels.CHANGED_ELSEWHERE); }
      });
    }
    return states[chosen.name];
  }

  /* The toolbar's line on the working clustering's unsaved changes. */
  function showLabels() {
    if (!chosen) return;
    var state = chosenState();
    if (!ui.labels || ui.labels.state !== state) {
      ui.labels = DC.labels.panel(state);
      ui.labels.state = state;
      ui.labelsBox.textContent = "";
      ui.labelsBox.appendChild(ui.labels.node);
    } else ui.labels.update();
    DC.refreshView();
  }

  function undo() {
    if (!chosen) return;
    var state = chosenState(), what = state.undo();
    status(what ? "Undone in " + state.name + ": " + what + "." : DC.labels.NOTHING_TO_UNDO);
    showLabels();
  }

  function markSelection(name, value, what) {
    if (!chosen) return;
    if (!paths) { status("The image paths are still loading; try again in a moment.", true); return; }
    if (!nSelected) { status("Select images first (box: b, lasso: l).", true); return; }
    if (value && nSelected > MAX_MARK) {
      status(nSelected + " images are selected; mark at most " + MAX_MARK + " at once (name " +
             "their clusters on the clustering page instead).", true);
      return;
    }
    var state = chosenState(), count = nSelected;
    if (!state.doc) { status(state.problem, true); return; }
    var marked = selectedRows().map(function (i) { return paths[i]; });
    DC.labels.markMany(state, marked, name, value, what + " (" + count + " selected images)",
      function (changed) {
        if (changed === null) { status("Nothing marked: cancelled."); return; }
        if (!state.keptOk) {
          status("This browser keeps nothing for these pages, so the marks cannot reach the " +
                 "label file; mark images on the clustering page's image view.", true);
          return;
        }
        status(count + " selected image(s) " + what + " in the label file of " + chosen.name +
               " (" + changed + " change(s)), kept in this browser: its page's next download " +
               "includes them (Ctrl+Z takes them back).", false, chosen);
        showLabels();
      });
  }

  /* ---- the image view ------------------------------------------------------------- */
  /* How the legend and the hover name a value of a colouring: a cluster by its number and,
     when the clustering is labelled, its name in the label file the run used. */
  function valueText(c, code) {
    if (code >= c.values.length) return "(other values)";
    var v = c.values[code];
    if (v === "") return "(unknown)";
    if (c.group !== "clustering") return v;
    var name = c.names ? c.names[code] : "";
    return "cluster " + v + (name ? " \u00b7 " + name : "");
  }

  function describe(i) {
    var info = [["image row", String(i)]];
    colourings.forEach(function (c) {
      var code = codesOf(c)[i];
      if (c.kind === "score") info.push([c.name, "percentile " + Math.round(100 * code / 255)]);
      else {
        info.push([c.group === "clustering" ? c.name : c.name + " (" + c.group + ")",
                   valueText(c, code)]);
      }
    });
    return info;
  }

  function viewOptions(onClose) {
    return {
      data: data, onClose: onClose,
      info: function (item) { return describe(item.row); },
      keys: [undoKeys],
      marks: chosen ? {
        keys: LF.IMAGE_MARKS,
        get: function (item) { return chosenState().image(item.path) || {}; },
        toggle: function (item, name) {
          var state = chosenState(), image = state.image(item.path);
          if (!state.doc) { status(state.problem, true); return; }
          var now = !(image && image[name]);
          // the words of the mark ("not this cluster"), not its key in the file (not_cluster)
          var words = LF.IMAGE_MARKS.filter(function (mark) { return mark[2] === name; })[0][1];
          state.mark([item.path], name, now, (now ? "marked '" : "unmarked '") + words + "': " +
                     item.path);
          status(item.path + ": " + (now ? "" : "no longer ") + "marked '" + words + "' in the " +
                 "label file of " + chosen.name + " (Ctrl+Z takes it back).", false, chosen);
          showLabels();
        },
        describe: function () { return "Marks go into the label file of " + chosen.name + "."; }
      } : null
    };
  }

  function openRows(rows, index, onClose) {
    if (!paths) { status("The image paths are still loading; try again in a moment.", true); return; }
    var items = rows.map(function (i) { return {path: paths[i], row: i}; });
    DC.openView(items, index, viewOptions(onClose || function () { canvas.focus(); }));
  }

  /* ---- the hover tip -------------------------------------------------------------- */
  function showTip(i, cssX, cssY) {
    if (i < 0) { ui.tip.hidden = true; return; }
    var c = current, code = codesOf(c)[i], value;
    if (c.kind === "score") value = c.name + ": percentile " + Math.round(100 * code / 255);
    else value = (c.group === "clustering" ? "" : c.name + ": ") + valueText(c, code);
    var path = paths ? paths[i] : null;
    var url = path ? DC.originalUrl(data.imageRoot, path) : null;
    if (url) {
      if (ui.tipImg.getAttribute("data-path") !== path) {
        ui.tipImg.hidden = false;
        ui.tipImg.src = url;
        ui.tipImg.setAttribute("data-path", path);
      }
    } else ui.tipImg.hidden = true;
    ui.tipPath.textContent = path || "image row " + i + " (paths loading\u2026)";
    ui.tipValue.textContent = value;
    ui.tip.hidden = false;
    var box = ui.box.getBoundingClientRect();
    var left = cssX + 14, top = cssY + 14;
    if (left + 240 > box.width) left = Math.max(0, cssX - 254);
    if (top + 200 > box.height) top = Math.max(0, cssY - 214);
    ui.tip.style.left = left + "px";
    ui.tip.style.top = top + "px";
  }

  /* ---- pointer and keys ----------------------------------------------------------- */
  function position(event) {
    var r = canvas.getBoundingClientRect();
    return {cssX: event.clientX - r.left, cssY: event.clientY - r.top,
            x: (event.clientX - r.left) * dpr, y: (event.clientY - r.top) * dpr};
  }

  function setMode(mode) {
    ui.mode = mode;
    Object.keys(ui.modes).forEach(function (m) {
      ui.modes[m].setAttribute("aria-pressed", String(m === mode));
      ui.modes[m].className = m === mode ? "mode on" : "mode";
    });
    canvas.setAttribute("data-mode", mode);
  }

  function pointerDown(event) {
    if (event.button !== 0) return;
    var p = position(event);
    canvas.setPointerCapture(event.pointerId);
    drag = {mode: ui.mode, x0: p.x, y0: p.y, x: p.x, y: p.y, tx: view.tx, ty: view.ty,
            moved: false, points: [[p.x, p.y]], add: event.shiftKey};
  }

  function pointerMove(event) {
    var p = position(event);
    if (!drag) {
      var i = pointAt(p.x, p.y);
      if (i !== hovered) { hovered = i; later(overlay); }
      showTip(i, p.cssX, p.cssY);
      return;
    }
    if (Math.abs(p.x - drag.x0) + Math.abs(p.y - drag.y0) > 3 * dpr) drag.moved = true;
    drag.x = p.x; drag.y = p.y;
    ui.tip.hidden = true;
    hovered = -1;
    if (drag.mode === "pan") {
      view.tx = drag.tx + p.x - drag.x0;
      view.ty = drag.ty + p.y - drag.y0;
      later(paint);
    } else {
      var last = drag.points[drag.points.length - 1];
      if (Math.abs(p.x - last[0]) + Math.abs(p.y - last[1]) >= 3 * dpr) drag.points.push([p.x, p.y]);
      later(overlay);
    }
  }

  /* The end of a press: without moving it is a click (a point opens, empty space clears
     the selection unless Shift); a drag selects by box or lasso, or ends a pan. */
  function pointerUp(event) {
    if (!drag) return;
    var d = drag, p = position(event);
    drag = null;
    if (!d.moved) {
      overlay();
      var i = pointAt(p.x, p.y);
      if (i >= 0) openRows([i], 0);
      else if (d.mode !== "pan" && !d.add) clearSelection();
      return;
    }
    if (d.mode === "box") selectBox([d.x0, d.y0], [p.x, p.y], d.add);
    else if (d.mode === "lasso") selectLasso(d.points, d.add);
    else paint();
  }

  /* Zoom by factor (the zoom kept within 0.5 to 400) about the screen point sx, sy, which
     stays where it is. */
  function zoom(factor, sx, sy) {
    var next = Math.max(0.5, Math.min(400, view.zoom * factor));
    factor = next / view.zoom;
    view.zoom = next;
    view.tx = sx - (sx - view.tx) * factor;
    view.ty = sy - (sy - view.ty) * factor;
    view.scale *= factor;
    later(paint);
  }

  function wheel(event) {
    event.preventDefault();
    var p = position(event);
    zoom(Math.exp(-event.deltaY * 0.0015), p.x, p.y);
  }

  /* ---- keys -----------------------------------------------------------------------
   * The map's keys (the selection list's tiles take DC.keys.grid's); the help, the mode
   * buttons' and the reset button's texts are written from them. */
  function modeEntry(key, mode, does) {
    return {keys: [key], does: does, mode: mode, action: function () { setMode(mode); }};
  }
  var MODES = [modeEntry("p", "pan", "pan"), modeEntry("b", "box", "box select"),
               modeEntry("l", "lasso", "lasso")];
  var WHOLE = {keys: ["0"], does: "whole map", action: function () { resetView(); }};
  var mapKeys = DC.keys.table("map", MODES.concat([
    {keys: ["+", "="], does: "zoom in", action: function () { zoom(1.5, width / 2, height / 2); }},
    {keys: ["-"], does: "zoom out", action: function () { zoom(1 / 1.5, width / 2, height / 2); }},
    WHOLE,
    {keys: ["Escape"], does: "clear the selection", action: function () { clearSelection(); }}]));

  /* Keys that act over the image view too. */
  var undoKeys = DC.keys.table("marks", [
    {keys: ["Ctrl+z"], typing: true,
     does: "undo the last edit of the working clustering's labels (from any page)",
     when: function () { return !!chosen; }, action: undo}]);

  /* A button doing what a key does, named after it: "box select (b)". */
  function keyButton(entry) {
    return el("button", {type: "button",
                         text: entry.does + " (" + DC.keys.display(entry.keys[0]) + ")"});
  }

  /* ---- toolbar, legend, selection panel ------------------------------------------- */
  function buildToolbar() {
    var root = document.getElementById("mapbar");
    ui.colour = el("select", {id: "colourby", "aria-label": "colour by"});
    var groups = {};
    colourings.forEach(function (c, index) {
      if (!groups[c.group]) {
        groups[c.group] = el("optgroup", {label: c.group});
        ui.colour.appendChild(groups[c.group]);
      }
      groups[c.group].appendChild(el("option", {value: String(index), text: c.name}));
    });
    ui.colour.addEventListener("change", function () {
      current = colourings[Number(ui.colour.value)];
      paint();
      showLegend();
    });
    ui.modes = {};
    var modeButtons = MODES.map(function (entry) {
      var button = keyButton(entry);
      button.className = "mode";
      button.setAttribute("data-mode", entry.mode);
      button.addEventListener("click", function () { setMode(entry.mode); canvas.focus(); });
      ui.modes[entry.mode] = button;
      return button;
    });
    var reset = keyButton(WHOLE);
    reset.addEventListener("click", resetView);
    root.appendChild(el("div", {className: "toolbar-row"}, [
      el("label", {}, ["colour by ", ui.colour])].concat(modeButtons).concat([
      reset, el("span", {className: "count", text: n.toLocaleString("en") + " images"})])));
    ui.clustering = el("select", {id: "markin", "aria-label": "the working clustering"});
    var names = data.clusterings.map(function (c) { return c.name; });
    data.clusterings.forEach(function (c, i) {
      ui.clustering.appendChild(el("option", {value: String(i), text: c.name}));
    });
    chosen = data.clusterings.length ?
      data.clusterings[names.indexOf(DC.labels.working(data, names))] : null;
    if (chosen) ui.clustering.value = String(data.clusterings.indexOf(chosen));
    ui.clustering.addEventListener("change", function () {
      chosen = data.clusterings[Number(ui.clustering.value)];
      DC.labels.setWorking(data, chosen.name);
      ui.workingNote.textContent = DC.labels.workingNote(data, names);
      status("Working clustering: " + chosen.name + " (remembered in this browser: the " +
             "outliers page marks in it too).");
      showLabels();
    });
    // until a person chooses, the choice is a default: said so beside it
    ui.workingNote = el("span", {className: "meta", id: "working-note",
                                 text: DC.labels.workingNote(data, names)});
    ui.labelsBox = el("div", {});
    if (chosen) {
      root.appendChild(el("div", {className: "toolbar-row"}, [
        el("label", {}, ["working clustering (marks go to its label file): ", ui.clustering]),
        " ", ui.workingNote]));
      root.appendChild(ui.labelsBox);
    }
    root.appendChild(el("p", {className: "help", text: "drag: pan, box or lasso (Shift adds to " +
      "the selection) \u00b7 wheel: zoom \u00b7 click a point: open it \u00b7 " +
      DC.keys.help([mapKeys, undoKeys, DC.keys.grid])}));
  }

  function showLegend() {
    var root = ui.legend, c = current;
    root.textContent = "";
    root.appendChild(el("h2", {text: c.name}));
    root.appendChild(el("p", {className: "meta", text: c.group}));
    var colours = palette(c);
    if (c.kind === "score") {
      var stops = RAMP.map(function (h, k) { return h + " " + Math.round(100 * k / (RAMP.length - 1)) + "%"; });
      root.appendChild(el("div", {className: "ramp", style: "background:linear-gradient(to right," +
                                                            stops.join(",") + ")"}));
      var ticks = el("dl", {className: "ticks"});
      c.ticks.forEach(function (t) {
        ticks.appendChild(el("dt", {text: t[0] === 1 ? "max" : "percentile " + Math.round(100 * t[0])}));
        ticks.appendChild(el("dd", {text: DC.num(t[1])}));
      });
      root.appendChild(ticks);
      root.appendChild(el("p", {className: "help", text: "Highest scores are drawn on top."}));
      return;
    }
    var list = el("ul", {className: "entries"});
    var entries = c.values.map(function (v, code) { return [code, v, c.counts[code]]; });
    if (c.other) entries.push([c.values.length, null, c.other]);
    entries.slice(0, LEGEND_MAX).forEach(function (e) {
      var label = valueText(c, e[0]);
      var button = el("button", {type: "button", className: "entry",
                                 title: "select these images (Shift adds)"}, [
        el("span", {className: "swatch", style: "background:" + hex(colours[e[0]])}),
        el("span", {className: "value", text: label}),
        el("span", {className: "n", text: String(e[2])})]);
      button.setAttribute("data-code", String(e[0]));
      button.addEventListener("click", function (event) {
        var codes = codesOf(c), code = e[0];
        select(function (i) { return codes[i] === code; }, event.shiftKey);
      });
      list.appendChild(el("li", {}, [button]));
    });
    root.appendChild(list);
    if (entries.length > LEGEND_MAX) {
      root.appendChild(el("p", {className: "meta", text: (entries.length - LEGEND_MAX) +
                                " more values (most frequent shown)"}));
    }
  }

  function buildSelection() {
    var root = document.getElementById("selection");
    ui.count = el("h2", {id: "selected-count"});
    var buttons = [["mark-bad", "mark bad", "outlier", true, "marked bad"],
                   ["mark-notcluster", "mark not this cluster", "not_cluster", true,
                    "marked 'not this cluster'"],
                   ["unmark", "remove their marks", null, false, "unmarked"]]
      .map(function (b) {
        var button = el("button", {type: "button", id: b[0], text: b[1]});
        button.addEventListener("click", function () { markSelection(b[2], b[3], b[4]); });
        return button;
      });
    var clear = el("button", {type: "button", text: "clear selection (Esc)"});
    clear.addEventListener("click", clearSelection);
    var line = DC.statusLine();
    ui.status = line.node;
    ui.say = line.say;
    ui.pager = DC.pager("\u2190 previous", "next \u2192", function (page) {
      listPage = page;
      showSelection();
    });
    ui.grid = el("div", {className: "tilegrid gallery-grid", id: "selected-tiles"});
    var marking = chosen ? [el("span", {className: "meta", text: "in the working clustering's " +
                                        "label file (above): "})]
      .concat(buttons) : [el("span", {className: "meta", text: "no clustering to mark in"})];
    root.appendChild(ui.count);
    root.appendChild(el("div", {className: "tablebar"}, marking.concat([clear])));
    root.appendChild(ui.status);
    root.appendChild(el("div", {className: "tablebar"},
                        [ui.pager.prev, ui.pager.next, ui.pager.where]));
    root.appendChild(ui.grid);
    showSelection();
  }

  function showSelection() {
    ui.count.textContent = nSelected ? nSelected.toLocaleString("en") + " images selected" :
      "No images selected";
    document.body.setAttribute("data-selected", String(nSelected));
    ui.grid.textContent = "";
    var rows = nSelected ? selectedRows() : [];
    listPage = ui.pager.set(listPage, rows.length, PER_PAGE);
    ui.pager.prev.hidden = ui.pager.next.hidden = ui.pager.where.hidden = !rows.length;
    if (!rows.length) return;
    if (!paths) { ui.grid.textContent = "Loading the image paths\u2026"; return; }
    var first = listPage * PER_PAGE, shown = rows.slice(first, first + PER_PAGE);
    shown.forEach(function (i, at) {
      var tile = DC.tile(data, {path: paths[i], caption: paths[i].split("/").pop()}, function () {
        openRows(shown, at, function (k) {
          var tiles = ui.grid.querySelectorAll(".tile");
          if (tiles[k]) tiles[k].focus();
        });
      });
      ui.grid.appendChild(tile);
    });
  }

  /* ---- the paths, loaded after the first paint ------------------------------------ */
  function loadPaths() {
    DC.loadPaths(data, function (byRow) {
      if (byRow.length !== n) {
        status("The image paths (" + data.paths + ") are of another run: rerun the workflow.", true);
        return;
      }
      paths = byRow;
      document.body.setAttribute("data-paths", "loaded");
      showSelection();
    }, function (url) {
      status("The image paths (" + url + ") could not be loaded: has results/report been moved?", true);
    });
  }

  /* ---- start ---------------------------------------------------------------------- */
  document.addEventListener("DOMContentLoaded", function () {
    data = DC.takePageData("The map's data could not be loaded: has results/report been moved " +
      "without its map_*.js files?");
    if (!data) return;
    n = data.n;
    xs = typed(data.x, 2);
    ys = typed(data.y, 2);
    selected = new Uint8Array(n);
    drawOrder = shuffled();
    colourings = data.colourings;
    current = colourings[0];
    canvas = document.getElementById("map");
    ctx = canvas.getContext("2d");
    ui.box = document.getElementById("mapbox");
    ui.legend = document.getElementById("legend");
    ui.tipImg = el("img", {alt: ""});
    ui.tipImg.setAttribute("data-fallback", "");  // a missing picture is not an error here
    ui.tipImg.addEventListener("error", function () { ui.tipImg.hidden = true; });
    ui.tipPath = el("p", {className: "tip-path"});
    ui.tipValue = el("p", {className: "tip-value"});
    ui.tip = document.getElementById("tip");
    [ui.tipImg, ui.tipPath, ui.tipValue].forEach(function (node) { ui.tip.appendChild(node); });
    buildToolbar();
    setMode("pan");
    showLegend();
    resize();
    document.body.setAttribute("data-first-paint-ms", String(Math.round(window.performance.now())));
    buildSelection();
    showLabels();
    grid = buildGrid();
    canvas.addEventListener("pointerdown", pointerDown);
    canvas.addEventListener("pointermove", pointerMove);
    canvas.addEventListener("pointerup", pointerUp);
    canvas.addEventListener("pointerleave", function () {
      if (drag) return;
      hovered = -1; ui.tip.hidden = true; later(overlay);
    });
    canvas.addEventListener("wheel", wheel, {passive: false});
    DC.keys.listen(document, function () {
      return DC.viewOpen() ? [] : [mapKeys, undoKeys, DC.keys.grid];  // the view: its own
    });
    window.addEventListener("resize", function () { later(resize); });
    window.setTimeout(loadPaths, 0);
  });
})();
