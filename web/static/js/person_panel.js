/* The console's panel for the person's details (templates/console/_person.html), and the
 * "call ended before triage finished" button. It follows the call console.js shows (the id
 * console.js keeps in localStorage, re-read whenever the decision panel re-renders), loads the
 * details kept for it, saves them (every bad field is named), and closes a dropped call so a
 * call-back goes on the worklist. Uses window.SPOA (http.js) for the CSRF JSON fetch.
 */
(function () {
  "use strict";
  var panel = document.getElementById("person-panel");
  if (!panel || !window.SPOA) { return; }
  var $ = SPOA.byId;
  var STORE_KEY = "spoa.console.current";
  var TEXTS = {offline: "The service can't be reached; nothing was saved. Try again."};
  var shown = null;

  function current() { return localStorage.getItem(STORE_KEY); }

  function inputs() { return Array.prototype.slice.call(panel.querySelectorAll("#person-form input")); }

  function clearErrors() {
    inputs().forEach(function (input) {
      var error = $(input.id + "-error");
      error.hidden = true; error.textContent = "";
      input.classList.remove("nhsuk-input--error");
    });
  }

  function load() {
    var id = current();
    panel.hidden = !id;
    if (!id || id === shown) { return; }
    shown = id;
    inputs().forEach(function (input) { input.value = ""; });
    clearErrors();
    $("person-status").textContent = "";
    SPOA.requestJson("GET", panel.getAttribute("data-api") + encodeURIComponent(id) + "/person", undefined, TEXTS)
      .then(function (result) {
        if (!result.ok || shown !== id) { return; }
        var details = result.data.details || {};
        inputs().forEach(function (input) { input.value = details[input.name] || ""; });
        say(result.data.missing_for_referral);
      });
  }

  function say(missing, prefix) {
    $("person-status").textContent = (prefix || "") + (missing && missing.length ?
      "Still needed to reach them: " + missing.join(", ").replace(/_/g, " ") + "." : "Enough to reach them.");
  }

  function save(event) {
    event.preventDefault();
    var id = current();
    if (!id) { return; }
    var body = {};
    inputs().forEach(function (input) { body[input.name] = input.value; });
    clearErrors();
    SPOA.requestJson("POST", panel.getAttribute("data-api") + encodeURIComponent(id) + "/person", body, TEXTS)
      .then(function (result) {
        if (result.ok) { say(result.data.missing_for_referral, "Saved. "); return; }
        (result.data.errors || []).forEach(function (error) {
          var input = $("person-" + error.field);
          if (!input) { return; }
          input.classList.add("nhsuk-input--error");
          $(input.id + "-error").textContent = error.message;
          $(input.id + "-error").hidden = false;
        });
        $("person-status").textContent = "Not saved: " + (result.data.message || "try again.");
      });
  }

  function ended() {
    var id = current();
    if (!id) { return; }
    SPOA.requestJson("POST", "/api/calls/" + encodeURIComponent(id) + "/dropped", {}, TEXTS).then(function (result) {
      if (!result.ok) { $("call-ended-error").textContent = result.data.message || "Not closed; try again."; return; }
      localStorage.removeItem(STORE_KEY);
      window.location.assign(window.location.pathname + "?ended=" + encodeURIComponent(id));
    });
  }

  if ($("person-form")) { $("person-form").addEventListener("submit", save); }
  if ($("call-ended")) { $("call-ended").addEventListener("click", ended); }
  var decision = $("decision-panel");
  if (decision && window.MutationObserver) {
    new MutationObserver(load).observe(decision, {attributes: true, attributeFilter: ["data-seq"]});
  }
  load();
})();
