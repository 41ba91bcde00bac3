/* descluster browser: the page check, inlined into the head of every page by
 * descluster.site._page (inline, so that it still reports when a page has been moved away
 * from its folder files/). It counts the pictures and scripts that fail to load, so that
 * missing files are seen, not hidden: the count goes into <body data-broken-images>, and
 * when it is not 0 the page's #broken line says so. Pictures marked data-fallback (those
 * with a stand-in: the image view, the map's hover tip) do not count.
 * State: broken, the failures so far (the capturing "error" listener counts them; after
 * the page's load event, each one updates the line at once).
 * This comment is for readers of this file: site.py inlines the code after it. */
(function () {
  var broken = 0;
  function show() {
    document.body.setAttribute('data-broken-images', String(broken));
    if (!broken) return;
    var warn = document.getElementById('broken');
    warn.hidden = false;
    warn.textContent = broken + ' picture(s) or file(s) could not be loaded: ' +
      'has results/ been moved?';
  }
  document.addEventListener('error', function (event) {
    var t = event.target;
    if (!t || !t.tagName || t.hasAttribute('data-fallback')) return;
    broken += 1;
    console.error((t.tagName === 'IMG' ? 'missing picture: ' : 'missing file: ') +
                  (t.src || t.href));
    if (document.readyState === 'complete') show();
  }, true);
  window.addEventListener('load', show);
})();
