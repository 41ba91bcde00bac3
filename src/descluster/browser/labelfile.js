/* descluster browser: the label file, and the copies of it this browser keeps.
 *
 * 1. The format (DC.labelfile): a label file read (parse) and written (serialize) by the one
 * strict grammar the workflow's reader applies too (descluster/labelfile.py; its rules are
 * DC.grammar, from descluster/grammar.json, loaded before this file). Anything outside it
 * is refused with the line number; a download holds only what the page parsed and shows.
 *
 * 2. Browser storage (DC.store): every read and write of the browser's localStorage by the
 * pages: a clustering's unsaved edits, kept as label-file text on top of the file its pages
 * start from, keyed by the clustering and that file's hash; and the working clustering.
 * What is trusted of it is DC.labels' (labelstate.js). */
(function () {
  "use strict";
  var DC = window.DC = window.DC || {};
  /* ---- the format ----------------------------------------------------------------- */
  /* One strict line grammar, the same as the workflow's reader (descluster/labelfile.py);
   * its rules are data (DC.grammar, from descluster/grammar.json, loaded before this
   * file), the steps below mirror the Python ones line for line. A document:
   * {clustering, attributes: [names], clusters: [{id, size, values: {a: text}, note, mixed,
   * outlier, line, lines: {key: line}}], images: [{path, outlier, not_cluster,
   * values: {a: non-empty text}, note, line, lines}]}; maps keyed by names or paths have
   * no prototype. Nothing but the document is written back: no comment is carried over. */
  var G = DC.grammar.labelFile, NAME = DC.grammar.name;
  var RE = {};
  ["forbidden", "skip", "quoted", "plain", "after", "flag", "clusterLine", "sizeLine",
   "clusteringId"].forEach(function (k) { RE[k] = new RegExp(G[k]); });
  var EDGE = new RegExp(G.edgeSpace), EDGE_ALL = new RegExp(G.edgeSpace, "g");
  var NAME_RE = new RegExp(NAME.pattern);
  // a UTF-16 surrogate without its other half (text from storage can hold one; a file
  // read as UTF-8 cannot)
  var LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;
  var FIXED = G.clusterFlags, IMAGE_FLAGS = G.imageFlags;

  function LabelFileError(line, message) {
    this.line = line;
    this.reason = message;
    this.message = (line ? "line " + line + ": " : "") + message;
  }
  LabelFileError.prototype = Object.create(Error.prototype);
  LabelFileError.prototype.name = "LabelFileError";

  function has(map, key) { return Object.prototype.hasOwnProperty.call(map, key); }

  function repr(text, limit) {
    var shown = JSON.stringify(String(text));
    return shown.length > (limit || 60) ? shown.slice(0, (limit || 60) - 4) + "...\"" : shown;
  }

  /* Why name cannot name an attribute, or null (descluster/names.py, name_problem). */
  function nameProblem(name) {
    if (typeof name !== "string") return "is not text; names are text";
    if (!NAME_RE.test(name)) {
      return "is not a valid name: a name starts with a letter (A-Z, a-z) and holds only " +
             "letters, digits and '_'";
    }
    if (name.length > NAME.maxLength) return "is longer than " + NAME.maxLength + " characters";
    if (NAME.yamlWords.indexOf(name.toLowerCase()) >= 0) {
      return "is a YAML word (read as true/false or null); name it otherwise";
    }
    if (NAME.objectMembers.indexOf(name) >= 0) {
      return "is a member of every JavaScript object (the pages would misread it); " +
             "name it otherwise";
    }
    if (NAME.reserved.indexOf(name) >= 0) {
      return "is a name the workflow uses itself; name it otherwise";
    }
    for (var i = 0; i < NAME.reservedSuffixes.length; i++) {
      var suffix = NAME.reservedSuffixes[i];
      if (name.length >= suffix.length && name.slice(-suffix.length) === suffix) {
        return "ends in '" + suffix + "', as the columns the workflow adds; name it otherwise";
      }
    }
    return null;
  }

  function describeChar(c) {
    var code = "U+" + ("000" + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4);
    if (c === "\r") return code + " (a carriage return not followed by a line feed)";
    if (c === "\t") return code + " (a tab; indent with spaces)";
    if ("\u0085\u2028\u2029\u000b\u000c".indexOf(c) >= 0) {
      return code + " (a line break other than \\n)";
    }
    return code;
  }

  /* The lines of a text, checked character by character (labelfile.py, split_lines). */
  function splitLines(text) {
    if (text.charAt(0) === "\ufeff") text = text.slice(1);
    var lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    var limit = G.maxLineLength, bad;
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].charAt(lines[i].length - 1) === "\r") lines[i] = lines[i].slice(0, -1);
      if (lines[i].length > limit) {
        throw new LabelFileError(i + 1, "the line is longer than " + limit + " characters");
      }
      if ((bad = RE.forbidden.exec(lines[i]))) {
        throw new LabelFileError(i + 1, "character " + describeChar(bad[0]) +
                                        " is not allowed in a label file");
      }
      if (LONE.test(lines[i])) {
        throw new LabelFileError(i + 1, "the line holds half of a character (a lone surrogate)");
      }
    }
    return lines;
  }

  /* One spelling per file: forward slashes, no empty or '.' parts (labelfile.py). */
  function normalisePath(path) {
    var unified = path.replace(/\\/g, "/");
    var parts = unified.split("/").filter(function (p) { return p !== "" && p !== "."; });
    return (unified.charAt(0) === "/" ? "/" : "") + parts.join("/");
  }

  function Cursor(lines) { this.lines = lines; this.at = 0; }
  Cursor.prototype.peek = function () {
    while (this.at < this.lines.length && RE.skip.test(this.lines[this.at])) this.at++;
    return this.at < this.lines.length ? this.lines[this.at] : null;
  };
  Cursor.prototype.fail = function (message, line) {
    throw new LabelFileError(line || this.at + 1, message);
  };

  /* A value after "key:"; kind "text" (trimmed, "" = unknown), "path" or "flag". */
  function value(cursor, rest, key, kind) {
    var m, text, result;
    if (RE.after.test(rest)) {
      if (kind === "flag") cursor.fail("'" + key + "' must be true or false");
      return "";
    }
    text = rest.replace(/^ +/, "");
    if (kind === "flag") {
      m = RE.flag.exec(text);
      if (!m || !RE.after.test(text.slice(m[0].length))) {
        cursor.fail("'" + key + "' must be true or false, not " + repr(text, 40));
      }
      return m[1] === "true";
    }
    if ((m = RE.quoted.exec(text))) {
      if (!RE.after.test(text.slice(m[0].length))) {
        cursor.fail("nothing may follow the closing quote of '" + key + "' but a # comment");
      }
      result = JSON.parse(m[0]);
    } else if (text.charAt(0) === '"') {
      cursor.fail("the quoted value of '" + key + "' must end with its closing \" and use " +
                  "only the escapes \\\" \\\\ \\/ \\uXXXX (no surrogates)");
    } else {
      m = RE.plain.exec(text);
      if (!m || !RE.after.test(text.slice(m[0].length))) {
        cursor.fail(repr(key + ": " + text) + " is not plain text; write the value in double " +
                    "quotes: " + key + ": \"...\"");
      }
      result = m[0];
      if (NAME.yamlWords.indexOf(result.toLowerCase()) >= 0) {
        cursor.fail("'" + key + ": " + result + "' is read by YAML as true/false or null, not " +
                    "text; write it in quotes: " + key + ": \"" + result + "\"");
      }
    }
    var bad = RE.forbidden.exec(result);
    if (bad) {
      cursor.fail("the value of '" + key + "' holds character " + describeChar(bad[0]) +
                  ", which a label file does not allow");
    }
    if (kind === "path") {
      if (result === "") cursor.fail("the image path is empty");
      if (EDGE.test(result)) {
        cursor.fail("the image path " + repr(result) + " starts or ends with a space; paths " +
                    "are taken exactly as written");
      }
      result = normalisePath(result);
      if (result === "") cursor.fail("the image path is empty");
      return result;
    }
    return result.replace(EDGE_ALL, "");
  }

  /* [key, rest] of a line "    key: value" (4 spaces). */
  function keyLine(cursor, line) {
    var body = line.slice(4);
    if (body.charAt(0) === " ") cursor.fail("a key is indented by 4 spaces, no more");
    var colon = body.indexOf(":");
    if (colon < 0 || !(colon + 1 === body.length || body.charAt(colon + 1) === " ")) {
      cursor.fail("expected 'name: value'");
    }
    return [body.slice(0, colon), body.slice(colon + 1)];
  }

  function attributeName(cursor, key) {
    var problem = nameProblem(key);
    if (problem) {
      cursor.fail("attribute name " + repr(key) + " " + problem + " (docs/safety.md: names)");
    }
  }

  function topKey(cursor, name, withValue) {
    var line = cursor.peek();
    if (line === null) cursor.fail("the file ends where '" + name + ":' was expected");
    if (line.slice(0, name.length + 1) !== name + ":") {
      var m = /^([A-Za-z_][A-Za-z0-9_]*):/.exec(line);
      cursor.fail((m ? "unknown or misplaced key " + repr(m[1], 40)
                     : "unexpected line " + repr(line, 40)) +
                  "; expected '" + name + ":' (the keys are clustering, clusters, images, in " +
                  "this order)");
    }
    var rest = line.slice(name.length + 1);
    if (rest && rest.charAt(0) !== " ") cursor.fail("expected a space after '" + name + ":'");
    if (!withValue && !RE.after.test(rest)) {
      cursor.fail("expected '" + name + ":' alone on its line");
    }
    return rest;
  }

  function entryKeys(cursor, entry, onKey) {
    var line;
    for (;;) {
      line = cursor.peek();
      if (line === null || line.slice(0, 4) !== "    ") break;
      var kv = keyLine(cursor, line);
      if (has(entry.lines, kv[0])) {
        cursor.fail(repr(kv[0]) + " appears twice in this entry (first on line " +
                    entry.lines[kv[0]] + ")");
      }
      onKey(kv[0], kv[1]);
      entry.lines[kv[0]] = cursor.at + 1;
      cursor.at++;
    }
    if (line !== null && line.slice(0, 4) !== "  - " && line.charAt(0) === " ") {
      cursor.fail("unexpected indentation: entries start with '  - ', their keys with 4 spaces");
    }
  }

  function readClusters(cursor, doc) {
    var seen = Object.create(null), line, m;
    while ((line = cursor.peek()) !== null && line.slice(0, 4) === "  - ") {
      m = RE.clusterLine.exec(line);
      if (!m) cursor.fail("expected '  - cluster: <number>' (a whole number, no leading zeros)");
      var lines = Object.create(null);
      lines.cluster = cursor.at + 1;
      var cluster = {id: Number(m[1]), size: 0, values: Object.create(null), note: "",
                     mixed: false, outlier: false, line: cursor.at + 1, lines: lines};
      if (seen[cluster.id]) {
        cursor.fail("cluster " + cluster.id + " is listed twice (first on line " +
                    seen[cluster.id] + ")");
      }
      seen[cluster.id] = cursor.at + 1;
      cursor.at++;
      line = cursor.peek();
      m = line !== null ? RE.sizeLine.exec(line) : null;
      if (!m) cursor.fail("expected '    size: <number>' under cluster " + cluster.id);
      cluster.size = Number(m[1]);
      cluster.lines.size = cursor.at + 1;
      cursor.at++;
      var order = [];
      entryKeys(cursor, cluster, function (key, rest) {
        if (key === "mixed" || key === "outlier") cluster[key] = value(cursor, rest, key, "flag");
        else if (key === "note") cluster.note = value(cursor, rest, key, "text");
        else {
          attributeName(cursor, key);
          cluster.values[key] = value(cursor, rest, key, "text");
        }
        order.push(key);
      });
      var attributes = order.length >= FIXED.length ?
        order.slice(0, order.length - FIXED.length) : [];
      if (order.slice(attributes.length).join() !== FIXED.join() ||
          attributes.some(function (a) { return FIXED.indexOf(a) >= 0; })) {
        cursor.fail("cluster " + cluster.id + " must have its attributes, then " +
                    FIXED.join(", ") + ", each on its own line (found: " +
                    (order.join(", ") || "none") + ")", cluster.line);
      }
      if (doc.attributes === null) doc.attributes = attributes;
      else if (attributes.join() !== doc.attributes.join() ||
               attributes.length !== doc.attributes.length) {
        cursor.fail("cluster " + cluster.id + " has the attributes " +
                    (attributes.join(", ") || "none") + "; the first cluster has " +
                    (doc.attributes.join(", ") || "none"), cluster.line);
      }
      doc.clusters.push(cluster);
    }
    if (!doc.clusters.length) {
      cursor.fail("expected '  - cluster: <number>' entries under 'clusters:'");
    }
  }

  function readImages(cursor, doc) {
    var seen = Object.create(null), line;
    while ((line = cursor.peek()) !== null && line.slice(0, 4) === "  - ") {
      if (line.slice(0, 9) !== "  - path:" || (line.length > 9 && line.charAt(9) !== " ")) {
        cursor.fail("expected '  - path: \"<image path>\"'");
      }
      var image = newImage(null);
      image.line = cursor.at + 1;
      image.lines = Object.create(null);
      image.lines.path = cursor.at + 1;
      image.path = value(cursor, line.slice(9), "path", "path");
      if (seen[image.path]) {
        cursor.fail("image " + repr(image.path) + " is listed twice (first on line " +
                    seen[image.path] + ")");
      }
      seen[image.path] = cursor.at + 1;
      cursor.at++;
      entryKeys(cursor, image, function (key, rest) {
        if (IMAGE_FLAGS.indexOf(key) >= 0) image[key] = value(cursor, rest, key, "flag");
        else if (key === "note") image.note = value(cursor, rest, key, "text");
        else if (doc.attributes.indexOf(key) >= 0) {
          var text = value(cursor, rest, key, "text");
          if (text) image.values[key] = text;
        } else {
          attributeName(cursor, key);
          cursor.fail("unknown key " + repr(key) + " for an image (expected " +
                      IMAGE_FLAGS.join(", ") + ", note or an attribute of the clusters: " +
                      (doc.attributes.join(", ") || "none") + ")");
        }
      });
      doc.images.push(image);
    }
  }

  /* Parse a label file's text; expected (optional) is the page's clustering. Throws a
   * LabelFileError naming the line. */
  function parse(text, expected) {
    if (typeof text !== "string") throw new LabelFileError(0, "not text");
    if (text.length > G.maxBytes || text.length * 3 > G.maxBytes &&
        new Blob([text]).size > G.maxBytes) {
      throw new LabelFileError(0, "the file is larger than " + (G.maxBytes / 1048576) +
                                  " MiB, the most a label file may hold");
    }
    var cursor = new Cursor(splitLines(text));
    var clustering = value(cursor, topKey(cursor, "clustering", true), "clustering", "text");
    if (!RE.clusteringId.test(clustering)) {
      cursor.fail("'clustering' must name a clustering as model/variant/kK (e.g. " +
                  "osnet/pca150/k30), not " + repr(clustering));
    }
    if (expected !== undefined && expected !== null && clustering !== expected) {
      cursor.fail("the file is for clustering " + repr(clustering) + ", not " + repr(expected));
    }
    var doc = {clustering: clustering, attributes: null, clusters: [], images: []};
    cursor.at++;
    topKey(cursor, "clusters", false);
    cursor.at++;
    readClusters(cursor, doc);
    var rest = topKey(cursor, "images", true);
    if (/^ \[\](?: +#.*| *)$/.test(rest)) cursor.at++;
    else if (RE.after.test(rest)) {
      cursor.at++;
      readImages(cursor, doc);
    } else cursor.fail("expected 'images: []' or 'images:' followed by '  - path: ...' entries");
    if (cursor.peek() !== null) {
      cursor.fail("unexpected text after the images (only comments and blank lines may follow)");
    }
    return doc;
  }

  function quote(text) { return JSON.stringify(text); }

  /* A value as it will be written: outer spaces dropped; refused characters throw. */
  function checkedText(text, what) {
    if (typeof text !== "string") throw new LabelFileError(0, what + " must be text");
    var bad = RE.forbidden.exec(text);
    if (bad) {
      throw new LabelFileError(0, what + " holds character " + describeChar(bad[0]) +
                                  ", which a label file does not allow");
    }
    if (LONE.test(text)) throw new LabelFileError(0, what + " holds a lone surrogate");
    return text.replace(EDGE_ALL, "");
  }

  /* Text without the characters a label file refuses, outer spaces kept: what a form field
   * may hold (typing or pasting a tab, a line break or a direction override drops it). */
  function cleanText(text) {
    return String(text).replace(new RegExp(G.forbidden, "g"), "")
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/g, "$1");
  }

  /* '12.5%': size / total to a tenth of a percent, half up, in integers (labelfile.py). */
  function shareText(size, total) {
    var perMille = Math.floor((2000 * size + total) / (2 * total));
    return Math.floor(perMille / 10) + "." + (perMille % 10) + "%";
  }

  function header(clustering) {
    var stem = clustering.split("/").join("_");
    return G.header.map(function (line) {
      return line.split("{clustering}").join(clustering).split("{stem}").join(stem);
    });
  }

  /* The text of a document, exactly as the workflow's template writes it (labelfile.py,
   * serialize). Throws a LabelFileError for a value no label file may hold. */
  function serialize(doc) {
    if (typeof doc.clustering !== "string" || !RE.clusteringId.test(doc.clustering)) {
      throw new LabelFileError(0, "not a clustering id: " + repr(doc.clustering));
    }
    doc.attributes.forEach(function (a) {
      var problem = nameProblem(a);
      if (problem) throw new LabelFileError(0, "attribute name " + repr(a) + " " + problem);
    });
    var plain = RE.plain.exec(doc.clustering);
    var plainId = plain && plain[0] === doc.clustering &&
      NAME.yamlWords.indexOf(doc.clustering.toLowerCase()) < 0;
    var out = header(doc.clustering);
    out.push("clustering: " + (plainId ? doc.clustering : quote(doc.clustering)), "clusters:");
    var total = 0;
    doc.clusters.forEach(function (c) { total += Number(c.size); });
    doc.clusters.forEach(function (c) {
      var comment = !total ? "" :
        G.clusterComment.split("{share}").join(shareText(Number(c.size), total));
      out.push("  - cluster: " + Number(c.id) + comment, "    size: " + Number(c.size));
      doc.attributes.forEach(function (a) {
        out.push("    " + a + ": " + quote(checkedText(has(c.values, a) ? c.values[a] : "", a)));
      });
      out.push("    note: " + quote(checkedText(c.note || "", "note")),
               "    mixed: " + (c.mixed ? "true" : "false"),
               "    outlier: " + (c.outlier ? "true" : "false"));
    });
    out.push(doc.images.length ? "images:" : "images: []");
    doc.images.forEach(function (image) {
      var path = image.path;
      if (typeof path !== "string" || !path || EDGE.test(path)) {
        throw new LabelFileError(0, "not an image path: " + repr(path));
      }
      out.push("  - path: " + quote(normalisePath(checkedText(path, "path"))));
      IMAGE_FLAGS.forEach(function (f) { if (image[f]) out.push("    " + f + ": true"); });
      doc.attributes.forEach(function (a) {
        var text = checkedText(has(image.values, a) ? image.values[a] : "", a);
        if (text) out.push("    " + a + ": " + quote(text));
      });
      var note = checkedText(image.note || "", "note");
      if (note) out.push("    note: " + quote(note));
    });
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
                  nameProblem: nameProblem, cleanText: cleanText, normalisePath: normalisePath,
                  IMAGE_MARKS: IMAGE_MARKS, newImage: newImage, isEmptyImage: isEmptyImage,
                  setMarks: setMarks};

  /* ---- browser storage: what this browser keeps -----------------------------------
   * State: none here; localStorage holds, per clustering and version of the label file
   * its pages start from (the file the run used: its hash), the text of the label file
   * with the person's unsaved edits on top (DC.labels decides what is trusted: the kept
   * text is parsed by the grammar, fitted to the run, and every change it makes is shown);
   * beside it the undo history of those edits (JSON text, DC.labels' steps); and per
   * project the working clustering. Never keyed by the folder: a moved or copied report,
   * or a colleague's copy, starts from the same file. */
  var PREFIX = "descluster:labels:", HISTORY = "descluster:undo:";

  /* Where this browser keeps a clustering's edits on the file of that hash (or, with
     prefix HISTORY, their undo history): the one place that decides it. */
  function key(clustering, hash, prefix) { return (prefix || PREFIX) + clustering + ":" + hash; }

  /* The kept text, or null; throws when the browser keeps nothing for these pages
     (storage off, e.g. for file:// pages in some settings). */
  function read(clustering, hash) { return window.localStorage.getItem(key(clustering, hash)); }

  /* Keep text; throws when the browser refuses (storage off or full). Edits come before
     undo histories: when the storage is full, every history is dropped to make room. */
  function write(clustering, hash, text) {
    try { window.localStorage.setItem(key(clustering, hash), text); } catch (e) {
      var histories = [];
      for (var i = 0; i < window.localStorage.length; i++) {
        if (window.localStorage.key(i).indexOf(HISTORY) === 0) histories.push(window.localStorage.key(i));
      }
      if (!histories.length) throw e;
      histories.forEach(function (name) { window.localStorage.removeItem(name); });
      window.localStorage.setItem(key(clustering, hash), text);
    }
  }

  /* The undo history kept for a clustering's edits on the file of that hash (text), or
     null; setHistory keeps one (throws when the browser refuses), removeHistory drops it. */
  function history(clustering, hash) {
    return window.localStorage.getItem(key(clustering, hash, HISTORY));
  }

  function setHistory(clustering, hash, text) {
    window.localStorage.setItem(key(clustering, hash, HISTORY), text);
  }

  function removeHistory(clustering, hash) {
    window.localStorage.removeItem(key(clustering, hash, HISTORY));
  }

  /* Keep nothing (the edits are the file's). */
  function remove(clustering, hash) { window.localStorage.removeItem(key(clustering, hash)); }

  /* The texts kept for other clusterings (unreadable storage: none): suggestions only. */
  function others(clustering) {
    var texts = [];
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var name = window.localStorage.key(i);
        if (name.indexOf(PREFIX) === 0 && name.indexOf(PREFIX + clustering + ":") !== 0) {
          texts.push(window.localStorage.getItem(name));
        }
      }
    } catch (e) { /* nothing kept can be read: no texts */ }
    return texts;
  }

  /* The clusterings this browser keeps unsaved edits for (unreadable storage: none). */
  function edited() {
    var names = [];
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        var name = window.localStorage.key(i);
        if (name.indexOf(PREFIX) === 0) names.push(name.slice(PREFIX.length, name.lastIndexOf(":")));
      }
    } catch (e) { /* nothing kept can be read: none */ }
    return names;
  }

  /* Call changed() when another page of this browser changes what is kept for the
     clustering's file (the "storage" event fires in the other tabs, not the writing one). */
  function onChange(clustering, hash, changed) {
    window.addEventListener("storage", function (event) {
      if (event.key === key(clustering, hash)) changed();
    });
  }

  /* The working clustering chosen for a project (its id), or null. */
  function working(project) { return window.localStorage.getItem("descluster:working:" + project); }

  function setWorking(project, clustering) {
    window.localStorage.setItem("descluster:working:" + project, clustering);
  }

  DC.store = {read: read, write: write, remove: remove, others: others, edited: edited,
              onChange: onChange, working: working, setWorking: setWorking, history: history,
              setHistory: setHistory, removeHistory: removeHistory};
})();
