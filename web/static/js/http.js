/* Helpers shared by the chat page (chat.js) and the call-handler console (console.js): a few
 * DOM shortcuts and the JSON fetch that sends the page's CSRF token. A static file loaded
 * before each page's script (the Content-Security-Policy forbids inline script); it defines
 * window.SPOA and nothing else.
 */
window.SPOA = (function () {
  "use strict";

  // The token the layout puts in <meta name="csrf-token">; Flask-WTF reads X-CSRFToken.
  var TOKEN = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function byId(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "class") { node.className = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  // Resolves (never rejects) to {ok, status, data}. texts.offline is the message when the
  // server can't be reached; texts.unreadable (optional) when the answer isn't JSON;
  // headers (optional) are added to the request's.
  function requestJson(method, url, body, texts, headers) {
    var options = {method: method, credentials: "same-origin",
                   headers: Object.assign({"Accept": "application/json", "X-CSRFToken": TOKEN}, headers || {})};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return texts.unreadable ? {message: texts.unreadable} : {}; })
        .then(function (data) { return {ok: response.ok, status: response.status, data: data}; });
    }, function () {
      return {ok: false, status: 0, data: {message: texts.offline}};
    });
  }

  // A random key (Idempotency-Key): crypto.getRandomValues works on plain http too.
  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  return {byId: byId, el: el, clear: clear, requestJson: requestJson, randomKey: randomKey};
})();
