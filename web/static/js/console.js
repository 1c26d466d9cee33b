/* The call-handler console: drives /console/api with the keyboard or the mouse.
 *
 * The server holds the call (every answer is saved as it is given); this script only shows
 * the state it gets back, so a reload or a second tab resumes the same call. Only the
 * reference of the call on screen is kept in the browser (localStorage), never its facts.
 * The Content-Security-Policy forbids inline script, so all behaviour lives here.
 */
(function () {
  "use strict";

  var root = document.getElementById("console");
  if (!root) { return; }
  var API = root.getAttribute("data-api");                 // /console/api/contacts
  var CAN_TAKE_CALLS = root.getAttribute("data-can-take-calls") === "true";
  var STORE_KEY = "spoa.console.current";

  var state = null;          // the call's state from the server
  var question = null;       // the question on screen (the next one, or one being changed)
  var changing = false;      // true while an earlier answer is being changed
  var ticked = [];           // ticked items of a checklist/multi question
  var proposals = [];        // facts found in the notes, waiting for the handler
  var seq = 0;               // renders of the decision (the benchmark watches data-seq)
  var timeLeftAt = null;     // [seconds, Date.now()] for the countdown
  var busy = false;
  var allQuestions = [];     // every question, to ask one out of turn (#)
  var startKey = null;       // the Idempotency-Key of the call being started

  // The shared helpers (web/static/js/http.js, loaded first).
  var $ = SPOA.byId, el = SPOA.el, clear = SPOA.clear;

  function api(method, path, body, headers) {
    return SPOA.requestJson(method, path, body,
                            {offline: "No connection to the server; nothing was saved. Try again.",
                             unreadable: "The server gave an unreadable answer."}, headers);
  }

  function callPath(suffix) { return API + "/" + encodeURIComponent(state.contact.id) + (suffix || ""); }

  function errorText(result) {
    var data = result.data || {};
    var text = data.message || ("Error " + result.status);
    if (data.field) { text += " (" + data.field + ")"; }
    return text;
  }

  // -- open calls -------------------------------------------------------------------------

  function loadCalls() {
    return api("GET", API).then(function (result) {
      var list = $("calls-list");
      clear(list);
      var calls = result.ok ? result.data.contacts : [];
      calls.forEach(function (call) {
        var item = el("li", {"class": "console-calls__item"});
        var route = call.decided === false ? "not decided yet" : call.route_label;
        var label = call.id + (call.about ? " - " + call.about : "") + (route ? " (" + route + ")" : "");
        var button = el("button", {"type": "button", "class": "console-calls__button", "data-contact": call.id}, label);
        if (state && state.contact.id === call.id) { button.setAttribute("aria-current", "true"); }
        button.addEventListener("click", function () { openCall(call.id, true); });
        item.appendChild(button);
        list.appendChild(item);
      });
      $("calls-empty").hidden = calls.length > 0;
      return calls;
    });
  }

  function openCall(id, focus) {
    return api("GET", API + "/" + encodeURIComponent(id)).then(function (result) {
      if (!result.ok) {
        if (result.status === 404 || result.status === 403) { localStorage.removeItem(STORE_KEY); }
        showStart();
        return;
      }
      changing = false;
      proposals = [];
      show(result.data, focus);
      loadCalls();
    });
  }

  function showStart() {
    state = null;
    $("call-panel").hidden = true;
    $("decision-panel").hidden = true;
    $("emergency-panel").hidden = true;
    if ($("new-call-top")) { $("new-call-top").hidden = true; }
    if ($("start-panel")) {
      $("start-panel").hidden = false;
      $("start-form").reset();
      $("channel").focus();
    }
  }

  // -- showing a call ---------------------------------------------------------------------

  function show(data, focus) {
    var previous = state;
    state = data;
    localStorage.setItem(STORE_KEY, data.contact.id);
    if ($("start-panel")) { $("start-panel").hidden = true; }
    if ($("new-call-top")) { $("new-call-top").hidden = false; }
    $("call-panel").hidden = false;
    $("emergency-panel").hidden = data.contact.status !== "open";
    $("call-reference").textContent = data.contact.id;
    var who = [];
    if (data.contact.caller_name) { who.push("Caller: " + data.contact.caller_name); }
    if (data.contact.about) { who.push("About: " + data.contact.about); }
    who.push(data.contact.channel === "professional_referral" ? "Professional referral" : "Phone call");
    $("call-who").textContent = who.join(" · ");
    showEmergency(data);
    if (!changing) {
      var next = data.question;
      if (!previous || !question || !next || previous.contact.id !== data.contact.id || next.id !== question.id ||
          next.ask.join() !== question.ask.join()) {
        ticked = heardItems(next);
      }
      question = next;
    }
    showQuestion();
    showAnswers(data);
    showDecision(data);
    showNotes(data, previous);
    showClose(data);
    if (focus) { focusQuestion(); }
  }

  function showEmergency(data) {
    var facts = data.facts || {};
    var closed = data.contact.status !== "open";
    document.querySelectorAll('input[name="red_flag"]').forEach(function (box) {
      box.checked = facts[box.value] === true;
      box.disabled = closed || !CAN_TAKE_CALLS;
    });
    var emergency = data.view.emergency;
    show999(emergency.active, emergency.flag_words, emergency.script);
  }

  function show999(active, words, script) {
    var panel = $("call-999");
    panel.hidden = !active;
    if (!active) { return; }
    $("call-999-flags").textContent = words && words.length ? "Because: " + words.join(", ") + "." : "";
    var list = $("call-999-script");
    clear(list);
    (script && script.length ? script : [
      "Tell the caller: call 999 now, or transfer the call to 999. Do not hang up.",
      "Stay on the line until help is with the person."
    ]).forEach(function (line) { list.appendChild(el("li", {}, line)); });
  }

  // Items already heard (a list the caller mentioned in passing, protocol 1.1 partial lists)
  // start ticked, for the caller to confirm or add to (spoa.dialogue.core).
  function heardItems(q) {
    if (!q || !q.heard) { return []; }
    if (q.kind === "multi") { return (q.heard[q.ask[0]] || []).slice(); }
    return Object.keys(q.heard).filter(function (fact) { return q.heard[fact] === true; });
  }

  function showQuestion() {
    var open = state && state.contact.status === "open" && CAN_TAKE_CALLS;
    var options = $("question-options");
    var form = $("question-form");
    clear(options);
    $("question-error").textContent = "";
    $("question-panel").hidden = !open;
    if (!open) { return; }
    $("question-done").hidden = !!question;
    form.hidden = true;
    if (!question) {
      $("question-text").textContent = "All questions asked";
      $("question-why").textContent = "";
      return;
    }
    $("question-text").textContent = (changing ? "Change: " : "") + question.text;
    $("question-why").textContent = question.why || "";
    if (question.kind === "number" || question.kind === "text") {
      form.hidden = false;
      var input = $("question-input");
      var key = question.id + ":" + question.ask.join();
      if (input.getAttribute("data-question") !== key) { input.value = ""; }   // keep what is being typed
      input.setAttribute("data-question", key);
      input.setAttribute("inputmode", question.kind === "number" ? "numeric" : "text");
      $("question-input-label").textContent = question.kind === "number"
        ? "Answer" + (question.unit ? " (" + question.unit + ")" : "") + ", then Enter; U for unknown"
        : "Answer, then Enter; U for unknown";
      return;
    }
    var multiple = question.kind === "checklist" || question.kind === "multi";
    question.options.forEach(function (option) {
      var pressed = ticked.indexOf(option.value) >= 0;
      var button = el("button", {"type": "button", "class": "console-option" + (pressed ? " console-option--ticked" : ""),
                                 "data-value": String(option.value), "data-key": option.key});
      if (multiple && option.value !== "none" && option.value !== "unknown") {
        button.setAttribute("aria-pressed", pressed ? "true" : "false");
      }
      button.appendChild(el("kbd", {"class": "console-option__key"}, option.key));
      button.appendChild(document.createTextNode(" " + option.label));
      button.addEventListener("click", function () { choose(option); });
      options.appendChild(button);
    });
    if (multiple) {
      var save = el("button", {"type": "button", "class": "nhsuk-button console-option__save", "id": "question-save"},
                    "Save ticked items (Enter)");
      save.addEventListener("click", saveTicked);
      options.appendChild(save);
    }
  }

  function focusQuestion() {
    if (question && (question.kind === "number" || question.kind === "text") && !$("question-form").hidden) {
      $("question-input").focus();
    } else if (state && state.contact.status !== "open") {
      $("readback").focus();
    } else {
      $("question-panel").focus();
    }
  }

  function showAnswers(data) {
    var list = $("answers-list");
    clear(list);
    data.answers.forEach(function (answer) {
      var item = el("li", {"class": "console-answers__item", "data-question": answer.question});
      item.appendChild(el("span", {"class": "console-answers__question"}, answer.text + " "));
      item.appendChild(el("strong", {"class": "console-answers__answer"}, answer.answer));
      if (data.contact.status === "open" && CAN_TAKE_CALLS && answer.ask) {
        var change = el("button", {"type": "button", "class": "console-answers__change"}, "Change");
        change.setAttribute("aria-label", "Change the answer to: " + answer.text);
        change.addEventListener("click", function () { startChange(answer); });
        item.appendChild(change);
      }
      list.appendChild(item);
    });
  }

  function jumpMatch() {
    var words = $("jump").value.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) { return null; }
    function matches(text) { return words.every(function (word) { return text.toLowerCase().indexOf(word) >= 0; }); }
    function unanswered(q) { return !state || q.ask.some(function (fact) { return !(fact in state.facts); }); }
    // Best first: the question's own words, a question not yet answered; then option labels.
    var byText = allQuestions.filter(function (q) { return matches(q.text); });
    var byOption = allQuestions.filter(function (q) {
      return matches(q.options.map(function (o) { return o.label; }).join(" "));
    });
    return byText.filter(unanswered)[0] || byText[0] || byOption.filter(unanswered)[0] || byOption[0] || null;
  }

  function showJumpMatch() {
    var match = jumpMatch();
    $("jump-match").textContent = match ? "Enter asks: " + match.text : ($("jump").value ? "No question matches." : "");
  }

  function jump() {
    var match = jumpMatch();
    if (!match || !state) { return; }
    var facts = {};
    match.ask.forEach(function (fact) { if (fact in state.facts) { facts[fact] = state.facts[fact]; } });
    $("jump").value = "";
    $("jump-match").textContent = "";
    startChange({ask: match, facts: facts});
  }

  function startChange(answer) {
    changing = true;
    question = answer.ask;
    ticked = Object.keys(answer.facts).filter(function (fact) { return answer.facts[fact] === true; });
    if (question.kind === "multi") {
      var values = answer.facts[question.ask[0]];
      ticked = Array.isArray(values) ? values.slice() : [];
    }
    showQuestion();
    focusQuestion();
  }

  function formatLeft(seconds) {
    if (seconds === null || seconds === undefined) { return "No deadline"; }
    if (seconds <= 0) { return seconds === 0 ? "Now" : "Overdue"; }
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60);
    var days = Math.floor(hours / 24);
    if (days >= 1) { return days + "d " + (hours % 24) + "h " + minutes + "m"; }
    return hours + "h " + minutes + "m";
  }

  function tick() {
    if (!timeLeftAt) {
      $("decision-time-left").textContent = state && state.view.response_target === "PT0M" ? "Now" : "No deadline";
      return;
    }
    var left = timeLeftAt[0] - Math.floor((Date.now() - timeLeftAt[1]) / 1000);
    $("decision-time-left").textContent = timeLeftAt[0] === 0 ? "Now" : formatLeft(left);
  }

  function showDecision(data) {
    var view = data.view;
    var panel = $("decision-panel");
    panel.hidden = false;
    var route = data.contact.overridden ? data.contact.route : view.route;
    // Until the emergency screen is answered nothing is decided (FAILSAFE-2): a route shown
    // then ("Self-care" before a single question) would be read as a decision.
    var undecided = view.status !== "complete" && route !== "emergency" && !data.contact.overridden;
    panel.classList.toggle("console-decision--undecided", undecided);
    panel.setAttribute("data-decided", undecided ? "false" : "true");
    $("decision-route").textContent = undecided ? "Not decided yet: ask the emergency screen first"
      : data.contact.overridden
        ? route.replace(/_/g, " ") + " (overridden; the engine said " + view.route_label + ")" : view.route_label;
    $("decision-route").setAttribute("data-route", route);
    $("decision-pathway").textContent = undecided ? "-" : view.pathway_label || "-";
    $("decision-target").textContent = undecided ? "-"
      : view.target_words + (view.due_words ? ", by " + view.due_words : "");
    timeLeftAt = view.time_left_seconds === null ? null : [view.time_left_seconds, Date.now()];
    tick();
    var sg = view.safeguarding;
    $("decision-safeguarding").textContent = sg.level_label +
      (sg.about && sg.about.length ? " (about the " + sg.about.join(" and ") + ")" : "") +
      (sg.categories && sg.categories.length ? ": " + sg.categories.join(", ").replace(/_/g, " ") : "");
    $("decision-also").textContent = view.also.length ? view.also.map(function (a) { return a.label; }).join(", ") : "None";
    $("decision-services").textContent = view.services.length
      ? view.services.map(function (s) { return s.name + (s.organisation ? " (" + (s.organisation.name || s.organisation) + ")" : ""); }).join("; ")
      : "None matched";
    $("decision-status").textContent = view.status === "complete" ? "Emergency screen answered" : "Incomplete: emergency screen not answered";
    $("decision-review").textContent = view.review_required ? "Needs review: " + view.review_reasons.join("; ") : "";
    var why = $("decision-why");
    clear(why);
    view.why.forEach(function (rule) {
      var item = el("li", {"class": "console-why__rule" + (rule.decided ? " console-why__rule--decided" : "")});
      item.appendChild(el("strong", {}, rule.rule + " "));
      item.appendChild(document.createTextNode(rule.title + (rule.decided ? "" : " (" + rule.role + ")")));
      if (rule.because.length) { item.appendChild(el("span", {"class": "console-why__because"}, " Because: " + rule.because.join("; ") + ".")); }
      if (rule.unknown.length) { item.appendChild(el("span", {"class": "console-why__unknown"}, " Not yet known: " + rule.unknown.join("; ") + ".")); }
      item.appendChild(el("span", {"class": "console-why__source"}, " Source: " + rule.source));
      why.appendChild(item);
    });
    var missing = $("decision-missing");
    clear(missing);
    view.missing.slice(0, 8).forEach(function (m) { missing.appendChild(el("li", {}, m.text)); });
    if (view.missing.length > 8) { missing.appendChild(el("li", {}, "and " + (view.missing.length - 8) + " more")); }
    if (!view.missing.length) { missing.appendChild(el("li", {}, "Nothing")); }
    seq += 1;
    panel.setAttribute("data-seq", String(seq));
    panel.setAttribute("data-route", route);
  }

  function showNotes(data, previous) {
    var notes = $("notes");
    if (!previous || previous.contact.id !== data.contact.id || document.activeElement !== notes) {
      if (!previous || previous.contact.id !== data.contact.id) { notes.value = data.notes || ""; $("notes-status").textContent = ""; }
    }
    notes.disabled = data.contact.status !== "open" || !CAN_TAKE_CALLS;
    $("jump").disabled = notes.disabled;
    $("notes-save").disabled = notes.disabled;
    showProposals();
  }

  function showProposals() {
    var list = $("proposals");
    clear(list);
    proposals.forEach(function (proposal, index) {
      var item = el("li", {"class": "console-proposals__item"});
      item.appendChild(el("span", {}, "Found: " + proposal.words +
        (proposal.evidence ? " (\u201c" + proposal.evidence + "\u201d)" : "") +
        (proposal.current ? " - now recorded as " + proposal.current : "") + " "));
      var yes = el("button", {"type": "button", "class": "console-proposals__confirm"}, index === 0 ? "Confirm (+)" : "Confirm");
      yes.addEventListener("click", function () { confirmProposal(index); });
      var no = el("button", {"type": "button", "class": "console-proposals__dismiss"}, index === 0 ? "Dismiss (-)" : "Dismiss");
      no.addEventListener("click", function () { proposals.splice(index, 1); showProposals(); });
      item.appendChild(yes);
      item.appendChild(no);
      list.appendChild(item);
    });
  }

  function showClose(data) {
    var open = data.contact.status === "open";
    $("close-panel").hidden = !open || !CAN_TAKE_CALLS;
    $("close-blockers").textContent = data.close_blockers.join(" ");
    $("confirm-button").textContent = "Confirm " + data.view.route_label + " and close";
    $("readback").hidden = open;
    if (!open) {
      var rb = data.readback;
      $("reference").textContent = rb.reference;
      var lines = $("readback-lines");
      clear(lines);
      rb.lines.forEach(function (line) { if (line) { lines.appendChild(el("li", {}, line)); } });
      var safety = $("readback-safety");
      clear(safety);
      rb.safety_netting.forEach(function (line) { safety.appendChild(el("li", {}, line)); });
      var item = data.worklist_item;
      // Plain words only: the caller hears this, so no route codes or item numbers.
      $("readback-worklist").textContent = item
        ? "Referral passed to the duty team: " + rb.route_label + (rb.pathway_label ? " (" + rb.pathway_label + ")" : "") + "."
        : "No referral: nothing goes to the duty team.";
    }
  }

  // -- acting -----------------------------------------------------------------------------

  function post(suffix, body, onError) {
    if (busy || !state) { return Promise.resolve(null); }
    busy = true;
    return api("POST", callPath(suffix), body).then(function (result) {
      busy = false;
      if (!result.ok) { onError(errorText(result)); return null; }
      show(result.data, false);
      loadCalls();
      return result.data;
    });
  }

  function sendAnswer(value) {
    var asked = question;
    var wasChanging = changing;
    return post("/answer", {question: asked.id, answer: value, ask: asked.ask, change: wasChanging}, function (message) {
      $("question-error").textContent = message;
    }).then(function (data) {
      if (data) {
        $("question-input").value = "";
        if (wasChanging) { changing = false; question = data.question; ticked = []; showQuestion(); }
        focusQuestion();
      }
    });
  }

  function choose(option) {
    if (!question) { return; }
    var multiple = question.kind === "checklist" || question.kind === "multi";
    if (question.id === "emergency_screen" && option.value !== "none" && option.value !== "unknown" && !changing) {
      // A red flag in the guided screen counts at once, as on the pinned screen.
      recordFlag(option.value, option.label, true);
      return;
    }
    if (multiple && ticked.length && (option.value === "none" || option.value === "unknown")) {
      // Never let a slip of the finger throw away a ticked item (it may be a red flag).
      $("question-error").textContent = "You have ticked " + ticked.length + " item(s): press Enter to save them, " +
        "or untick them first.";
      return;
    }
    if (!multiple || option.value === "none" || option.value === "unknown") {
      sendAnswer(option.value);
      return;
    }
    var at = ticked.indexOf(option.value);
    if (at >= 0) { ticked.splice(at, 1); } else { ticked.push(option.value); }
    showQuestion();
    $("question-panel").focus();
  }

  function saveTicked() {
    if (!question) { return; }
    if (!ticked.length) {
      $("question-error").textContent = "Tick at least one item, or press N for none of these or U for unknown.";
      return;
    }
    sendAnswer(ticked.slice());
  }

  function flagChanged(event) {
    var box = event.target;
    if (!box.checked && !window.confirm("Untick \u201c" + box.parentNode.textContent.trim() +
                                        "\u201d? Only if it was ticked by mistake: the change is recorded.")) {
      box.checked = true;
      return;
    }
    recordFlag(box.value, box.parentNode.textContent.trim(), box.checked);
  }

  function recordFlag(fact, label, on) {
    var facts = {};
    facts[fact] = on;
    if (on) {
      // At once, before the server answers: the 999 instruction must not wait for the network.
      show999(true, [label], null);
      var box = $("flag-" + fact);
      if (box) { box.checked = true; }
    }
    post("/facts", {facts: facts}, function (message) {
      $("question-error").textContent = "The red flag was not saved: " + message;
    });
  }

  function saveNotes() {
    if (!state) { return; }
    window.clearTimeout(notesTimer);
    $("notes-status").textContent = "Saving...";
    return api("POST", callPath("/notes"), {notes: $("notes").value}).then(function (result) {
      if (!result.ok) { $("notes-status").textContent = "Notes not saved: " + errorText(result); return; }
      proposals = splitProposals(result.data.proposals || [], result.data.facts || {});
      show(result.data, false);
      $("notes-status").textContent = "Notes saved. " + (result.data.extraction === "ok"
        ? (proposals.length ? proposals.length + " fact(s) found: confirm each with + or dismiss with -." : "No new facts found.")
        : "Fact finding is not available; the notes are stored.");
    });
  }

  var notesTimer = null;
  function autosaveNotes() {
    // Typed notes are kept as they are typed (a second or so after the last key), unread.
    window.clearTimeout(notesTimer);
    var contactId = state && state.contact.id;
    notesTimer = window.setTimeout(function () {
      if (!state || state.contact.id !== contactId || state.contact.status !== "open") { return; }
      api("POST", callPath("/notes"), {notes: $("notes").value, propose: false}).then(function (result) {
        $("notes-status").textContent = result.ok ? "Notes saved." : "Notes not saved: " + errorText(result);
      });
    }, 1200);
  }

  function itemWords(proposal, item) {
    // "Type of abuse? Financial": the question the handler knows, and the item's label.
    var q = allQuestions.filter(function (candidate) { return candidate.ask.indexOf(proposal.fact) >= 0; })[0];
    var option = q && q.options.filter(function (o) { return o.value === item; })[0];
    return (q ? q.text : proposal.fact.replace(/_/g, " ")) + " " + (option ? option.label : String(item).replace(/_/g, " "));
  }

  function splitProposals(found, known) {
    // One proposal per fact, and one per item of a list ("financial, physical, neglect" are
    // three abuse types): each is confirmed or dismissed on its own.
    var split = [];
    found.forEach(function (proposal) {
      if (!Array.isArray(proposal.value) || proposal.value.length < 2) { split.push(proposal); return; }
      var already = Array.isArray(known[proposal.fact]) ? known[proposal.fact] : [];
      proposal.value.forEach(function (item) {
        if (already.indexOf(item) >= 0) { return; }
        split.push({fact: proposal.fact, item: item, value: [item], evidence: proposal.evidence,
                    words: itemWords(proposal, item)});
      });
    });
    return split;
  }

  function confirmProposal(index) {
    var proposal = proposals[index];
    if (!proposal) { return; }
    var facts = {};
    facts[proposal.fact] = proposal.value;
    if (proposal.item !== undefined) {
      // One item of a list: added to what is known, never replacing the items already there.
      var known = state && Array.isArray(state.facts[proposal.fact]) ? state.facts[proposal.fact].slice() : [];
      if (known.indexOf(proposal.item) < 0) { known.push(proposal.item); }
      facts[proposal.fact] = known;
    }
    proposals.splice(index, 1);
    post("/facts", {facts: facts, from_notes: true}, function (message) {
      $("notes-status").textContent = "Not saved: " + message;
    });
  }

  function close(action) {
    var body = {action: action};
    if (action === "override") {
      body.route = $("override-route").value;
      body.reason = $("override-reason").value;
    }
    $("close-error").textContent = "";
    return post("/close", body, function (message) { $("close-error").textContent = message; }).then(function (data) {
      if (data) { localStorage.removeItem(STORE_KEY); $("readback").focus(); }
    });
  }

  function startCall(event) {
    event.preventDefault();
    var body = {channel: $("channel").value, caller: $("caller").value || null,
                caller_name: $("caller-name").value, about: $("about").value};
    // One key per call started: a double press, or a retry after a dropped connection, gives
    // back the same call instead of a second one (the server keeps the key).
    startKey = startKey || SPOA.randomKey();
    api("POST", API, body, {"Idempotency-Key": startKey}).then(function (result) {
      if (!result.ok) {
        if (result.status && result.status < 500) { startKey = null; }   // refused: the next try is a new request
        alertStart(errorText(result));
        return;
      }
      startKey = null;
      changing = false;
      proposals = [];
      question = null;
      show(result.data, true);
      loadCalls();
    });
  }

  function alertStart(message) {
    var note = $("start-error");
    if (!note) {
      note = el("p", {"class": "console-error", "id": "start-error", "role": "alert"});
      $("start-form").appendChild(note);
    }
    note.textContent = message;
  }

  // -- keys -------------------------------------------------------------------------------

  function onKey(event) {
    var target = event.target;
    var tag = target && target.tagName;
    if (event.key === "Escape") {
      if (changing) { changing = false; question = state && state.question; ticked = []; showQuestion(); }
      if (state) { focusQuestion(); }
      return;
    }
    if (target === $("jump") && event.key === "Enter") {
      event.preventDefault();
      jump();
      return;
    }
    if (target === $("notes") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      saveNotes();
      return;
    }
    var typing = tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && target.type !== "checkbox" && target.type !== "radio");
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (tag === "INPUT" && (event.key === " " || event.key === "Enter")) { return; }   // ticking a red flag
    if (!state) { return; }
    if (state.contact.status !== "open") {
      if (event.key === "Enter" && target === $("readback")) { event.preventDefault(); newCall(); }
      return;
    }
    if (!CAN_TAKE_CALLS) { return; }
    var key = event.key;
    if (key === "!") { event.preventDefault(); document.querySelector('input[name="red_flag"]').focus(); return; }
    if (key === "/") { event.preventDefault(); $("notes").focus(); return; }
    if (key === "#") { event.preventDefault(); $("jump").focus(); return; }
    if (key === "<" || key === ">") { event.preventDefault(); switchCall(key === ">" ? 1 : -1); return; }
    if (key === "+") { event.preventDefault(); confirmProposal(0); return; }
    if (key === "-") { event.preventDefault(); proposals.shift(); showProposals(); return; }
    if (key === ".") { event.preventDefault(); $("confirm-button").focus(); return; }
    if (key === "[") {
      event.preventDefault();
      var last = state.answers[state.answers.length - 1];
      if (last && last.ask) { startChange(last); }
      return;
    }
    if (!question || tag === "BUTTON" && (key === "Enter" || key === " ")) { return; }
    if (key === "Enter" && (question.kind === "checklist" || question.kind === "multi")) {
      event.preventDefault();
      saveTicked();
      return;
    }
    var wanted = key.length === 1 ? key.toUpperCase() : null;
    var option = question.options.filter(function (o) { return o.key === wanted; })[0];
    if (option) { event.preventDefault(); choose(option); }
  }

  function switchCall(step) {
    var ids = Array.prototype.map.call(document.querySelectorAll(".console-calls__button"),
                                       function (b) { return b.getAttribute("data-contact"); });
    if (ids.length < 2) { return; }
    var at = ids.indexOf(state.contact.id);
    openCall(ids[(at + step + ids.length) % ids.length], true);
  }

  function newCall() {
    localStorage.removeItem(STORE_KEY);
    question = null;
    changing = false;
    showStart();
    loadCalls();
  }

  // -- start ------------------------------------------------------------------------------

  document.addEventListener("keydown", onKey);
  if ($("start-form")) { $("start-form").addEventListener("submit", startCall); }
  $("question-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var value = $("question-input").value.trim();
    if (!value) { $("question-error").textContent = "Type the answer, or U for unknown."; return; }
    sendAnswer(question.kind === "number" && /^-?\d+$/.test(value) ? parseInt(value, 10) : value);
  });
  $("question-unknown").addEventListener("click", function () { sendAnswer("unknown"); });
  $("notes-save").addEventListener("click", saveNotes);
  $("notes").addEventListener("input", autosaveNotes);
  $("jump").addEventListener("input", showJumpMatch);
  api("GET", API.replace(/contacts$/, "questions")).then(function (result) {
    if (result.ok) { allQuestions = result.data.questions; }
  });
  $("confirm-button").addEventListener("click", function () { close("confirm"); });
  $("override-button").addEventListener("click", function () { close("override"); });
  $("new-call").addEventListener("click", newCall);
  if ($("new-call-top")) { $("new-call-top").addEventListener("click", newCall); }
  document.querySelectorAll('input[name="red_flag"]').forEach(function (box) { box.addEventListener("change", flagChanged); });
  window.setInterval(tick, 1000);
  // Another tab may have answered: show the server's state when this tab comes back.
  window.addEventListener("focus", function () {
    var typing = $("question-input").value || document.activeElement === $("notes");
    if (state && !busy && !changing && !typing) { openCall(state.contact.id, false); }
  });

  var wanted = new URLSearchParams(window.location.search).get("contact") || localStorage.getItem(STORE_KEY);
  loadCalls().then(function (calls) {
    var open = calls.map(function (c) { return c.id; });
    if (wanted && (open.indexOf(wanted) >= 0 || !CAN_TAKE_CALLS)) {
      openCall(wanted, true);
    } else if (open.length && CAN_TAKE_CALLS && !wanted) {
      showStart();
    } else {
      showStart();
    }
  });
})();
