/* descluster browser: a clustering's page. A card per cluster with its pictures and a form
 * to name it. The page starts from the label file the run used for the clustering (or its
 * template) and keeps every change on top of it in this browser at once (DC.labels: one
 * undo step each, every unsaved change listed); "Download label file" writes the
 * workflow's label file, checked by the run's own rules (data.rules). Keyboard first: the
 * page's keys are the tables in the section "keys", which also write its help. */
(function () {
  "use strict";
  var DC = window.DC, LF = DC.labelfile, el = DC.el;
  var KINDS = ["nearest", "random", "farthest"];  // the rows of tiles of a card
  var PER_PAGE = 100;  // gallery tiles per page

  /* ---- state ---------------------------------------------------------------------------
   * data: the page's data (DC.pageData: the clusters, the target with its base file...),
   *   set at start.
   * state: the clustering's labels (DC.labels.open): the base file, the kept edits, undo.
   * doc: state.doc, the label document being edited (null when neither the template nor
   *   the base can be read: cards without forms); re-read after every edit (edit()), undo,
   *   open and change another tab keeps.
   * current: index (in data.clusters) of the current card; changed by setCurrent only.
   * bar: the toolbar's elements, and say (its status line), made by buildToolbar.
   * gallery: the overlay of all members of one cluster, made by the first openGallery:
   *   {root, title, grid, pager, index (the cluster's), tiles ([{path, tile}] shown)}.
   * infos: cluster id -> index in data.clusters (filled by render).
   * otherValues: attribute -> values named in the run's other clusterings in this browser
   *   (read once at start: suggestions).
   * tilesByPath: image path -> the tiles showing it (registerTile adds, render and the
   *   gallery's page turns drop), so that a mark shows on every tile of its image.
   * Maps keyed by data (ids, paths, values) have no prototype: any key is a plain key. */
  var data, state, doc = null, current = 0, bar = {}, gallery = null;
  var infos = Object.create(null), otherValues = Object.create(null);
  var tilesByPath = Object.create(null);

  /* ---- edits (through DC.labels) ------------------------------------------------------ */
  /* One edit of the document: edit(doc) changes it in place (see state.change); then the
     toolbar says what is kept. True when something changed. */
  function edit(what, change, group) {
    var changed = state.change(what, change, group);
    doc = state.doc;
    if (changed) shown();
    return changed;
  }

  /* The toolbar after an edit: counts, the unsaved changes, whether the browser keeps them. */
  function shown() {
    bar.labels.update();
    bar.saved.textContent = state.keptOk ? "" :
      "this browser keeps nothing for this page: download the label file before closing it";
    bar.saved.className = state.keptOk ? "saved" : "saved error";
    counts();
  }

  /* The document was replaced (undo, open, another tab): every card anew. */
  function reshow() {
    doc = state.doc;
    render();
    shown();
    DC.refreshView();
  }

  /* Ctrl+Z (or the button): take back the last edit. In a card's field, what was typed
     there is first settled (leaving the field commits it: one step, the one undone), so
     the field shows the value from before the typing, and keeps the focus. */
  function undo() {
    var typing = document.activeElement, at = -1;
    if (typing && typing.closest && typing.closest("#cards") && typing.hasAttribute("data-field")) {
      at = doc.attributes.indexOf(typing.getAttribute("data-field"));
      if (at < 0) at = doc.attributes.length;  // the note, after the attributes
      typing.blur();  // its change event commits the text, once, before the undo
    }
    var what = state.undo();
    if (what !== null) reshow();
    if (at >= 0) focusField(current, at);
    if (what === null) { status(DC.labels.NOTHING_TO_UNDO); return; }
    status("Undone: " + what + ". (Ctrl+Z again undoes the one before; " +
           state.undoable() + " left)");
  }

  /* Values of the run's other clusterings kept in this browser: suggestions too. */
  function readOtherClusterings() {
    DC.store.others(data.clustering).forEach(function (text) {
      var other;
      try { other = LF.parse(text); } catch (e) { return; }  // unreadable: no suggestions
      other.clusters.forEach(function (c) {
        Object.keys(c.values).forEach(function (a) {
          if (c.values[a]) (otherValues[a] = otherValues[a] || []).push(c.values[a]);
        });
      });
    });
  }

  /* ---- messages --------------------------------------------------------------------- */
  function status(text, isError) { bar.say(text, isError); }

  /* ---- the label document ---------------------------------------------------------- */
  function entry(index) { return doc.clusters[index]; }

  function value(c, a) { return Object.prototype.hasOwnProperty.call(c.values, a) ? c.values[a] : ""; }

  /* A cluster counts as named with a value, or marked mixed or bad images. */
  function named(c) {
    return c.mixed || c.outlier || doc.attributes.some(function (a) { return !!value(c, a); });
  }

  /* The closed list of an attribute's values (config label_values), or null. */
  function closed(attribute) { return DC.labels.closedValues(data.rules, attribute); }

  function toggleMark(path, name) {
    var image = state.image(path), on = !(image && image[name]);
    var label = LF.IMAGE_MARKS.filter(function (k) { return k[2] === name; })[0][1];
    edit((on ? "marked " : "unmarked ") + label + ": " + path, function (d) {
      return LF.setMarks(d, [path], name, on) > 0;
    });
    markTiles(path);
  }

  /* Give an image its own value of an attribute (the image view); a message to show,
     starting "!" for a value the run would refuse. */
  function setImageValue(path, attribute, text) {
    text = LF.cleanText(text).trim();
    var allowed = closed(attribute);
    if (text && allowed) {
      var same = allowed.filter(function (v) { return v.toLowerCase() === text.toLowerCase(); });
      if (!same.length) {
        return "!\u201c" + text + "\u201d is not one of " + attribute + "'s values: " +
          allowed.join(", ");
      }
      text = same[0];
    }
    var done = edit((text ? attribute + " \u201c" + text + "\u201d" : "own " + attribute +
                     " taken back") + " for " + path, function () {
      return state.setImageValue(path, attribute, text);
    });
    markTiles(path);
    return done ? path + ": " + (text ? attribute + " \u201c" + text + "\u201d, its own (under " +
                                  "'images:')" : "its own " + attribute + " taken back") : "";
  }

  /* Show an image's marks (bad, not this cluster, its own values) on every tile of it. */
  function markTiles(path) {
    var image = doc ? state.image(path) : null;
    var own = image && doc.attributes.some(function (a) { return !!image.values[a]; });
    (tilesByPath[path] || []).forEach(function (tile) {
      tile.classList.toggle("bad", !!(image && image.outlier));
      tile.classList.toggle("notcluster", !!(image && image.not_cluster));
      tile.classList.toggle("ownvalue", !!own);
    });
  }

  /* Suggestions for an attribute: its closed list when it has one; else values of this
   * clustering (most used first), then the ground truth's and propagated labels' values,
   * then other clusterings' in this browser; the cluster being edited (index except)
   * does not count. */
  function suggestions(attribute, except) {
    if (closed(attribute)) return closed(attribute).slice();
    var used = Object.create(null);
    doc.clusters.forEach(function (c, i) {
      var v = i === except ? "" : value(c, attribute);
      if (v) used[v] = (used[v] || 0) + 1;
    });
    var list = Object.keys(used).sort(function (a, b) {
      return used[b] - used[a] || a.localeCompare(b);
    });
    ((data.suggestions || {})[attribute] || []).concat(otherValues[attribute] || [])
      .forEach(function (v) { if (!used[v]) { used[v] = -1; list.push(v); } });
    return list;
  }

  /* The suggestion list of the index-th attribute's fields (60 values at most). */
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
    bar.undo = el("button", {type: "button", id: "undo", text: "Undo (Ctrl+Z)"});
    bar.undo.addEventListener("click", undo);
    bar.working = el("span", {id: "working"});
    var line = DC.statusLine();
    bar.status = line.node;
    bar.say = function (text, isError) { line.say(text, isError); };
    bar.help = el("p", {id: "help", className: "help"});
    bar.labels = DC.labels.panel(state);
    root.appendChild(el("div", {className: "toolbar-row"},
      [bar.counter, bar.marked, bar.download, bar.open, bar.file, bar.undo, bar.saved]));
    root.appendChild(bar.labels.node);
    root.appendChild(el("p", {className: "meta"}, [bar.working]));
    if (data.review) {
      root.appendChild(el("p", {className: "meta"}, [el("a", {href: data.review,
        text: "review the likely mistakes of " + data.clustering})]));
    }
    root.appendChild(bar.help);
    root.appendChild(bar.status);
  }

  /* The working clustering (the one the map and outliers pages mark images in). */
  function showWorking() {
    var names = [data.clustering].concat(data.labelled || []);
    var working = DC.labels.working(data, (data.clusterings || []).concat(names));
    bar.working.textContent = working === data.clustering ?
      "This is the working clustering: the map and the outliers page mark images in its " +
      "label file." : "The working clustering (the map and the outliers page mark images in " +
      "its label file) is " + working + "; w makes it this one.";
  }

  function counts() {
    if (!doc) { bar.counter.textContent = ""; return; }
    var left = doc.clusters.filter(function (c) { return !named(c); }).length;
    bar.counter.textContent = left ? left + " of " + doc.clusters.length + " clusters still unnamed"
                                   : "all " + doc.clusters.length + " clusters named";
    bar.marked.textContent = doc.images.length ? doc.images.length + " image(s) marked" : "";
    bar.undo.disabled = !state.undoable();
  }

  function download() {
    var said = DC.labels.download(state, data.target.file);
    status(said[0], said[1]);
  }

  /* Open a label file: replace the page's labels with it, or with unsaved changes on the
     page, ask first (replace, merge, cancel). */
  function openFile() {
    var file = bar.file.files[0];
    if (!file) return;
    bar.file.value = "";
    file.text().then(function (text) {
      var fitted;
      try { fitted = state.fit(LF.parse(text, data.clustering)); } catch (e) {
        status("Not opened: " + file.name + ", " + e.message + ". This page reads label files " +
               "as the workflow's template writes them.", true);
        return;
      }
      var differ = fitted.otherSizes;  // kept, with a warning: the file may be another run's
      var note = differ.length ? " Its sizes of cluster(s) " + differ.join(", ") + " are not " +
        "this run's: is it from another run?" : "";
      function replace() {
        state.replace(fitted.doc, "opened " + file.name);
        reshow();
        status("Opened " + file.name + ": the page shows it (Ctrl+Z goes back)." + note,
               differ.length > 0);
      }
      var unsaved = state.changes().length;
      if (!unsaved) { replace(); return; }
      DC.labels.ask("This page holds " + unsaved + " unsaved change" + (unsaved === 1 ? "" : "s") +
        " (listed above). Open " + file.name + " over them?", [
          {key: "r", label: "replace them", action: replace},
          {key: "m", label: "merge (the file's names win; image marks of both are kept)",
           action: function () {
             state.merge(fitted.doc, "merged " + file.name);
             reshow();
             status("Merged " + file.name + " into the page's labels (Ctrl+Z goes back)." + note,
                    differ.length > 0);
           }},
          {key: "Escape", label: "cancel", action: function () {
            status("Not opened: " + file.name + "; the page's labels are unchanged.");
          }}]);
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
    var state_ = card.querySelector(".state");
    state_.textContent = stateText(c);
    card.classList.toggle("named", named(c));
    card.querySelector("input[data-flag=mixed]").checked = !!c.mixed;
    card.querySelector("input[data-flag=outlier]").checked = !!c.outlier;
    fieldInputs(index).forEach(function (input) {
      var f = input.getAttribute("data-field");
      var now = f === "note" ? c.note || "" : value(c, f);
      if (document.activeElement !== input && input.value !== now) input.value = now;
    });
    counts();
  }

  function buildForm(index) {
    var c = entry(index);
    var fields = doc.attributes.map(function (a, i) {
      var input = el("input", {type: "text", value: value(c, a), autocomplete: "off",
                               spellcheck: "false", list: "dl-" + i});
      input.setAttribute("data-field", a);
      var allowed = closed(a);
      var label = [el("kbd", {text: i < 9 ? String(i + 1) : ""}), " " + a + " ", input];
      if (allowed) {
        label.push(el("span", {className: "closed", text: allowed.slice(0, 9).map(function (v, k) {
          return (k + 1) + " " + v;
        }).join(" \u00b7 ")}));
      }
      return el("label", {className: "field"}, label);
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
    form.addEventListener("change", function (e) {
      if (e.target.type === "checkbox") {
        setFlag(index, e.target.getAttribute("data-flag"), e.target.checked);
      } else {
        var field = e.target.getAttribute("data-field"), i = doc.attributes.indexOf(field);
        if (i >= 0) { commit(index, e.target, field); refreshDatalist(i); }
      }
    });
    return form;
  }

  /* Set one value of a cluster (an attribute's, or the note); a value clears "mixed" (a
     mixed cluster names nothing). Typing in one field is one undo step. */
  function setValue(index, field, text) {
    var c = entry(index);
    edit(field === "note" ? "note of cluster " + c.id : field + " of cluster " + c.id,
      function () {
        if (field === "note") { c.note = text; return; }
        c.values[field] = text;
        if (text && c.mixed) c.mixed = false;
      }, "field " + index + " " + field);
    updateCard(index);
  }

  /* Every change of a field goes into the document and storage at once. Typing at the end
     of an attribute's value completes it inline from the suggestions. A field of a closed
     list holds only its values: text that is not one yet stays in the field (marked), the
     document keeps the last value that was. */
  function fieldInput(index, event) {
    var input = event.target, field = input.getAttribute("data-field");
    if (!field) return;
    var text = LF.cleanText(input.value);
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
    var allowed = field === "note" ? null : closed(field);
    if (allowed && input.value && allowed.indexOf(input.value) < 0) {
      input.classList.add("invalid");
      input.title = "not one of " + field + "'s values: " + allowed.join(", ");
      return;
    }
    input.classList.remove("invalid");
    input.title = "";
    setValue(index, field, input.value);
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

  /* The form field a key was pressed in: {input, field (its data-field), index (its card's)}. */
  function fieldOf(event) {
    var input = event.target, card = input.closest(".card");
    return {input: input, field: input.getAttribute("data-field"),
            index: infos[Number(card.id.split("-")[1])]};
  }

  /* Enter in a field: take a suggestion's spelling (in a closed list's field, the value
     the text starts; nothing else), then on to the next field, the next cluster's first
     field, or (after the last cluster) its card. */
  function nextField(event) {
    var at = fieldOf(event), input = at.input, index = at.index;
    var position = doc.attributes.indexOf(at.field);  // -1: the note
    if (position >= 0 && !commit(index, input, at.field)) return;
    input.setSelectionRange(input.value.length, input.value.length);
    refreshDatalist(position);
    if (position >= 0 && position + 1 < doc.attributes.length) focusField(index, position + 1);
    else if (index + 1 < doc.clusters.length) focusField(index + 1, 0);
    else { input.blur(); focusCard(index); }
  }

  /* = in an empty (or wholly selected) attribute field: the previous cluster's value.
     Elsewhere (the note, text in the field) the key types an "=". */
  function previousValue(event) {
    var at = fieldOf(event), input = at.input, index = at.index;
    if (!wholeField(input) || doc.attributes.indexOf(at.field) < 0) return false;
    var previous = index > 0 ? value(entry(index - 1), at.field) : "";
    if (!previous) { status("The previous cluster has no " + at.field + " to copy."); return; }
    input.value = previous;
    setValue(index, at.field, previous);
    input.select();
  }

  function wholeField(input) {
    return input.value === "" ||
      input.selectionStart === 0 && input.selectionEnd === input.value.length;
  }

  /* 1-9 in an empty (or wholly selected) field of a closed list: its n-th value. */
  function listedValue(event) {
    var at = fieldOf(event), allowed = closed(at.field);
    if (!allowed || !wholeField(at.input)) return false;
    var chosen = allowed[Number(event.key) - 1];
    if (!chosen) return false;
    at.input.value = chosen;
    at.input.classList.remove("invalid");
    setValue(at.index, at.field, chosen);
    nextField(event);
  }

  /* A value that differs from a suggestion only in case takes the suggestion's spelling;
     in a closed list's field, text is taken only as one of its values (the one it is, or
     the only one it starts). False (and a message) when the field holds no such value. */
  function commit(index, input, field) {
    var lower = input.value.toLowerCase(), allowed = closed(field);
    var same = suggestions(field, index).filter(function (v) { return v.toLowerCase() === lower; });
    if (allowed && input.value && !same.length) {
      same = allowed.filter(function (v) { return v.toLowerCase().indexOf(lower) === 0; });
      if (same.length !== 1) {
        status("\u201c" + input.value + "\u201d is not one of " + field + "'s values (" +
               allowed.join(", ") + "); label_values in the config lists them.", true);
        input.classList.add("invalid");
        input.focus();
        return false;
      }
    }
    if (same.length && same.indexOf(input.value) < 0) input.value = same[0];
    input.classList.remove("invalid");
    if (value(entry(index), field) !== input.value) setValue(index, field, input.value);
    return true;
  }

  /* = on a card: the previous cluster's values into this one's empty attribute fields. */
  function copyPrevious(index) {
    if (index === 0) return;
    var c = entry(index), p = entry(index - 1);
    edit("cluster " + c.id + ": the previous cluster's values", function () {
      var changed = false;
      doc.attributes.forEach(function (a) {
        if (!value(c, a) && value(p, a)) { c.values[a] = value(p, a); changed = true; }
      });
      if (changed) c.mixed = false;
      return changed;
    });
    updateCard(index);
  }

  /* m and o (or their boxes): "mixed" clears the cluster's values (a mixed cluster names
     nothing; Ctrl+Z brings them back). */
  function setFlag(index, flag, on) {
    var c = entry(index);
    var cleared = flag === "mixed" && on && doc.attributes.some(function (a) { return !!value(c, a); });
    edit("cluster " + c.id + ": " + (on ? "" : "not ") + (flag === "mixed" ? "mixed" : "bad images"),
      function () {
        c[flag] = on;
        if (cleared) doc.attributes.forEach(function (a) { c.values[a] = ""; });
      });
    updateCard(index);
    if (cleared) status("Cluster " + c.id + " is mixed: its values are cleared (a mixed cluster " +
                        "names nothing; Ctrl+Z brings them back).");
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
      data: data, onClose: onClose, keys: [fileKeys],
      info: function (item) {
        return [["cluster", String(item.cluster)],
                ["distance to centroid", DC.num(item.distance)],
                ["outlier score", DC.num(item.score) + (item.flag ? " (flagged)" : "")]]
          .concat(item.kind ? [["shown as", item.kind]] : [])
          .concat(item.rank ? [["rank by distance", String(item.rank)]] : []);
      },
      marks: doc ? {
        keys: LF.IMAGE_MARKS,
        get: function (item) { return state.image(item.path) || {}; },
        toggle: function (item, name) { toggleMark(item.path, name); },
        describe: function (item) {
          var image = state.image(item.path);
          return image && image.note ? "note: " + image.note : "";
        }
      } : null,
      fields: doc ? {
        attributes: doc.attributes,
        get: function (item) { var image = state.image(item.path); return image ? image.values : {}; },
        set: function (item, attribute, text) { return setImageValue(item.path, attribute, text); },
        options: function (attribute) { return suggestions(attribute); }
      } : null
    };
  }

  /* Remember a tile under its image's path (for markTiles) and show its marks. */
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

  /* Build every card (and the suggestion lists) from data and doc, anew: at start and
     when doc is replaced. */
  function render() {
    var root = document.getElementById("cards");
    var focusedField = document.activeElement && document.activeElement.getAttribute &&
      document.activeElement.getAttribute("data-field");
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
    showHelp();
    bar.download.disabled = bar.open.disabled = !doc;
    counts();
    setCurrent(Math.min(current, data.clusters.length - 1));
    if (focusedField) {  // the field being edited stays focused (another tab's edit)
      var at = doc ? doc.attributes.indexOf(focusedField) : -1;
      if (at >= 0 || focusedField === "note") focusField(current, at >= 0 ? at : doc.attributes.length);
    }
  }

  /* ---- moving around ---------------------------------------------------------------- */
  function cardAt(index) { return document.getElementById("cluster-" + data.clusters[index].id); }

  function setCurrent(index) {
    var old = cardAt(current);
    if (old) old.classList.remove("current");
    current = index;
    cardAt(current).classList.add("current");
  }

  /* Make a card current and focused, scrolled into view near the top (under the sticky
     toolbar) when it is not already there. */
  function focusCard(index) {
    setCurrent(index);
    var card = cardAt(index);
    card.focus({preventScroll: true});
    card.scrollIntoView({block: "nearest"});
    if (card.getBoundingClientRect().top < 0 || card.getBoundingClientRect().top > 200) {
      card.scrollIntoView({block: "start"});
    }
  }

  /* u: the first field of the first cluster still unnamed from the current one on (the
     current one itself unless the focus is in its form), round. */
  function nextUnnamed() {
    var inForm = cardAt(current).contains(document.activeElement) &&
      document.activeElement.hasAttribute("data-field");
    for (var step = inForm ? 1 : 0; step <= doc.clusters.length; step++) {
      var i = (current + step) % doc.clusters.length;
      if (!named(entry(i))) { focusField(i, 0); return; }
    }
    status("All clusters are named.");
  }

  function toggleFlag(flag) { setFlag(current, flag, !entry(current)[flag]); }

  /* w: make this clustering the working one (the map and outliers pages mark in it). */
  function makeWorking() {
    if (!DC.labels.setWorking(data, data.clustering)) {
      status("This browser keeps nothing for these pages: the working clustering cannot be " +
             "remembered.", true);
      return;
    }
    showWorking();
    status(data.clustering + " is the working clustering: the map and the outliers page mark " +
           "images in its label file.");
  }

  /* ---- keys ------------------------------------------------------------------------------
   * The page's key tables; the toolbar's help and the gallery's are written from them.
   * Entries that need the label file exist only while there is one (hasDoc). */
  function hasDoc() { return !!doc; }

  function hasClosedList() {
    return !!doc && doc.attributes.some(function (a) { return !!closed(a); });
  }

  /* Keys that act everywhere, even in a field, over the gallery or the image view. */
  var fileKeys = DC.keys.table("label file", [
    {keys: ["Ctrl+s"], does: "download", when: hasDoc, typing: true, action: download},
    {keys: ["Ctrl+o"], does: "open", when: hasDoc, typing: true,
     action: function () { bar.file.click(); }},
    {keys: ["Ctrl+z"], does: "undo", when: hasDoc, typing: true, action: undo}]);

  /* Keys on the cards (outside the form's text fields). */
  var cardKeys = DC.keys.table("cards", function () {
    var fields = (doc ? doc.attributes.slice(0, 9) : []).map(function (a, i) {
      return {keys: [String(i + 1)], does: a, action: function () { focusField(current, i); }};
    });
    return [
      {keys: ["j", "k"], does: "next/previous cluster", action: function (event) {
        var step = event.key === "j" ? 1 : -1;
        focusCard(Math.max(0, Math.min(data.clusters.length - 1, current + step)));
      }},
      {keys: ["u"], does: "next unnamed", when: hasDoc, action: nextUnnamed}
    ].concat(fields, [
      {keys: ["n"], does: "note", when: hasDoc,
       action: function () { focusField(current, doc.attributes.length); }},
      {keys: ["m"], does: "mixed", when: hasDoc, action: function () { toggleFlag("mixed"); }},
      {keys: ["o"], does: "bad images", when: hasDoc,
       action: function () { toggleFlag("outlier"); }},
      {keys: ["="], does: "previous cluster's values", when: hasDoc,
       action: function () { copyPrevious(current); }},
      {keys: ["Enter"], does: "first field (on a card)", when: hasDoc, action: function (event) {
        if (event.target !== cardAt(current)) return false;
        focusField(current, 0);
      }},
      {keys: ["t"], does: "pictures", action: function () {
        var tile = cardAt(current).querySelector(".tile");
        if (tile) tile.focus();
      }},
      {keys: ["g"], does: "all members", action: function () { openGallery(current, 0); }},
      {keys: ["w"], does: "make this the working clustering", when: hasDoc, action: makeWorking},
      {keys: ["?"], does: "larger help",
       action: function () { bar.help.classList.toggle("big"); }}]);
  });

  /* Keys in a text field of a card's form. */
  var fieldKeys = DC.keys.table("label form", [
    {keys: ["Enter"], does: "next field", when: hasDoc, typing: true, action: nextField},
    {keys: ["="], does: "previous cluster's value (empty field)", when: hasDoc, typing: true,
     action: previousValue},
    {keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9"], label: "1\u20139",
     does: "a listed value (empty field of a closed list)", when: hasClosedList, typing: true,
     action: listedValue},
    {keys: ["Escape"], does: "leave field", when: hasDoc, typing: true,
     action: function (event) { focusCard(fieldOf(event).index); }}], "in a field:");

  /* Keys of the open gallery. */
  var galleryKeys = DC.keys.table("gallery", [
    {keys: ["[", "]", "PageUp", "PageDown"], label: "[ ] or PageUp/PageDown",
     does: "previous/next page", action: function (event) {
       gallery.pager.turn(event.key === "]" || event.key === "PageDown" ? 1 : -1);
     }},
    {keys: ["Escape", "g"], does: "close", action: function () { closeGallery(); }}]);

  /* The tables in force for a key: the image view and the gallery cover the cards. */
  function activeKeys(event) {
    if (DC.viewOpen()) return [];  // the view takes its keys, and fileKeys (viewOptions)
    if (gallery && !gallery.root.hidden) return [fileKeys, galleryKeys, DC.keys.grid];
    var inField = event.target.hasAttribute && event.target.hasAttribute("data-field");
    return [fileKeys, inField ? fieldKeys : null, DC.keys.grid, cardKeys];
  }

  function showHelp() {
    bar.help.textContent = DC.keys.help([cardKeys, fileKeys, fieldKeys, DC.keys.grid]);
  }

  /* ---- the gallery of all members ---------------------------------------------------- */
  function buildGallery() {
    var root = el("div", {id: "gallery", className: "overlay", hidden: true, role: "dialog",
                          "aria-modal": "true", tabIndex: -1});
    var title = el("h2", {className: "gallery-title"});
    var pager = DC.pager("\u2190 previous page ([)", "next page (]) \u2192", galleryPage);
    var close = el("button", {type: "button", text: "close (Esc)"});
    var grid = el("div", {className: "tilegrid gallery-grid"});
    var help = el("p", {className: "help",
                        text: DC.keys.help([galleryKeys, fileKeys, DC.keys.grid])});
    root.appendChild(el("div", {className: "gallery-box"},
      [el("div", {className: "gallery-head"}, [title, pager.prev, pager.next, close]), help,
       grid]));
    close.addEventListener("click", closeGallery);
    document.body.appendChild(root);
    return {root: root, title: title, grid: grid, pager: pager, tiles: []};
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

  /* Show a page of the gallery's cluster: its members are loaded from chunk scripts of
     data.chunkSize members each, a page being PER_PAGE of them. */
  function galleryPage(page) {
    var info = data.clusters[gallery.index], pager = gallery.pager;
    page = pager.set(page, info.size, PER_PAGE);
    var first = page * PER_PAGE, last = Math.min(info.size, first + PER_PAGE);
    gallery.title.textContent = "cluster " + info.id + ": members " + (first + 1) + "\u2013" + last +
      " of " + info.size + ", nearest the centroid first (page " + (page + 1) + " of " +
      pager.pages + ")";
    gallery.grid.textContent = "";
    gallery.tiles.forEach(function (t) {  // the tiles of the page before no longer show marks
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
    // the user may have turned the page, or opened another cluster, while it loaded
    if (gallery.pager.page !== page || data.clusters[gallery.index] !== info) return;
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

  /* ---- start -------------------------------------------------------------------------- */
  document.addEventListener("DOMContentLoaded", function () {
    data = DC.takePageData("The page's data (files/data/) could not be loaded: has " +
      "results/report been moved without its folder files/?");
    if (!data) return;
    state = DC.labels.open(data.target, data.rules);
    doc = state.doc;
    buildToolbar();
    if (doc) readOtherClusterings();
    render();
    shown();
    showWorking();
    if (state.problem) {
      status("The page cannot use everything it was given: " + state.problem + ".", true);
      if (state.kept !== null) {
        var saveKept = el("button", {type: "button", text: "download the kept edits"});
        saveKept.addEventListener("click", function () {
          var url = URL.createObjectURL(new Blob([state.kept], {type: "text/yaml"}));
          var link = el("a", {href: url, download: "kept_" + data.target.file, hidden: true});
          document.body.appendChild(link); link.click(); link.remove();
        });
        bar.status.appendChild(document.createTextNode(" "));
        bar.status.appendChild(saveKept);
      }
    } else if (state.baseSizesDiffer.length) {
      status(data.target.base.source + " gives cluster(s) " + state.baseSizesDiffer.join(", ") +
             " other sizes than this run's: is it from another run?", true);
    }
    DC.keys.listen(document, activeKeys);
    // marks made on a map, outliers or review page land in the kept edits: take them in
    DC.store.onChange(state.name, state.base.hash, function () {
      if (state.sync()) { reshow(); status(DC.labels.CHANGED_ELSEWHERE); }
    });
    var linked = infos[Number(location.hash.split("-")[1])];  // page.html#cluster-3
    if (linked !== undefined) focusCard(linked);
    window.addEventListener("hashchange", function () {
      var index = infos[Number(location.hash.split("-")[1])];
      if (index !== undefined) setCurrent(index);
    });
  });
})();
