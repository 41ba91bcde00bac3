/* Runs the pages' label-file parser (browser/labelfile.js) outside a browser, for
 * tests/test_label_grammar.py: node label_grammar.js <labelfile.js> <grammar.json>, with
 * a JSON list of texts on stdin; prints, per text, {doc, text} (the parsed document and
 * its serialization) or {line, error}. */
"use strict";
const fs = require("fs");
const vm = require("vm");

const [code, grammar] = [fs.readFileSync(process.argv[2], "utf8"),
                         JSON.parse(fs.readFileSync(process.argv[3], "utf8"))];
const window = {DC: {grammar: grammar}};
vm.runInNewContext(code, {window: window, Blob: Blob});
const LF = window.DC.labelfile;

const texts = JSON.parse(fs.readFileSync(0, "utf8"));
const results = texts.map(function (text) {
  let doc;
  try { doc = LF.parse(text); } catch (e) {
    if (!(e instanceof LF.LabelFileError)) return {crash: String(e && e.stack || e)};
    return {line: e.line || null, error: e.message};
  }
  let written;
  try { written = LF.serialize(doc); } catch (e) { return {doc: doc, serializeError: e.message}; }
  return {doc: doc, text: written};
});
process.stdout.write(JSON.stringify(results));
