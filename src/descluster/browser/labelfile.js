/* descluster browser: the label file, and the copies of it this browser keeps.
 *
 * 1. The format (DC.labelfile): a label file read (parse) and written (serialize) byte for
 * byte. Reads only the layout the workflow's template has (and what the browser writes),
 * with values edited by hand (quoted or not); anything else is refused with the line
 * number. A document: {header: [comment lines], clustering: "m/p/kK", clusteringText: as
 * written, attributes: [names], clusters: [{id, comment, size, values: {a: text}, note,
 * mixed, outlier}], images: [{path, outlier, not_cluster, values: {a: text}, note}]}.
 * Strings are written double-quoted with JSON escaping (valid YAML).
 *
 * 2. Browser storage (DC.store): every read and write of the browser's localStorage by the
 * pages, where a clustering's label file is kept as text while it is being named (the
 * clustering page) or its images marked (map and outliers pages); and the one check that
 * a kept file is of this run's clusters. */
(function () {
  "use strict";
  var DC = window.DC = window.DC || {};
  /* ---- the format ----------------------------------------------------------------- */
  var FIXED = ["note", "mixed", "outlier"];  // after the attributes, in this order
  var IMAGE_FLAGS = ["outlier", "not_cluster"];
  var KEY = "[A-Za-z_][A-Za-z0-9_.-]*";  // an attribute name

  function LabelFileError(line, message) {
    this.line = line;
    this.message = (line ? "line " + line + ": " : "") + message;
  }
  LabelFileError.prototype = Object.create(Error.prototype);
  LabelFileError.prototype.name = "LabelFileError";

  /* A value as written by the browser ("json"), or edited by hand: 'single', plain, empty. */
  function parseText(raw, line) {
    var text = (raw || "").replace(/\s+$/, "");
    var m;
    if (text.charAt(0) === '"') {
      m = /^"((?:[^"\\]|\\.)*)"(?:\s+#.*)?$/.exec(text);
      if (!m) throw new LabelFileError(line, "a quoted value must end with its closing \" " +
                                             "(and nothing after it but a # comment)");
      try { return JSON.parse('"' + m[1] + '"'); } catch (e) {
        throw new LabelFileError(line, "the quoted value has an escape JSON does not know");
      }
    }
    if (text.charAt(0) === "'") {
      m = /^'((?:[^']|'')*)'(?:\s+#.*)?$/.exec(text);
      if (!m) throw new LabelFileError(line, "a quoted value must end with its closing '");
      return m[1].replace(/''/g, "'");
    }
    text = text.replace(/(^|\s)#.*$/, "").trim();
    if (/^[\[\]{}&*!|>%@`]/.test(text) || /^- /.test(text) || text === "-") {
      throw new LabelFileError(line, "write the value in double quotes");
    }
    return text === "~" || text === "null" ? "" : text;
  }

  function parseFlag(raw, line, name) {
    var text = (raw || "").replace(/\s+#.*$/, "").trim();
    if (text === "true") return true;
    if (text === "false") return false;
    throw new LabelFileError(line, "'" + name + "' must be true or false, not '" + text + "'");
  }

  /* Parse a label file; expected (optional) is the page's clustering. */
  function parse(text, expected) {
    var lines = text.replace(/^\ufeff/, "").split(/\r?\n/);
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    var at = 0, m;
    function line() { return lines[at]; }
    function fail(message) { throw new LabelFileError(at + 1, message); }
    var doc = {header: [], attributes: null, clusters: [], images: []};
    while (at < lines.length && /^(#.*)?$/.test(line())) doc.header.push(lines[at++]);
    m = at < lines.length && /^clustering: (.*)$/.exec(line());
    if (!m) fail("expected 'clustering: <model>/<variant>/k<k>' after the comment lines");
    doc.clusteringText = m[1];
    doc.clustering = parseText(m[1], at + 1);
    if (expected && doc.clustering !== expected) {
      fail("this file is for clustering " + doc.clustering + ", this page is " + expected);
    }
    at++;
    if (line() !== "clusters:") fail("expected 'clusters:'");
    at++;
    var seen = Object.create(null);
    while (at < lines.length && /^  - /.test(line())) {
      m = /^  - cluster: (\d+)((?:\s+#.*)?)$/.exec(line());
      if (!m) fail("expected '- cluster: <number>' (indented by 2 spaces)");
      var cluster = {id: Number(m[1]), comment: m[2], values: Object.create(null)};
      if (seen[cluster.id]) fail("cluster " + cluster.id + " is listed twice (first on line " +
                                 seen[cluster.id] + ")");
      seen[cluster.id] = at + 1;
      at++;
      m = at < lines.length && /^    size: (\d+)\s*$/.exec(line());
      if (!m) fail("expected 'size: <number>' (indented by 4 spaces) under cluster " + cluster.id);
      cluster.size = m[1];
      at++;
      var keys = [];
      while (at < lines.length && (m = new RegExp("^    (" + KEY + "):(?: (.*))?$").exec(line()))) {
        var name = m[1];
        if (name === "cluster" || name === "size" || keys.indexOf(name) >= 0) {
          fail("'" + name + "' appears twice in cluster " + cluster.id);
        }
        keys.push(name);
        if (name === "mixed" || name === "outlier") cluster[name] = parseFlag(m[2], at + 1, name);
        else if (name === "note") cluster.note = parseText(m[2], at + 1);
        else cluster.values[name] = parseText(m[2], at + 1);
        at++;
      }
      var attributes = keys.slice(0, Math.max(0, keys.length - FIXED.length));
      if (keys.slice(attributes.length).join() !== FIXED.join() ||
          attributes.some(function (a) { return FIXED.indexOf(a) >= 0; })) {
        fail("cluster " + cluster.id + " must have its attributes, then note, mixed and " +
             "outlier, each on its own line (found: " + keys.join(", ") + ")");
      }
      if (doc.attributes === null) doc.attributes = attributes;
      else if (attributes.join() !== doc.attributes.join()) {
        fail("cluster " + cluster.id + " has the attributes " + attributes.join(", ") +
             "; the first cluster has " + doc.attributes.join(", "));
      }
      doc.clusters.push(cluster);
    }
    if (!doc.clusters.length) fail("expected '- cluster: <number>' entries under 'clusters:'");
    if (line() === "images: []") at++;
    else if (line() === "images:") {
      at++;
      var paths = Object.create(null);
      while (at < lines.length && /^  - /.test(line())) {
        m = /^  - path: (.*)$/.exec(line());
        if (!m) fail("expected '- path: \"<image path>\"' (indented by 2 spaces)");
        var image = newImage(parseText(m[1], at + 1));
        if (!image.path) fail("the image path is empty");
        if (paths[image.path]) fail("image " + image.path + " is listed twice (first on line " +
                                    paths[image.path] + ")");
        paths[image.path] = at + 1;
        at++;
        while (at < lines.length && (m = new RegExp("^    (" + KEY + "):(?: (.*))?$").exec(line()))) {
          if (IMAGE_FLAGS.indexOf(m[1]) >= 0) image[m[1]] = parseFlag(m[2], at + 1, m[1]);
          else if (m[1] === "note") image.note = parseText(m[2], at + 1);
          else if (doc.attributes.indexOf(m[1]) >= 0) image.values[m[1]] = parseText(m[2], at + 1);
          else fail("unknown key '" + m[1] + "' for an image (expected outlier, not_cluster, " +
                    "note or one of the attributes " + doc.attributes.join(", ") + ")");
          at++;
        }
        doc.images.push(image);
      }
    } else fail("expected 'images: []' or 'images:' after the clusters");
    while (at < lines.length && lines[at].trim() === "") at++;
    if (at < lines.length) fail("unexpected text after the images");
    return doc;
  }

  function quote(text) { return JSON.stringify(text); }

  /* The text of a document: the template's layout line for line (its comments and
     cluster comments as read), every string double-quoted, images only when marked. */
  function serialize(doc) {
    var out = doc.header.slice();
    out.push("clustering: " + doc.clusteringText, "clusters:");
    doc.clusters.forEach(function (c) {
      out.push("  - cluster: " + c.id + c.comment, "    size: " + c.size);
      doc.attributes.forEach(function (a) { out.push("    " + a + ": " + quote(c.values[a] || "")); });
      out.push("    note: " + quote(c.note || ""), "    mixed: " + !!c.mixed,
               "    outlier: " + !!c.outlier);
    });
    if (!doc.images.length) out.push("images: []");
    else {
      out.push("images:");
      doc.images.forEach(function (image) {
        out.push("  - path: " + quote(image.path));
        IMAGE_FLAGS.forEach(function (f) { if (image[f]) out.push("    " + f + ": true"); });
        doc.attributes.forEach(function (a) {
          if (image.values[a]) out.push("    " + a + ": " + quote(image.values[a]));
        });
        if (image.note) out.push("    note: " + quote(image.note));
      });
    }
    return out.join("\n") + "\n";
  }

  /* ---- image entries ------------------------------------------------------------- */
  /* The flags an image entry can have, with their keys in the image view:
     [key, what the help and the button say, flag]. */
  var IMAGE_MARKS = [["b", "bad image", "outlier"], ["n", "not this cluster", "not_cluster"]];

  /* An image entry with nothing set. */
  function newImage(path) {
    return {path: path, values: Object.create(null), note: "", outlier: false,
            not_cluster: false};
  }

  /* An entry that says nothing (no flag, note or value) is left out of the file. */
  function isEmptyImage(image) {
    return !image.outlier && !image.not_cluster && !image.note &&
      !Object.keys(image.values).some(function (a) { return image.values[a]; });
  }

  /* The images of a document by path. */
  function imageIndex(doc) {
    var index = Object.create(null);
    doc.images.forEach(function (image) { index[image.path] = image; });
    return index;
  }

  /* Set (or with name null clear every) mark of the images at paths in doc, adding entries
   * as needed and dropping those left empty; returns how many marks changed. */
  function setMarks(doc, paths, name, value) {
    var index = imageIndex(doc), changed = 0;
    var names = name ? [name] : IMAGE_MARKS.map(function (k) { return k[2]; });
    paths.forEach(function (path) {
      var image = index[path];
      if (!image && !value) return;
      if (!image) {
        image = index[path] = newImage(path);
        doc.images.push(image);
      }
      names.forEach(function (f) { if (!!image[f] !== value) { image[f] = value; changed++; } });
    });
    doc.images = doc.images.filter(function (image) { return !isEmptyImage(image); });
    return changed;
  }

  DC.labelfile = {parse: parse, serialize: serialize, LabelFileError: LabelFileError,
                  IMAGE_MARKS: IMAGE_MARKS, newImage: newImage, isEmptyImage: isEmptyImage};

  /* ---- browser storage: the label files this browser keeps --------------------------
   * State: none here; localStorage holds, under key(run, clustering), the text of the
   * label file of each clustering being named or marked. The clustering page writes it on
   * every edit (and reads it when it opens, and when another tab changes it); the map and
   * outliers pages add image marks to it (markImages). A run is its results folder, so two
   * runs never share an entry. */

  /* Where this browser keeps a clustering's label file. The one place that decides it. */
  function key(run, clustering) { return "descluster:" + run + ":" + clustering; }

  /* The kept text of a clustering's label file, or null; throws when the browser keeps
     nothing for these pages (storage off, e.g. for file:// pages in some settings). */
  function read(run, clustering) {
    return window.localStorage.getItem(key(run, clustering));
  }

  /* Keep text as a clustering's label file; throws when the browser refuses (storage off or
     full). */
  function write(run, clustering, text) {
    window.localStorage.setItem(key(run, clustering), text);
  }

  /* The texts kept for the run's other clusterings (unreadable storage: none). */
  function others(run, clustering) {
    var prefix = key(run, ""), own = key(run, clustering), texts = [];
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var name = window.localStorage.key(i);
        if (name.indexOf(prefix) === 0 && name !== own) {
          texts.push(window.localStorage.getItem(name));
        }
      }
    } catch (e) { /* nothing kept can be read: no texts */ }
    return texts;
  }

  /* Call changed(text) when another page of this browser changes the clustering's kept
     file (the "storage" event fires in the other tabs, not the writing one). */
  function onChange(run, clustering, changed) {
    window.addEventListener("storage", function (event) {
      if (event.key === key(run, clustering) && event.newValue !== null) changed(event.newValue);
    });
  }

  /* How a label document's clusters compare with a run's ([{id, size}], in order):
   * sameIds (the same ids in the same order) and otherSizes (ids whose size differs). */
  function compare(doc, clusters) {
    var sameIds = doc.clusters.length === clusters.length && doc.clusters.every(function (c, i) {
      return c.id === clusters[i].id;
    });
    return {sameIds: sameIds, otherSizes: !sameIds ? [] : doc.clusters.filter(function (c, i) {
      return Number(c.size) !== Number(clusters[i].size);
    }).map(function (c) { return c.id; })};
  }

  /* The one "same clusters?" check of a kept file: the run's ids, in order, and sizes. */
  function fits(doc, clusters) {
    var same = compare(doc, clusters);
    return same.sameIds && !same.otherSizes.length;
  }

  /* The label document of a clustering ({name, template}) as its page would start from:
   * what this browser keeps for it, else its template. Throws with a message to show. */
  function keptDoc(run, clustering) {
    var template = parse(clustering.template, clustering.name), kept = null;
    try { kept = read(run, clustering.name); } catch (e) {
      throw new Error("this browser keeps nothing for these pages, so marks cannot reach " +
                      "the label file; mark the images on the clustering page's image view");
    }
    if (kept === null) return template;
    var doc = parse(kept, clustering.name);
    if (!fits(doc, template.clusters)) {
      throw new Error("the labels this browser keeps for " + clustering.name + " are not this " +
                      "run's: open its page first");
    }
    return doc;
  }

  /* Set (or with name null clear) a mark on the images at paths, in the label file this
   * browser keeps for clustering (from another page: map, outliers); returns how many
   * marks changed. Throws with a message to show. */
  function markImages(run, clustering, paths, name, value) {
    var doc = keptDoc(run, clustering);
    var changed = setMarks(doc, paths, name, value);
    try { write(run, clustering.name, serialize(doc)); } catch (e) {
      throw new Error("this browser refused to keep the label file (storage full?)");
    }
    return changed;
  }

  /* The image entry of path in that label file ({} when none or unreadable). */
  function imageMarks(run, clustering, path) {
    try { return imageIndex(keptDoc(run, clustering))[path] || {}; } catch (e) { return {}; }
  }

  DC.store = {read: read, write: write, others: others, onChange: onChange,
              compare: compare, fits: fits, markImages: markImages, imageMarks: imageMarks};
})();
