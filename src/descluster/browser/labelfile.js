/* descluster browser: the label file, read and written byte for byte.
 *
 * Reads only the layout the workflow's template has (and what the browser writes), with
 * values edited by hand (quoted or not); anything else is refused with the line number.
 * A document: {header: [comment lines], clustering: "m/p/kK", clusteringText: as written,
 *   attributes: [names], clusters: [{id, comment, size, values: {a: text}, note, mixed,
 *   outlier}], images: [{path, outlier, not_cluster, values: {a: text}, note}]}.
 * Strings are written double-quoted with JSON escaping (valid YAML). */
(function () {
  "use strict";
  var DC = window.DC = window.DC || {};
  var FIXED = ["note", "mixed", "outlier"];  // after the attributes, in this order
  var IMAGE_FLAGS = ["outlier", "not_cluster"];
  var KEY = "[A-Za-z_][A-Za-z0-9_.-]*";

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
        var image = {path: parseText(m[1], at + 1), values: Object.create(null), note: "",
                     outlier: false, not_cluster: false};
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

  /* ---- image marks from other pages (map, outliers) -------------------------------- */
  /* The flags an image entry can have, with their keys in the image view. */
  var IMAGE_MARKS = [["b", "bad image", "outlier"], ["n", "not this cluster", "not_cluster"]];

  /* Where this browser keeps a clustering's label file: the clustering page's storage. */
  function storageKey(run, name) { return "descluster:" + run + ":" + name; }

  /* The label document of a clustering ({name, template}) as its page would start from:
   * what this browser keeps for it, else its template. Throws with a message to show. */
  function keptDoc(run, clustering) {
    var template = parse(clustering.template, clustering.name), kept = null;
    try { kept = window.localStorage.getItem(storageKey(run, clustering.name)); } catch (e) {
      throw new Error("this browser keeps nothing for these pages, so marks cannot reach " +
                      "the label file; mark the images on the clustering page's image view");
    }
    if (kept === null) return template;
    var doc = parse(kept, clustering.name);
    var fits = doc.clusters.length === template.clusters.length &&
      doc.clusters.every(function (c, i) {
        return c.id === template.clusters[i].id && c.size === template.clusters[i].size;
      });
    if (!fits) {
      throw new Error("the labels this browser keeps for " + clustering.name + " are not this " +
                      "run's: open its page first");
    }
    return doc;
  }

  function keepDoc(run, clustering, doc) {
    try {
      window.localStorage.setItem(storageKey(run, clustering.name), serialize(doc));
    } catch (e) {
      throw new Error("this browser refused to keep the label file (storage full?)");
    }
  }

  function imageIndex(doc) {
    var index = Object.create(null);
    doc.images.forEach(function (image) { index[image.path] = image; });
    return index;
  }

  function isEmpty(image) {
    return !image.outlier && !image.not_cluster && !image.note &&
      !Object.keys(image.values).some(function (a) { return image.values[a]; });
  }

  /* Set (or with name null clear) a mark on the images at paths, in the label file this
   * browser keeps for clustering; returns how many marks changed. */
  function markImages(run, clustering, paths, name, value) {
    var doc = keptDoc(run, clustering), index = imageIndex(doc), changed = 0;
    paths.forEach(function (path) {
      var image = index[path];
      if (!image && !value) return;
      if (!image) {
        image = index[path] = {path: path, values: {}, note: "", outlier: false, not_cluster: false};
        doc.images.push(image);
      }
      var names = name ? [name] : IMAGE_MARKS.map(function (k) { return k[2]; });
      names.forEach(function (f) { if (!!image[f] !== value) { image[f] = value; changed++; } });
    });
    doc.images = doc.images.filter(function (image) { return !isEmpty(image); });
    keepDoc(run, clustering, doc);
    return changed;
  }

  /* The image entry of path in that label file ({} when none or unreadable). */
  function imageMarks(run, clustering, path) {
    try { return imageIndex(keptDoc(run, clustering))[path] || {}; } catch (e) { return {}; }
  }

  DC.labelfile = {parse: parse, serialize: serialize, LabelFileError: LabelFileError,
                  IMAGE_MARKS: IMAGE_MARKS, storageKey: storageKey, markImages: markImages,
                  imageMarks: imageMarks};
})();
