/* descluster browser: a clustering's page. A card per cluster with its pictures and a form
 * to name it; every change is kept in the browser's storage (keyed by run and clustering)
 * at once; "Download label file" writes the workflow's label file. Keyboard first. */
(function () {
  "use strict";
  var DC = window.DC, LF = DC.labelfile, el = DC.el;
  var KINDS = ["nearest", "random", "farthest"];
  var PER_PAGE = 100;  // gallery tiles per page
  var data, doc, storageKey, current = 0, bar = {}, gallery = null, storageOk = true;
  // maps keyed by data (ids, paths, values) have no prototype: any key is a plain key
  var infos = Object.create(null), otherValues = Object.create(null);
  var tilesByPath = Object.create(null);

  /* ---- storage -------------------------------------------------------------------- */
  function stored() {
    try { return window.localStorage.getItem(storageKey); } catch (e) {
      storageOk = false;
      return null;
    }
  }

  function save() {
    if (!doc) return;
    try { window.localStorage.setItem(storageKey, LF.serialize(doc)); storageOk = true; }
    catch (e) { storageOk = false; }
    showSaved();
  }

  function showSaved() {
    bar.saved.textContent = storageOk ? "kept in this browser" :
      "this browser keeps nothing for this page: download the label file before closing it";
    bar.saved.className = storageOk ? "saved" : "saved error";
    counts();
  }

  /* Values of the run's other clusterings kept in this browser: suggestions too. */
  function readOtherClusterings() {
    var prefix = LF.storageKey(data.run, "");
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        if (key.indexOf(prefix) !== 0 || key === storageKey) continue;
        var other = LF.parse(window.localStorage.getItem(key));
        other.clusters.forEach(function (c) {
          Object.keys(c.values).forEach(function (a) {
            if (c.values[a]) (otherValues[a] = otherValues[a] || []).push(c.values[a]);
          });
        });
      }
    } catch (e) { /* unreadable entries give no suggestions */ }
  }

  function sameClusters(a) {
    return a.clusters.length === data.clusters.length && a.clusters.every(function (c, i) {
      return c.id === data.clusters[i].id;
    });
  }

  /* Clusters whose size is not this run's: the file may be from another run. */
  function otherSizes(a) {
    return a.clusters.filter(function (c, i) { return Number(c.size) !== data.clusters[i].size; })
      .map(function (c) { return c.id; });
  }

  /* ---- messages --------------------------------------------------------------------- */
  function status(text, isError, extra) {
    bar.status.textContent = text;
    bar.status.className = isError ? "status error" : "status";
    bar.status.setAttribute("role", isError ? "alert" : "status");
    if (extra) bar.status.appendChild(extra);
  }

  /* ---- the label document ---------------------------------------------------------- */
  function entry(index) { return doc.clusters[index]; }

  function named(c) {
    return c.mixed || c.outlier || doc.attributes.some(function (a) { return !!c.values[a]; });
  }

  function clean(text) { return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ""); }

  function imageEntry(path, create) {
    for (var i = 0; i < doc.images.length; i++) if (doc.images[i].path === path) return doc.images[i];
    if (!create) return null;
    var image = {path: path, values: Object.create(null), note: "", outlier: false,
                 not_cluster: false};
    doc.images.push(image);
    return image;
  }

  function toggleMark(path, name) {
    var image = imageEntry(path, true);
    image[name] = !image[name];
    var empty = !image.outlier && !image.not_cluster && !image.note &&
      !Object.keys(image.values).some(function (a) { return image.values[a]; });
    if (empty) doc.images.splice(doc.images.indexOf(image), 1);
    save();
    markTiles(path);
  }

  function markTiles(path) {
    var image = doc ? imageEntry(path, false) : null;
    (tilesByPath[path] || []).forEach(function (tile) {
      tile.classList.toggle("bad", !!(image && image.outlier));
      tile.classList.toggle("notcluster", !!(image && image.not_cluster));
    });
  }

  /* Suggestions for an attribute: values of this clustering (most used first), then the
   * ground truth's and propagated labels' values, then other clusterings' in this browser;
   * the cluster being edited (index except) does not count. */
  function suggestions(attribute, except) {
    var used = Object.create(null);
    doc.clusters.forEach(function (c, i) {
      var v = i === except ? "" : c.values[attribute];
      if (v) used[v] = (used[v] || 0) + 1;
    });
    var list = Object.keys(used).sort(function (a, b) {
      return used[b] - used[a] || a.localeCompare(b);
    });
    ((data.suggestions || {})[attribute] || []).concat(otherValues[attribute] || [])
      .forEach(function (v) { if (!used[v]) { used[v] = -1; list.push(v); } });
    return list;
  }

  function refreshDatalist(index) {
    var list = document.getElementById("dl-" + index);
    if (!list) return;
    list.textContent = "";
    suggestions(doc.attributes[index]).slice(0, 60).forEach(function (v) {
      list.appendChild(el("option", {value: v}));
    });
  }

  /* ---- the toolbar ------------------------------------------------------------------ */
  function buildToolbar() {
    var root = document.getElementById("toolbar");
    bar.counter = el("strong", {id: "unnamed", "aria-live": "polite"});
    bar.marked = el("span", {id: "marked"});
    bar.saved = el("span", {className: "saved"});
    bar.download = el("button", {type: "button", id: "download", text: "Download label file"});
    bar.download.addEventListener("click", download);
    bar.open = el("button", {type: "button", id: "open", text: "Open label file\u2026"});
    bar.file = el("input", {type: "file", id: "openfile", accept: ".yaml,.yml", hidden: true});
    bar.open.addEventListener("click", function () { bar.file.click(); });
    bar.file.addEventListener("change", openFile);
    bar.status = el("p", {id: "status", className: "status", role: "status"});
    bar.help = el("p", {id: "help", className: "help"});
    root.appendChild(el("div", {className: "toolbar-row"},
      [bar.counter, bar.marked, bar.download, bar.open, bar.file, bar.saved]));
    root.appendChild(bar.help);
    root.appendChild(bar.status);
  }

  function helpText() {
    var fields = doc ? doc.attributes.slice(0, 9).map(function (a, i) { return (i + 1) + " " + a; })
                     : [];
    return ["j/k next/previous cluster", "u next unnamed"].concat(fields).concat(
      doc ? ["n note", "m mixed", "o bad images", "= previous cluster's values",
             "Enter next field", "Esc leave field"] : []).concat(
      ["t pictures (arrows, Enter)", "g all members",
       doc ? "Ctrl+S download" : null, doc ? "Ctrl+O open" : null]).filter(Boolean).join(" \u00b7 ");
  }

  function counts() {
    if (!doc) { bar.counter.textContent = ""; return; }
    var left = doc.clusters.filter(function (c) { return !named(c); }).length;
    bar.counter.textContent = left ? left + " of " + doc.clusters.length + " clusters still unnamed"
                                   : "all " + doc.clusters.length + " clusters named";
    bar.marked.textContent = doc.images.length ? doc.images.length + " image(s) marked" : "";
  }

  function download() {
    if (!doc) return;
    var url = URL.createObjectURL(new Blob([LF.serialize(doc)], {type: "text/yaml"}));
    var link = el("a", {href: url, download: data.file, hidden: true});
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    status("Downloaded " + data.file + ": save it in config/labels/, list it under 'labels' " +
           "in the config (clustering: " + data.clustering + ") and run the workflow.");
  }

  function openFile() {
    var file = bar.file.files[0];
    if (!file) return;
    file.text().then(function (text) {
      try {
        var opened = LF.parse(text, data.clustering);
        if (!sameClusters(opened)) {
          throw new Error("its clusters are not those of " + data.clustering + " (0 to " +
                          (data.clusters.length - 1) + ", in order)");
        }
        doc = opened;
        save();
        render();
        var differ = otherSizes(opened);
        status("Opened " + file.name + "." + (differ.length ? " Its sizes of cluster(s) " +
               differ.join(", ") + " are not this run's: is it from another run?" : ""),
               differ.length > 0);
      } catch (e) {
        status("Not opened: " + file.name + ", " + e.message + ". This page reads label files " +
               "as the workflow's template writes them.", true);
      }
      bar.file.value = "";
    });
  }

  /* ---- cards ------------------------------------------------------------------------ */
  function breakdownText(by, attributes) {
    return attributes.filter(function (a) { return by[a] && by[a].top.length; }).map(function (a) {
      return a + " " + DC.pct(by[a].top[0][1]) + " " + by[a].top[0][0];
    }).join(" \u00b7 ");
  }

  function breakdownTitle(by) {
    return Object.keys(by).map(function (a) {
      return a + ": " + by[a].top.map(function (t) { return t[0] + " " + DC.pct(t[1]); }).join(", ") +
        " (" + by[a].n + " known)";
    }).join("\n");
  }

  function stateText(c) {
    if (c.outlier) return "bad images";
    var names = doc.attributes.map(function (a) { return c.values[a]; }).filter(Boolean);
    if (c.mixed) names.push("mixed");
    return names.length ? names.join(" \u00b7 ") : "unnamed";
  }

  function updateCard(index) {
    var card = document.getElementById("cluster-" + data.clusters[index].id);
    var c = entry(index);
    var state = card.querySelector(".state");
    state.textContent = stateText(c);
    card.classList.toggle("named", named(c));
    card.querySelector("input[data-flag=mixed]").checked = !!c.mixed;
    card.querySelector("input[data-flag=outlier]").checked = !!c.outlier;
    counts();
  }

  function buildForm(index) {
    var c = entry(index);
    var fields = doc.attributes.map(function (a, i) {
      var input = el("input", {type: "text", value: c.values[a] || "", autocomplete: "off",
                               spellcheck: "false", list: "dl-" + i});
      input.setAttribute("data-field", a);
      return el("label", {className: "field"},
        [el("kbd", {text: i < 9 ? String(i + 1) : ""}), " " + a + " ", input]);
    });
    var note = el("input", {type: "text", value: c.note || "", autocomplete: "off"});
    note.setAttribute("data-field", "note");
    var flags = [["mixed", "m", "mixed (cannot be named as a whole)"],
                 ["outlier", "o", "bad images"]].map(function (f) {
      var box = el("input", {type: "checkbox", checked: !!c[f[0]]});
      box.setAttribute("data-flag", f[0]);
      return el("label", {className: "flag"}, [box, " " + f[2] + " ", el("kbd", {text: f[1]})]);
    });
    var form = el("div", {className: "labelform"}, fields.concat(
      [el("label", {className: "field note"}, [el("kbd", {text: "n"}), " note ", note])], flags));
    form.addEventListener("input", function (e) { fieldInput(index, e); });
    form.addEventListener("keydown", function (e) { fieldKeys(index, e); });
    form.addEventListener("change", function (e) {
      if (e.target.type === "checkbox") {
        entry(index)[e.target.getAttribute("data-flag")] = e.target.checked;
        save(); updateCard(index);
      } else {
        var field = e.target.getAttribute("data-field"), i = doc.attributes.indexOf(field);
        if (i >= 0) { commit(index, e.target, field); refreshDatalist(i); }
      }
    });
    return form;
  }

  function fieldInput(index, event) {
    var input = event.target, field = input.getAttribute("data-field");
    if (!field) return;
    var text = clean(input.value);
    if (text !== input.value) input.value = text;
    if (field !== "note" && event.inputType === "insertText" &&
        input.selectionStart === text.length && text) {
      var lower = text.toLowerCase();
      var best = suggestions(field, index).filter(function (v) {
        return v.length > text.length && v.toLowerCase().indexOf(lower) === 0;
      })[0];
      if (best) {  // inline completion: the rest is selected, typing on replaces it
        input.value = text + best.slice(text.length);
        input.setSelectionRange(text.length, best.length);
      }
    }
    if (field === "note") entry(index).note = input.value;
    else entry(index).values[field] = input.value;
    save();
    updateCard(index);
  }

  function fieldInputs(index) {
    var card = document.getElementById("cluster-" + data.clusters[index].id);
    return Array.prototype.slice.call(card.querySelectorAll("input[data-field]"));
  }

  function focusField(index, i) {
    setCurrent(index);
    var input = fieldInputs(index)[i];
    if (input) { input.focus(); input.select(); }
  }

  function fieldKeys(index, event) {
    var input = event.target, field = input.getAttribute && input.getAttribute("data-field");
    if (!field || event.ctrlKey || event.metaKey || event.altKey) return;
    var position = doc.attributes.indexOf(field);
    if (event.key === "Enter") {
      event.preventDefault();
      if (position >= 0) commit(index, input, field);
      input.setSelectionRange(input.value.length, input.value.length);
      refreshDatalist(position);
      if (position >= 0 && position + 1 < doc.attributes.length) focusField(index, position + 1);
      else if (index + 1 < doc.clusters.length) focusField(index + 1, 0);
      else { input.blur(); focusCard(index); }
    } else if (event.key === "Escape") {
      event.preventDefault();
      focusCard(index);
    } else if (event.key === "=" && position >= 0 &&
               (input.value === "" || input.selectionStart === 0 &&
                input.selectionEnd === input.value.length)) {
      event.preventDefault();
      var previous = index > 0 ? entry(index - 1).values[field] : "";
      if (!previous) { status("The previous cluster has no " + field + " to copy."); return; }
      input.value = previous;
      entry(index).values[field] = previous;
      input.select();
      save();
      updateCard(index);
    }
  }

  /* A value that differs from a suggestion only in case takes the suggestion's spelling. */
  function commit(index, input, field) {
    var lower = input.value.toLowerCase();
    var same = suggestions(field, index).filter(function (v) { return v.toLowerCase() === lower; });
    if (same.length && same.indexOf(input.value) < 0) {
      input.value = same[0];
      entry(index).values[field] = same[0];
      save();
      updateCard(index);
    }
  }

  function copyPrevious(index) {
    if (index === 0) return;
    var c = entry(index), p = entry(index - 1);
    doc.attributes.forEach(function (a) {
      if (!c.values[a] && p.values[a]) c.values[a] = p.values[a];
    });
    fieldInputs(index).forEach(function (input) {
      var f = input.getAttribute("data-field");
      if (f !== "note") input.value = c.values[f] || "";
    });
    save();
    updateCard(index);
  }

  function tileItems(info) {
    var items = [];
    KINDS.forEach(function (kind) {
      (info.shown[kind] || []).forEach(function (t) {
        items.push({path: t[0], distance: t[1], score: t[2], flag: t[3], cluster: info.id,
                    kind: kind});
      });
    });
    return items;
  }

  function viewOptions(onClose) {
    return {
      data: data, onClose: onClose,
      info: function (item) {
        return [["cluster", String(item.cluster)],
                ["distance to centroid", DC.num(item.distance)],
                ["outlier score", DC.num(item.score) + (item.flag ? " (flagged)" : "")]]
          .concat(item.kind ? [["shown as", item.kind]] : [])
          .concat(item.rank ? [["rank by distance", String(item.rank)]] : []);
      },
      marks: doc ? {
        keys: LF.IMAGE_MARKS,
        get: function (item) { return imageEntry(item.path, false) || {}; },
        toggle: function (item, name) { toggleMark(item.path, name); },
        describe: function (item) {
          var image = imageEntry(item.path, false);
          if (!image) return "";
          var parts = doc.attributes.filter(function (a) { return image.values[a]; })
            .map(function (a) { return a + ": " + image.values[a]; });
          if (image.note) parts.push("note: " + image.note);
          return parts.length ? "In the label file for this image: " + parts.join(", ") : "";
        }
      } : null
    };
  }

  function registerTile(tile, path) {
    (tilesByPath[path] = tilesByPath[path] || []).push(tile);
    markTiles(path);
  }

  function buildTiles(info) {
    var items = tileItems(info), grid = el("div", {className: "tilegrid"}), at = 0;
    KINDS.forEach(function (kind) {
      var row = (info.shown[kind] || []);
      if (!row.length) return;
      var line = el("div", {className: "tilerow"}, [el("span", {className: "rowlabel", text: kind})]);
      row.forEach(function () {
        var index = at++, item = items[index];
        var tile = DC.tile(data, item, function () {
          DC.openView(items, index, viewOptions(function (i) {
            var tiles = grid.querySelectorAll(".tile");
            if (tiles[i]) tiles[i].focus();
          }));
        });
        registerTile(tile, item.path);
        line.appendChild(tile);
      });
      grid.appendChild(line);
    });
    return grid;
  }

  function buildCard(info, index) {
    var nearest = el("span", {}, ["nearest clusters: "]);
    info.nearest.forEach(function (n) {
      nearest.appendChild(el("a", {href: "#cluster-" + n, text: String(n)}));
      nearest.appendChild(document.createTextNode(" "));
    });
    var card = el("section", {className: "card", id: "cluster-" + info.id, tabIndex: -1}, [
      el("h2", {}, ["cluster " + info.id + " ", el("span", {className: "state"})]),
      el("p", {className: "meta"}, [
        info.size + " images (" + DC.pct(info.share) + "); distance to centroid: mean " +
        DC.num(info.meanDistance) + ", 90th percentile " + DC.num(info.p90Distance) + "; ",
        nearest, " \u00b7 ", el("a", {href: info.sheet, text: "contact sheet"})])]);
    var truthKeys = Object.keys(info.truth);
    if (truthKeys.length || info.truthOutliers) {
      var text = breakdownText(info.truth, truthKeys);
      if (info.truthOutliers && info.truthOutliers.n) {
        text += (text ? " \u00b7 " : "") + DC.pct(info.truthOutliers.n / info.size) +
          " outliers (" + info.truthOutliers.top.map(function (t) { return t[0]; }).join(", ") + ")";
      }
      card.appendChild(el("p", {className: "truth", title: breakdownTitle(info.truth)},
                          [el("b", {text: "ground truth: "}), text]));
    }
    var labelKeys = Object.keys(info.labels);
    if (labelKeys.length || info.labelledOutliers) {
      var labelText = breakdownText(info.labels, labelKeys);
      if (info.labelledOutliers) {
        labelText += (labelText ? " \u00b7 " : "") + info.labelledOutliers + " labelled outlier(s)";
      }
      card.appendChild(el("p", {className: "propagated", title: breakdownTitle(info.labels)},
                          [el("b", {text: "propagated labels: "}), labelText]));
    }
    if (doc) card.appendChild(buildForm(index));
    card.appendChild(buildTiles(info));
    var all = el("button", {type: "button", className: "members",
                            text: "all " + info.size + " members, nearest first (g)"});
    all.addEventListener("click", function () { setCurrent(index); openGallery(index, 0); });
    card.appendChild(all);
    card.addEventListener("focusin", function () { setCurrent(index); });
    return card;
  }

  function render() {
    var root = document.getElementById("cards");
    root.textContent = "";
    tilesByPath = Object.create(null);
    if (doc) {
      doc.attributes.forEach(function (a, i) {
        root.appendChild(el("datalist", {id: "dl-" + i}));
      });
      doc.attributes.forEach(function (a, i) { refreshDatalist(i); });
    }
    data.clusters.forEach(function (info, index) {
      infos[info.id] = index;
      root.appendChild(buildCard(info, index));
      if (doc) updateCard(index);
    });
    bar.help.textContent = helpText();
    bar.download.disabled = bar.open.disabled = !doc;
    counts();
    setCurrent(Math.min(current, data.clusters.length - 1));
  }

  /* ---- moving around ---------------------------------------------------------------- */
  function cardAt(index) { return document.getElementById("cluster-" + data.clusters[index].id); }

  function setCurrent(index) {
    var old = cardAt(current);
    if (old) old.classList.remove("current");
    current = index;
    cardAt(current).classList.add("current");
  }

  function focusCard(index) {
    setCurrent(index);
    var card = cardAt(index);
    card.focus({preventScroll: true});
    card.scrollIntoView({block: "nearest"});
    if (card.getBoundingClientRect().top < 0 || card.getBoundingClientRect().top > 200) {
      card.scrollIntoView({block: "start"});
    }
  }

  function nextUnnamed() {
    for (var step = 1; step <= doc.clusters.length; step++) {
      var i = (current + step) % doc.clusters.length;
      if (!named(entry(i))) { focusField(i, 0); return; }
    }
    status("All clusters are named.");
  }

  function pageKeys(event) {
    var key = event.key;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && (key === "s" || key === "o")) {
      event.preventDefault();
      if (!doc) return;
      if (key === "s") download(); else bar.file.click();
      return;
    }
    if (DC.viewOpen()) return;
    if (gallery && !gallery.root.hidden) { galleryKeys(event); return; }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.tagName === "INPUT" && target.type !== "checkbox" || target.tagName === "TEXTAREA" ||
        target.tagName === "SELECT") return;
    if (DC.gridKeys(event)) return;
    var attributes = doc ? doc.attributes : [];
    if (key === "j" || key === "k") focusCard(Math.max(0, Math.min(data.clusters.length - 1,
                                                                   current + (key === "j" ? 1 : -1))));
    else if (key === "t") {
      var tile = cardAt(current).querySelector(".tile");
      if (tile) tile.focus();
    }
    else if (key === "g") openGallery(current, 0);
    else if (key === "?") bar.help.classList.toggle("big");
    else if (!doc) return;
    else if (key === "u") nextUnnamed();
    else if (/^[1-9]$/.test(key) && Number(key) <= attributes.length) {
      focusField(current, Number(key) - 1);
    }
    else if (key === "n") focusField(current, attributes.length);
    else if (key === "m" || key === "o") {
      var flag = key === "m" ? "mixed" : "outlier";
      entry(current)[flag] = !entry(current)[flag];
      save(); updateCard(current);
    } else if (key === "=") copyPrevious(current);
    else if (key === "Enter" && target === cardAt(current)) focusField(current, 0);
    else return;
    event.preventDefault();
  }

  /* ---- the gallery of all members ---------------------------------------------------- */
  function buildGallery() {
    var root = el("div", {id: "gallery", className: "overlay", hidden: true, role: "dialog",
                          "aria-modal": "true", tabIndex: -1});
    var title = el("h2", {className: "gallery-title"});
    var prev = el("button", {type: "button", text: "\u2190 previous page ([)"});
    var next = el("button", {type: "button", text: "next page (]) \u2192"});
    var close = el("button", {type: "button", text: "close (Esc)"});
    var grid = el("div", {className: "tilegrid gallery-grid"});
    var help = el("p", {className: "help", text: "arrows move \u00b7 Enter opens a picture \u00b7 " +
                                                 "[ ] previous/next page \u00b7 Esc close"});
    root.appendChild(el("div", {className: "gallery-box"},
      [el("div", {className: "gallery-head"}, [title, prev, next, close]), help, grid]));
    prev.addEventListener("click", function () { galleryPage(gallery.page - 1); });
    next.addEventListener("click", function () { galleryPage(gallery.page + 1); });
    close.addEventListener("click", closeGallery);
    document.body.appendChild(root);
    return {root: root, title: title, grid: grid, prev: prev, next: next, tiles: []};
  }

  function openGallery(index, page) {
    gallery = gallery || buildGallery();
    gallery.index = index;
    gallery.root.hidden = false;
    document.body.classList.add("noscroll");
    galleryPage(page);
    gallery.root.focus();
  }

  function closeGallery() {
    gallery.root.hidden = true;
    document.body.classList.remove("noscroll");
    focusCard(gallery.index);
  }

  function galleryPage(page) {
    var info = data.clusters[gallery.index];
    var pages = Math.max(1, Math.ceil(info.size / PER_PAGE));
    if (page < 0 || page >= pages) return;
    gallery.page = page;
    var first = page * PER_PAGE, last = Math.min(info.size, first + PER_PAGE);
    gallery.title.textContent = "cluster " + info.id + ": members " + (first + 1) + "\u2013" + last +
      " of " + info.size + ", nearest the centroid first (page " + (page + 1) + " of " + pages + ")";
    gallery.prev.disabled = page === 0;
    gallery.next.disabled = page + 1 >= pages;
    gallery.grid.textContent = "";
    gallery.tiles.forEach(function (t) {
      var list = tilesByPath[t.path];
      list.splice(list.indexOf(t.tile), 1);
    });
    gallery.tiles = [];
    var number = Math.floor(first / data.chunkSize), offset = first % data.chunkSize;
    var name = data.stem + "/c" + info.id + "_" + number;
    var failed = function (url) {
      status("The members could not be loaded (" + url + "): has results/report been moved?", true);
    };
    // the members' rows (label-independent), the run's image paths by row, and its
    // outlier scores (which labels change)
    DC.loadChunk(data.scores, "scores", function (scores) {
      DC.loadPaths(data, function (paths) {
        DC.loadChunk(data.chunks + "c" + info.id + "_" + number + ".js", name, function (chunk) {
          showGalleryPage(page, info, first, offset, chunk, scores, paths);
        }, failed);
      }, failed);
    }, failed);
  }

  function showGalleryPage(page, info, first, offset, chunk, scores, paths) {
    if (gallery.page !== page || data.clusters[gallery.index] !== info) return;
    var items = [];
    for (var i = offset; i < Math.min(chunk.rows.length, offset + PER_PAGE); i++) {
      var row = chunk.rows[i];
      items.push({path: paths[row], distance: chunk.distance[i], score: scores.score[row],
                  flag: scores.flag[row], cluster: info.id, rank: first + items.length + 1});
    }
    items.forEach(function (item, at) {
      item.caption = "#" + item.rank + " \u00b7 " + DC.num(item.distance);
      var tile = DC.tile(data, item, function () {
        DC.openView(items, at, viewOptions(function (i) {
          var tiles = gallery.grid.querySelectorAll(".tile");
          if (tiles[i]) tiles[i].focus();
        }));
      });
      gallery.tiles.push({path: item.path, tile: tile});
      registerTile(tile, item.path);
      gallery.grid.appendChild(tile);
    });
    var firstTile = gallery.grid.querySelector(".tile");
    if (firstTile) firstTile.focus();
  }

  function galleryKeys(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (DC.gridKeys(event)) return;
    if (event.key === "Escape" || event.key === "g") closeGallery();
    else if (event.key === "]" || event.key === "PageDown") galleryPage(gallery.page + 1);
    else if (event.key === "[" || event.key === "PageUp") galleryPage(gallery.page - 1);
    else return;
    event.preventDefault();
  }

  /* ---- start -------------------------------------------------------------------------- */
  document.addEventListener("DOMContentLoaded", function () {
    data = DC.takePageData("The page's data (files/data/) could not be loaded: has " +
      "results/report been moved without its folder files/?");
    if (!data) return;
    storageKey = LF.storageKey(data.run, data.clustering);
    buildToolbar();
    var template = null;
    try { template = LF.parse(data.template, data.clustering); } catch (e) {
      status("The label template " + data.templatePath + " is not in the format this page " +
             "reads (" + e.message + "): the cards are shown without forms.", true);
    }
    if (template) {
      doc = template;
      var kept = stored();
      if (kept !== null) {
        try {
          var restored = LF.parse(kept, data.clustering);
          if (!sameClusters(restored) || otherSizes(restored).length) {
            throw new Error("its clusters or their sizes are not this run's");
          }
          doc = restored;
        } catch (e) {
          var saveKept = el("button", {type: "button", text: "download the kept labels"});
          saveKept.addEventListener("click", function () {
            var url = URL.createObjectURL(new Blob([kept], {type: "text/yaml"}));
            var link = el("a", {href: url, download: "kept_" + data.file, hidden: true});
            document.body.appendChild(link); link.click(); link.remove();
          });
          status("The labels this browser kept for " + data.clustering + " do not fit this run (" +
                 e.message + "); starting from the template, and the first edit replaces them: ",
                 true, saveKept);
        }
      }
      readOtherClusterings();
    }
    render();
    if (doc) showSaved();
    document.addEventListener("keydown", pageKeys);
    // marks made on a map page land in this page's storage entry: take them in
    window.addEventListener("storage", function (event) {
      if (event.key !== storageKey || event.newValue === null || !doc) return;
      try {
        var fresh = LF.parse(event.newValue, data.clustering);
        if (sameClusters(fresh) && !otherSizes(fresh).length) { doc = fresh; render(); showSaved(); }
      } catch (e) { /* not this run's: keep the page's own */ }
    });
    var linked = infos[Number(location.hash.split("-")[1])];  // page.html#cluster-3
    if (linked !== undefined) focusCard(linked);
    window.addEventListener("hashchange", function () {
      var index = infos[Number(location.hash.split("-")[1])];
      if (index !== undefined) setCurrent(index);
    });
  });
})();
