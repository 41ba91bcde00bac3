/* Runs the pages' label state (browser/labelfile.js and labelstate.js) outside a browser,
 * for tests/test_undo.py: node label_state.js <browser dir> <grammar.json>, with a JSON
 * {template, base, steps} on stdin. Two "pages" open the same clustering (osnet/pca12/k6)
 * over one shared storage (localStorage in memory; "reload" opens a page anew); each step
 * [page, action, ...args] is one of: mark paths name on, value cluster attribute text,
 * undo, reload, keep text (kept edits written by anything else), fill n (n characters of
 * junk in the storage, to fill it); "quota" (optional) is the characters the storage holds.
 * Prints, per step,
 * {result, text (page 0's document), kept (the stored edits or null), undoable}.
 * With "working": {data, names, chosen (optional)} instead, prints the working clustering
 * the map and outliers pages would mark in: {name, note}. */
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const [dir, grammarFile] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const store = new Map();
const QUOTA = input.quota || Infinity;  // characters the storage holds, as a browser's quota
const localStorage = {
  get length() { return store.size; },
  key(i) { return [...store.keys()][i] ?? null; },
  getItem(k) { return store.has(k) ? store.get(k) : null; },
  setItem(k, v) {
    let used = 0;
    store.forEach((value, name) => { if (name !== k) used += name.length + value.length; });
    if (used + k.length + String(v).length > QUOTA) throw new Error("QuotaExceededError");
    store.set(k, String(v));
  },
  removeItem(k) { store.delete(k); },
};
const window = {DC: {grammar: JSON.parse(fs.readFileSync(grammarFile, "utf8")),
                     keys: {table: () => ({})}},
                localStorage: localStorage, addEventListener: () => {}};
const context = vm.createContext({window: window, Blob: Blob, document: {}});
for (const file of ["labelfile.js", "labelstate.js"]) {
  vm.runInContext(fs.readFileSync(path.join(dir, file), "utf8"), context, {filename: file});
}
const DC = window.DC;
if (input.working) {  // {data, names, chosen}: the working clustering of a map or outliers page
  const {data, names, chosen} = input.working;
  if (chosen) DC.store.setWorking(data.project, chosen);
  process.stdout.write(JSON.stringify({name: DC.labels.working(data, names),
                                       note: DC.labels.workingNote(data, names)}));
  process.exit(0);
}
const target = {name: "osnet/pca12/k6", template: input.template,
                base: {text: input.base || input.template, hash: "h1", source: "base.yaml",
                       listed: true}};
const open = () => DC.labels.open(target, {values: {}});
const pages = [open(), open()];
const out = input.steps.map(([at, action, ...args]) => {
  const state = pages[at];
  let result = null;
  if (action === "mark") result = state.mark(args[0], args[1], args[2], "mark " + args[0].length);
  else if (action === "value") {
    result = state.change("value", (doc) => { doc.clusters[args[0]].values[args[1]] = args[2]; },
                          args[3]);
  } else if (action === "undo") result = state.undo();
  else if (action === "reload") pages[at] = open();
  else if (action === "keep") DC.store.write(target.name, "h1", args[0]);
  else if (action === "fill") localStorage.setItem("junk:" + store.size, "x".repeat(args[0]));
  else throw new Error("unknown action " + action);
  pages.forEach((p) => p.sync());
  return {result: result, text: pages[0].text(), kept: DC.store.read(target.name, "h1"),
          undoable: pages[0].undoable()};
});
process.stdout.write(JSON.stringify(out));
