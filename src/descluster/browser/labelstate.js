/* descluster browser: a clustering's labels as the pages edit them (DC.labels), and the
 * question a page asks before it could lose work (DC.labels.ask).
 *
 * One source of truth. Every page that edits a clustering's label file embeds the file
 * the run used for it (target.base: the file listed under 'labels:' in the config, else
 * its template: text, hash, source); a person's unsaved edits are kept on top of it in
 * this browser (DC.store), under the clustering and that file's hash, never the folder: a
 * moved or copied folder, another browser or a colleague starts from the same file, and
 * edits of another version of it never apply. Kept text is trusted only when it passes
 * the label-file grammar (DC.labelfile.parse) and the run's rules (data.rules: closed
 * label_values, "mixed names nothing") and holds this run's clusters; every kept change
 * is listed (panel) before it can reach a download.
 *
 * A state (open) holds: doc, the document being edited (DC.labelfile's shape, laid out as
 * the run's template: its clusters and sizes, today's fields); baseDoc, the base so laid
 * out; problem, why kept edits or the base were not taken (or null); kept, the untrusted
 * kept text (to download, so nothing is lost). Every edit goes through change(): one undo
 * step. The undo history is kept with the edits (DC.store.history, under the same
 * clustering and hash), not in the page: every page that edits this clustering's labels
 * (its page, the map, the outliers and review pages) undoes the same steps, newest first,
 * across pages and reloads. A step holds what the edit replaced, as lines of the label
 * file's text (a patch: a bulk mark of 2,000 images costs its own lines, not the file),
 * and a fingerprint of the text it left, so it is applied only to that text.
 * The working clustering (working) is the one the map and outliers pages mark images in:
 * chosen once, kept in this browser per project. */
(function () {
  "use strict";
  var DC = window.DC, LF = DC.labelfile;
  var UNDO_DEPTH = 50;  // undo steps kept (the issue asks for at least 20)
  // characters of undo history kept per clustering beyond the newest step: the browser's
  // storage (some 5 million characters for all file:// pages) must keep room for edits
  var UNDO_CHARS = 1000000;
  var ASK_ABOVE = 50;  // marking more images than this at once asks first

  function has(map, key) { return Object.prototype.hasOwnProperty.call(map, key); }

  /* ---- the run's rules ------------------------------------------------------------- */
  /* The values an attribute may take (its label_values), or null when any. */
  function closedValues(rules, attribute) {
    var values = rules && rules.values;
    return values && has(values, attribute) ? values[attribute] : null;
  }

  /* What the workflow's reader refuses beyond the grammar: a value outside a closed list,
     a cluster marked mixed that names a value. [] when none. */
  function ruleProblems(doc, rules) {
    var problems = [];
    function check(where, values) {
      doc.attributes.forEach(function (a) {
        var allowed = closedValues(rules, a), v = has(values, a) ? values[a] : "";
        if (v && allowed && allowed.indexOf(v) < 0) {
          problems.push(where + ": " + a + " \u201c" + v + "\u201d is not one of its values (" +
                        allowed.join(", ") + ")");
        }
      });
    }
    doc.clusters.forEach(function (c) {
      check("cluster " + c.id, c.values);
      if (c.mixed && doc.attributes.some(function (a) { return has(c.values, a) && c.values[a]; })) {
        problems.push("cluster " + c.id + " is marked mixed but names a value");
      }
    });
    doc.images.forEach(function (image) { check("image " + image.path, image.values); });
    return problems;
  }

  /* ---- documents -------------------------------------------------------------------- */
  function emptyValues() { return Object.create(null); }

  function copyImage(image) {
    var out = LF.newImage(image.path);
    out.outlier = !!image.outlier; out.not_cluster = !!image.not_cluster; out.note = image.note || "";
    Object.keys(image.values).forEach(function (a) { out.values[a] = image.values[a]; });
    return out;
  }

  /* `other` laid out as the template: the template's clusters (ids, sizes) and fields,
   * then other's further fields; other's values, notes and flags for the clusters it
   * has; its image entries. Returns {doc, unknown: ids other has and the template not,
   * otherSizes: ids whose size differs}. */
  function onTemplate(template, other) {
    var byId = Object.create(null), unknown = [], otherSizes = [];
    other.clusters.forEach(function (c) { byId[c.id] = c; });
    var doc = {clustering: template.clustering, attributes: template.attributes.slice(),
               clusters: [], images: other.images.map(copyImage)};
    other.attributes.forEach(function (a) { if (doc.attributes.indexOf(a) < 0) doc.attributes.push(a); });
    var ids = Object.create(null);
    template.clusters.forEach(function (t) {
      ids[t.id] = true;
      var o = byId[t.id], c = {id: t.id, size: t.size, values: emptyValues(), note: "",
                               mixed: false, outlier: false};
      if (o) {
        Object.keys(o.values).forEach(function (a) { c.values[a] = o.values[a]; });
        c.note = o.note || ""; c.mixed = !!o.mixed; c.outlier = !!o.outlier;
        if (Number(o.size) !== Number(t.size)) otherSizes.push(t.id);
      }
      doc.clusters.push(c);
    });
    other.clusters.forEach(function (c) { if (!ids[c.id]) unknown.push(c.id); });
    return {doc: doc, unknown: unknown, otherSizes: otherSizes};
  }

  function value(map, a) { return has(map, a) ? map[a] : ""; }
  function show(text) { return text ? "\u201c" + text + "\u201d" : "(empty)"; }

  function imageIndex(doc) {
    var index = Object.create(null);
    doc.images.forEach(function (image) { index[image.path] = image; });
    return index;
  }

  /* What `doc` changes in `base` (both laid out on one template), one line each. */
  function differences(base, doc) {
    var lines = [];
    doc.clusters.forEach(function (c, i) {
      var b = base.clusters[i];
      doc.attributes.forEach(function (a) {
        if (value(b.values, a) !== value(c.values, a)) {
          lines.push("cluster " + c.id + ": " + a + " " + show(value(b.values, a)) + " \u2192 " +
                     show(value(c.values, a)));
        }
      });
      if ((b.note || "") !== (c.note || "")) {
        lines.push("cluster " + c.id + ": note " + show(b.note) + " \u2192 " + show(c.note));
      }
      [["mixed", "mixed"], ["outlier", "bad images"]].forEach(function (f) {
        if (!!b[f[0]] !== !!c[f[0]]) {
          lines.push("cluster " + c.id + ": " + (c[f[0]] ? "marked " : "no longer ") + f[1]);
        }
      });
    });
    var before = imageIndex(base), after = imageIndex(doc);
    var paths = Object.keys(before).concat(Object.keys(after).filter(function (p) {
      return !before[p];
    }));
    paths.forEach(function (path) {
      var b = before[path] || LF.newImage(path), a = after[path] || LF.newImage(path);
      [["outlier", "bad image"], ["not_cluster", "not this cluster"]].forEach(function (f) {
        if (!!b[f[0]] !== !!a[f[0]]) {
          lines.push("image " + path + ": " + (a[f[0]] ? "marked " : "no longer ") + f[1]);
        }
      });
      doc.attributes.forEach(function (attr) {
        if (value(b.values, attr) !== value(a.values, attr)) {
          lines.push("image " + path + ": " + attr + " " + show(value(b.values, attr)) +
                     " \u2192 " + show(value(a.values, attr)) + " (its own)");
        }
      });
      if ((b.note || "") !== (a.note || "")) {
        lines.push("image " + path + ": note " + show(b.note) + " \u2192 " + show(a.note));
      }
    });
    return lines;
  }

  /* doc with `other` (same layout) merged in: other's names, notes and flags where it has
     them (clusters it leaves unnamed keep doc's), and the image entries of both (other's
     values and notes win, marks of either are kept). */
  function mergeInto(doc, other) {
    other.attributes.forEach(function (a) { if (doc.attributes.indexOf(a) < 0) doc.attributes.push(a); });
    doc.clusters.forEach(function (c, i) {
      var o = other.clusters[i];
      var named = other.attributes.some(function (a) { return value(o.values, a); });
      if (!named && !o.mixed && !o.outlier && !o.note) return;
      other.attributes.forEach(function (a) { c.values[a] = value(o.values, a); });
      c.note = o.note || c.note; c.mixed = !!o.mixed; c.outlier = !!o.outlier;
    });
    var index = imageIndex(doc);
    other.images.forEach(function (image) {
      var mine = index[image.path];
      if (!mine) { doc.images.push(copyImage(image)); return; }
      mine.outlier = mine.outlier || image.outlier;
      mine.not_cluster = mine.not_cluster || image.not_cluster;
      Object.keys(image.values).forEach(function (a) { if (image.values[a]) mine.values[a] = image.values[a]; });
      if (image.note) mine.note = image.note;
    });
  }

  /* ---- undo steps ------------------------------------------------------------------ */
  /* A fingerprint of a text: its length and a 32-bit FNV-1a hash of its UTF-16 units. */
  function fingerprint(text) {
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return text.length + ":" + h.toString(16);
  }

  /* The undo step of an edit from text `before` to text `after`: {what, group, at, cut,
   * lines, after}: after's lines [at, at + cut) replace `lines` (before's, between the
   * lines both share at the start and at the end); `after` is after's fingerprint. */
  function makeStep(before, after, what, group) {
    var b = before.split("\n"), a = after.split("\n"), start = 0, end = 0;
    while (start < b.length && start < a.length && b[start] === a[start]) start++;
    while (end < b.length - start && end < a.length - start &&
           b[b.length - 1 - end] === a[a.length - 1 - end]) end++;
    return {what: what, group: group || null, at: start, cut: a.length - start - end,
            lines: b.slice(start, b.length - end), after: fingerprint(after)};
  }

  /* The text before `step`, given the text it left; null when `text` is not that text. */
  function unapply(step, text) {
    if (fingerprint(text) !== step.after) return null;
    var lines = text.split("\n");
    if (step.at + step.cut > lines.length) return null;
    return lines.slice(0, step.at).concat(step.lines, lines.slice(step.at + step.cut)).join("\n");
  }

  /* A step as kept can be anything another page (or anything else) wrote: used only when
     it has this shape. */
  function isStep(step) {
    return !!step && typeof step.what === "string" && typeof step.after === "string" &&
      (step.group === null || typeof step.group === "string") &&
      Number.isInteger(step.at) && step.at >= 0 && Number.isInteger(step.cut) && step.cut >= 0 &&
      Array.isArray(step.lines) && step.lines.every(function (l) { return typeof l === "string"; });
  }

  /* Drop the oldest steps beyond UNDO_DEPTH and beyond UNDO_CHARS (the newest is kept). */
  function bounded(steps) {
    steps = steps.slice(-UNDO_DEPTH);
    var size = 0;
    for (var i = steps.length - 1; i >= 0; i--) {
      size += JSON.stringify(steps[i]).length;
      if (size > UNDO_CHARS && i < steps.length - 1) return steps.slice(i + 1);
    }
    return steps;
  }

  /* ---- a clustering's state --------------------------------------------------------- */
  /* The state of target ({name, template, base: {text, hash, source, listed}}) with the
   * run's rules. Never throws: doc is null (problem says why) when the template or the
   * base cannot be read. */
  function open(target, rules) {
    var state = {name: target.name, base: target.base, rules: rules, doc: null, baseDoc: null,
                 template: null, problem: null, kept: null, keptOk: true,
                 baseSizesDiffer: []};
    decorate(state);
    try { state.template = LF.parse(target.template, target.name); } catch (e) {
      state.problem = "the label template is not in the format this page reads (" + e.message +
        "): the cards are shown without forms";
      return state;
    }
    try {
      var fitted = onTemplate(state.template, LF.parse(target.base.text, target.name));
      if (fitted.unknown.length) throw new Error("it names clusters " + fitted.unknown.join(", ") +
                                                 ", which " + target.name + " does not have");
      state.baseDoc = fitted.doc;
      state.baseSizesDiffer = fitted.otherSizes;
    } catch (e) {
      state.problem = target.base.source + " is not a label file this page reads (" + e.message +
        "): the cards are shown without forms";
      return state;
    }
    state.doc = copy(state.baseDoc);
    state.sync();
    return state;
  }

  function copy(doc) { return onTemplate(doc, doc).doc; }

  function decorate(state) {
    /* Take the edits this browser keeps, when they can be trusted; true when the document
       changed. */
    state.sync = function () {
      if (!state.baseDoc) return false;
      var text;
      try { text = DC.store.read(state.name, state.base.hash); } catch (e) {
        state.keptOk = false;
        return false;
      }
      if (text === null) {
        if (state.text() === LF.serialize(state.baseDoc)) return false;
        state.doc = copy(state.baseDoc);
        return true;
      }
      if (text === state.text()) return false;
      try {
        var parsed = LF.parse(text, state.name);
        var fitted = onTemplate(state.template, parsed);
        if (fitted.unknown.length || fitted.otherSizes.length ||
            parsed.clusters.length !== state.template.clusters.length) {
          throw new Error("its clusters or their sizes are not this run's");
        }
        var problems = ruleProblems(fitted.doc, state.rules);
        if (problems.length) throw new Error(problems[0]);
        state.doc = fitted.doc;
        state.problem = null;
        return true;
      } catch (e) {
        state.kept = text;
        state.problem = "the edits this browser kept for " + state.name + " were not taken (" +
          e.message + "); the page starts from " + state.base.source;
        return false;
      }
    };
    /* The document as a label file's text. */
    state.text = function () { return state.doc ? LF.serialize(state.doc) : ""; };
    /* What the kept edits change in the base, one line each ([] when none). */
    state.changes = function () { return state.doc ? differences(state.baseDoc, state.doc) : []; };
    /* Keep the document in this browser (nothing kept when it says what the base says). */
    state.keep = function () {
      try {
        if (!state.changes().length) DC.store.remove(state.name, state.base.hash);
        else DC.store.write(state.name, state.base.hash, state.text());
        state.keptOk = true;
      } catch (e) { state.keptOk = false; }
      return state.keptOk;
    };
    /* The undo steps kept for this clustering's labels, oldest first ([] when none or
       when what is kept is not a list of steps). */
    state.steps = function () {
      var steps;
      try { steps = JSON.parse(DC.store.history(state.name, state.base.hash) || "[]"); } catch (e) {
        return [];
      }
      return Array.isArray(steps) && steps.every(isStep) ? steps : [];
    };
    /* Keep the undo steps (when this browser refuses, no undo: the edits still count). */
    function keepSteps(steps) {
      try {
        if (steps.length) DC.store.setHistory(state.name, state.base.hash, JSON.stringify(steps));
        else DC.store.removeHistory(state.name, state.base.hash);
      } catch (e) { /* kept nowhere: nothing to undo later */ }
    }
    /* How many edits can be undone. */
    state.undoable = function () { return state.steps().length; };
    /* One edit, undoable: edit(doc) changes the document in place (false: nothing done);
     * `what` names it for the undo message. Consecutive edits of one `group` (typing in
     * one field) are one undo step. True when the document changed. */
    state.change = function (what, edit, group) {
      if (!state.doc) return false;
      state.sync();  // another page of this browser may have changed the kept edits
      var before = state.text();
      if (edit(state.doc) === false || state.text() === before) return false;
      var after = state.text(), steps = state.steps(), top = steps[steps.length - 1];
      if (group && top && top.group === group && unapply(top, before) !== null) {
        steps[steps.length - 1] = makeStep(unapply(top, before), after, top.what, group);
      } else steps.push(makeStep(before, after, what, group));
      keepSteps(bounded(steps));  // before the text: a page told of the text finds its step
      state.keep();
      return true;
    };
    /* Take back the last edit, whichever page made it: its name, or null when there is
       none (or the kept steps do not lead to the labels shown: they are dropped). */
    state.undo = function () {
      if (!state.doc) return null;
      state.sync();
      var steps = state.steps(), last = steps.pop();
      if (!last) return null;
      var text = unapply(last, state.text()), doc = null;
      if (text !== null) {
        try {
          var fitted = onTemplate(state.template, LF.parse(text, state.name));
          if (!fitted.unknown.length && !ruleProblems(fitted.doc, state.rules).length) doc = fitted.doc;
        } catch (e) { /* not a label file of this run: dropped below */ }
      }
      if (!doc) { keepSteps([]); return null; }
      keepSteps(steps);
      state.doc = doc;
      state.keep();
      return last.what;
    };
    /* An opened file laid out as this run's clustering, checked as the run checks it:
       {doc, otherSizes}; throws with the reason. */
    state.fit = function (opened) {
      var fitted = onTemplate(state.template, opened);
      if (fitted.unknown.length) {
        throw new Error("it names clusters " + fitted.unknown.join(", ") + ", which " +
                        state.name + " does not have (0 to " + (state.template.clusters.length - 1) + ")");
      }
      var problems = ruleProblems(fitted.doc, state.rules);
      if (problems.length) throw new Error("the workflow would refuse it: " + problems.join("; "));
      return fitted;
    };
    /* Replace the document by a fitted one, or merge it in (one undo step each). */
    state.replace = function (doc, what) {
      return state.change(what, function () { state.doc = copy(doc); });
    };
    state.merge = function (doc, what) {
      return state.change(what, function (mine) { mergeInto(mine, doc); });
    };
    /* The document's problems with the run's rules ([] when the run takes it). */
    state.problems = function () { return state.doc ? ruleProblems(state.doc, state.rules) : []; };
    /* The image entry of path, or null. */
    state.image = function (path) {
      if (!state.doc) return null;
      for (var i = 0; i < state.doc.images.length; i++) {
        if (state.doc.images[i].path === path) return state.doc.images[i];
      }
      return null;
    };
    /* Set (or with name null clear) a mark of the images at paths: one undo step; the
       number of marks changed. */
    state.mark = function (paths, name, on, what) {
      var changed = 0;
      state.change(what, function (doc) {
        changed = LF.setMarks(doc, paths, name, on);
        return changed > 0;
      });
      return changed;
    };
    /* Give the image at path its own value of attribute ('' takes it back). */
    state.setImageValue = function (path, attribute, text, what) {
      return state.change(what, function (doc) {
        var image = state.image(path);
        if (!image) {
          if (!text) return false;
          image = LF.newImage(path);
          doc.images.push(image);
        }
        image.values[attribute] = text;
        if (LF.isEmptyImage(image)) doc.images.splice(doc.images.indexOf(image), 1);
      });
    };
    return state;
  }

  /* ---- the working clustering ------------------------------------------------------- */
  /* The clustering the map and outliers pages mark images in, and why it is that one:
   * {name, why}. The one chosen in this browser for this project (data.project; why ""),
   * else by default: the first listed under 'labels:', else the first being named in
   * this browser (it keeps edits for it), else the index's recommendation (data.recommended,
   * for the attribute data.recommendedFor), else the first of names. */
  function workingChoice(data, names) {
    var chosen = null;
    try { chosen = DC.store.working(data.project); } catch (e) { /* none kept */ }
    if (chosen !== null && names.indexOf(chosen) >= 0) return {name: chosen, why: ""};
    var known = function (n) { return names.indexOf(n) >= 0; };
    var labelled = (data.labelled || []).filter(known), edited = DC.store.edited().filter(known);
    if (labelled.length) return {name: labelled[0], why: "the first listed under 'labels:'"};
    if (edited.length) return {name: edited[0], why: "its labels are being edited in this browser"};
    if (data.recommended && known(data.recommended)) {
      return {name: data.recommended, why: "the index recommends it" +
              (data.recommendedFor ? " for " + data.recommendedFor : "")};
    }
    return {name: names[0], why: "the first clustering"};
  }

  function working(data, names) { return workingChoice(data, names).name; }

  /* What a page says beside its choice of the working clustering: "" when chosen, else
     that it is a default and how to change it. */
  function workingNote(data, names) {
    var why = workingChoice(data, names).why;
    return why ? "a default (" + why + "): choose another here, or press w on a " +
      "clustering's page" : "";
  }

  /* Choose the working clustering; false when this browser keeps nothing. */
  function setWorking(data, name) {
    try { DC.store.setWorking(data.project, name); return true; } catch (e) { return false; }
  }

  /* ---- a question the page asks (open with edits, many marks at once) --------------
   * One at a time, in the page (no browser dialog): the question, a button per choice
   * named with its key; while it is open its keys (the table "question") are the only
   * ones the page takes. asking: {node, choices, returnFocus} while open, else null. */
  var asking = null;
  var questionKeys = DC.keys.table("question", function () {
    return asking ? asking.choices.map(function (c) {
      return {keys: [c.key], does: c.label, typing: true, action: function () { answer(c); }};
    }) : [];
  });

  function answer(choice) {
    var was = asking;
    asking = null;
    was.node.remove();
    if (was.returnFocus && was.returnFocus.focus && document.contains(was.returnFocus)) {
      was.returnFocus.focus();
    }
    if (choice.action) choice.action();
  }

  /* Ask `question`; choices: [{key, label, action}] (give one the key Escape: cancel). */
  function ask(question, choices) {
    if (asking) answer({});
    var node = DC.el("div", {className: "question", id: "question", role: "alertdialog",
                             "aria-modal": "true", tabIndex: -1},
      [DC.el("p", {className: "question-text", text: question})]);
    asking = {node: node, choices: choices, returnFocus: document.activeElement};
    var row = DC.el("p", {className: "question-choices"});
    choices.forEach(function (c) {
      var button = DC.el("button", {type: "button",
                                    text: c.label + " (" + DC.keys.display(c.key) + ")"});
      button.setAttribute("data-key", c.key);
      button.addEventListener("click", function () { answer(c); });
      row.appendChild(button);
    });
    node.appendChild(row);
    node.appendChild(DC.el("p", {className: "help", text: DC.keys.help([questionKeys])}));
    document.body.appendChild(node);
    node.focus();
  }

  // while a question is open its keys are the only ones taken, before any page's handler
  window.addEventListener("keydown", function (event) {
    if (!asking) return;
    if (!DC.keys.dispatch(event, [questionKeys]) && event.key !== "Tab") event.preventDefault();
    event.stopPropagation();
  }, true);

  /* ---- what every page that edits labels shows ------------------------------------- */
  /* The file the labels start from, and every unsaved change this browser keeps on top
   * of it, listed (open at first sight: nothing kept reaches a download unseen).
   * {node, update()}. */
  function panel(state) {
    var basis = DC.el("p", {className: "basis"});
    var title = DC.el("summary", {});
    var listing = DC.el("ol", {className: "changes-list"});
    var details = DC.el("details", {className: "changes", id: "changes"}, [title, listing]);
    var node = DC.el("div", {className: "labels-state"}, [basis, details]);
    function update() {
      var base = state.base, lines = state.changes();
      basis.textContent = state.doc ? "Labels of " + state.name + " from " + base.source +
        (base.listed ? ", the file the run used. " : " (the template: no label file is listed " +
         "for this clustering under 'labels:' in the config). ") : "";
      basis.appendChild(DC.el("strong", {id: "unsaved", text: !state.doc ? "" : lines.length ?
        lines.length + " unsaved change" + (lines.length === 1 ? "" : "s") + " newer than that " +
        "file, kept in this browser" + (state.keptOk ? "" : " (this browser refuses to keep " +
        "them: download before closing)") + "; the download holds them." :
        "No unsaved change: the page shows that file."}));
      details.hidden = !lines.length;
      title.textContent = "what differs from " + base.source + " (" + lines.length + ")";
      if (lines.length && !details.hasAttribute("data-shown")) {
        details.open = true;
        details.setAttribute("data-shown", "");
      }
      listing.textContent = "";
      lines.forEach(function (line) { listing.appendChild(DC.el("li", {text: line})); });
      node.classList.toggle("dirty", lines.length > 0);
    }
    update();
    return {node: node, update: update};
  }

  /* Save the state's document as fileName, unless the run would refuse it. Returns
     [message, isError]. */
  function download(state, fileName) {
    if (!state.doc) return ["There is no label file to download.", true];
    var text;
    try {
      var problems = state.problems();
      if (problems.length) throw new Error(problems.join("; "));
      text = state.text();
    } catch (e) {
      return ["Not downloaded: the workflow would refuse it (" + e.message + ").", true];
    }
    var url = URL.createObjectURL(new Blob([text], {type: "text/yaml"}));
    var link = DC.el("a", {href: url, download: fileName, hidden: true});
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    var n = state.changes().length;
    return ["Downloaded " + fileName + (n ? " with the " + n + " change" + (n === 1 ? "" : "s") +
            " listed" : ", the same as " + state.base.source) + ": save it as " +
            (state.base.listed ? state.base.source : "config/labels/" + fileName) +
            (state.base.listed ? "" : ", list it under 'labels' in the config (clustering: " +
             state.name + ")") + " and run the workflow.", false];
  }

  /* Mark the images at paths in state (name: a mark of LF.IMAGE_MARKS' flags), asking
   * first when they are more than ASK_ABOVE; done(changed) after. */
  function markMany(state, paths, name, on, describe, done) {
    function go() { done(state.mark(paths, name, on, describe)); }
    if (paths.length <= ASK_ABOVE) { go(); return; }
    ask(describe + ": " + paths.length + " images at once in the label file of " + state.name +
        "?", [{key: "y", label: "yes, all " + paths.length, action: go},
              {key: "Escape", label: "cancel", action: function () { done(null); }}]);
  }

  /* What a page says when an undo finds no step, and when another tab changed the labels
     it shows (its own last message would describe labels no longer shown). */
  var NOTHING_TO_UNDO = "Nothing to undo: this browser keeps the last " + UNDO_DEPTH +
    " steps of each clustering (fewer when they are large bulk marks).";
  var CHANGED_ELSEWHERE = "Labels updated: they were changed in another tab of this browser.";

  DC.labels = {open: open, closedValues: closedValues, ruleProblems: ruleProblems,
               differences: differences, working: working, workingNote: workingNote,
               setWorking: setWorking,
               ask: ask, asking: function () { return !!asking; }, panel: panel,
               download: download, markMany: markMany, UNDO_DEPTH: UNDO_DEPTH,
               ASK_ABOVE: ASK_ABOVE, NOTHING_TO_UNDO: NOTHING_TO_UNDO,
               CHANGED_ELSEWHERE: CHANGED_ELSEWHERE};
})();
