/* The worklist refreshes itself: every 30 seconds it fetches the list's fragment (the same
 * view, filters and page, ?fragment=1) and swaps it in, keeping the scroll position. It
 * waits while the worker is in the middle of something (a return reason being typed, a
 * "Return it" box open, focus inside the list), so their place and their words are kept.
 * A static file: the Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";
  var live = document.getElementById("worklist-live");
  if (!live || !window.fetch) { return; }
  var url = live.getAttribute("data-refresh");
  var EVERY_MS = 30000;

  function busy() {
    if (live.contains(document.activeElement) && document.activeElement !== document.body) { return true; }
    if (live.querySelector("details[open]")) { return true; }
    return Array.prototype.some.call(live.querySelectorAll("textarea"), function (box) { return box.value.trim(); });
  }

  function refresh() {
    if (document.hidden) { return; }
    if (busy()) { live.setAttribute("data-waiting", String(Date.now())); return; }   // try again next time
    fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (response) {
      if (!response.ok) { return null; }
      return response.text();
    }).then(function (html) {
      if (html === null || busy()) { return; }
      var x = window.scrollX, y = window.scrollY;
      live.innerHTML = html;   // our own server's template, escaped by Jinja
      window.scrollTo(x, y);
      live.setAttribute("data-refreshed", String(Date.now()));
    }).catch(function () { /* offline: try again next time */ });
  }

  window.setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
})();
