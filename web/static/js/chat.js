/* The resident chat page (/chat): sends messages to the app and shows what comes back.
 *
 * The app relays each message to the chat assistant (Rasa). If the assistant is unavailable
 * the app answers {"fallback": true, ...} and this page switches to a guided form, one
 * question at a time, carrying on with the same contact. Either way an outcome ends on the
 * same panel; a 999 outcome shows the "Call 999 now" panel at once and moves focus to it.
 *
 * A reload, or a tap on the logo, carries on the same conversation: the page keeps what is on
 * screen in sessionStorage (this tab only, gone when the tab is closed) and its address names
 * the conversation (?c=...), which the server keeps only for the browser session that began it.
 * "Start a new conversation" asks first while a conversation is under way.
 * The Content-Security-Policy forbids inline script, so all behaviour lives here.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root) { return; }
  document.body.classList.add("js-enabled", "nhsuk-frontend-supported");

  var MESSAGE_URL = root.getAttribute("data-message-url");
  var FORM_URL = root.getAttribute("data-form-url");
  var CONVERSATION = root.getAttribute("data-conversation");
  var STORE_KEY = "spoa.chat";
  var EXCLUSIVE = ["none", "unknown"];   // "None of these" and "I don't know" stand alone

  var mode = "chat";        // "chat" (through the assistant) or "form" (the guided form)
  var contactId = null;
  var question = null;      // the guided form's question on screen
  var busy = false;
  var seq = 0;              // renders of an answer (tests and tools watch data-seq)
  var emergencyFrom = null;  // the question whose answer gave the 999 panel
  var lastAsked = null;      // the last question put to the person (its id)
  var saved = {conversation: CONVERSATION, messages: [], buttons: [], question: null, outcome: null,
               mode: "chat", contactId: null};   // what is on screen, for a reload

  // The shared helpers (web/static/js/http.js, loaded first).
  var $ = SPOA.byId, el = SPOA.el, clear = SPOA.clear;

  function hidden(node, value) { if (value) { node.setAttribute("hidden", ""); } else { node.removeAttribute("hidden"); } }

  function post(url, body) {
    return SPOA.requestJson("POST", url, body,
                            {offline: "There is no connection just now. Check your internet and try again."});
  }

  function errorText(result) {
    return (result.data && result.data.message) || "Something went wrong. Please try again.";
  }

  // -- the conversation -------------------------------------------------------------------

  function addMessage(who, text, restoring) {
    var item = el("li", {"class": "chat-message chat-message--" + who});
    item.appendChild(el("span", {"class": "chat-message__who"}, who === "user" ? "You" : "Assistant"));
    item.appendChild(el("p", {"class": "chat-message__text"}, text));
    $("chat-messages").appendChild(item);
    var log = $("chat-log");
    log.scrollTop = log.scrollHeight;
    if (!restoring) { saved.messages.push([who, text]); }
  }

  function save() {
    saved.mode = mode;
    saved.contactId = contactId;
    try { window.sessionStorage.setItem(STORE_KEY, JSON.stringify(saved)); } catch (ignore) { /* private mode: no reload */ }
  }

  function inProgress() { return saved.messages.some(function (m) { return m[0] === "user"; }) && !saved.outcome; }

  function showNewest() {
    // The newest message in view (within the log and on the page), and what to do next below
    // it: on a phone the page scrolls, not only the log.
    var items = $("chat-messages").children;
    var newest = items[items.length - 1];
    if (newest && newest.scrollIntoView) { newest.scrollIntoView({block: "nearest"}); }
    var next = [$("outcome"), $("quick-replies"), $("guided"), $("chat-form")].filter(function (node) {
      return !node.hasAttribute("hidden");
    })[0];
    if (next && next.scrollIntoView && next.id !== "outcome") { next.scrollIntoView({block: "nearest"}); }
  }

  function rendered() {
    seq += 1;
    root.setAttribute("data-seq", String(seq));
    save();
    showNewest();
  }

  function typing(on) {
    hidden($("chat-typing-dots"), !on);
    $("chat-typing-text").textContent = on ? (mode === "form" ? "Saving your answer" : "The assistant is replying") : "";
  }

  function showInputError(message) {
    var group = $("chat-group"), error = $("chat-error"), input = $("chat-input");
    clear(error);
    if (message) {
      error.appendChild(el("span", {"class": "nhsuk-u-visually-hidden"}, "Error: "));
      error.appendChild(document.createTextNode(message));
    }
    hidden(error, !message);
    group.classList.toggle("nhsuk-form-group--error", !!message);
    input.classList.toggle("nhsuk-input--error", !!message);
    input.setAttribute("aria-describedby", message ? "chat-hint chat-error" : "chat-hint");
  }

  function quickReplies(buttons, takeFocus, asked) {
    var box = $("quick-replies");
    clear(box);
    saved.buttons = buttons || [];
    saved.question = asked || null;
    if (asked) { lastAsked = asked.question_id || asked.id || null; }
    if (asked && (asked.kind === "checklist" || asked.kind === "multi") && buttons && buttons.length) {
      tickBoxes(box, buttons, takeFocus, asked);
      return;
    }
    box.setAttribute("role", "group");
    (buttons || []).forEach(function (button) {
      var node = el("button", {"type": "button", "class": "nhsuk-button nhsuk-button--secondary chat-quick__button"},
                    button.title);
      node.addEventListener("click", function () { send({payload: button.payload}, button.title); });
      box.appendChild(node);
    });
    hidden(box, !box.firstChild);
    if (takeFocus) {
      (box.firstChild || $("chat-input")).focus();
    }
  }

  function tickBoxes(box, buttons, takeFocus, asked) {
    // A question where several answers can be true: tick them, then send them together.
    box.removeAttribute("role");
    var fieldset = el("fieldset", {"class": "nhsuk-fieldset chat-ticks", "aria-describedby": "chat-ticks-hint"});
    var legend = el("legend", {"class": "nhsuk-fieldset__legend nhsuk-fieldset__legend--s"}, "Tick all that apply");
    fieldset.appendChild(legend);
    fieldset.appendChild(el("div", {"class": "nhsuk-hint", "id": "chat-ticks-hint"},
                            "Then press Send. You can also type your answer."));
    var list = el("div", {"class": "nhsuk-checkboxes"});
    var dividerDone = false;
    buttons.forEach(function (button, index) {
      var exclusive = EXCLUSIVE.indexOf(String(button.payload)) >= 0;
      if (exclusive && !dividerDone) { list.appendChild(el("div", {"class": "nhsuk-checkboxes__divider"}, "or")); dividerDone = true; }
      // What was heard in passing shows ticked, to confirm or untick (as in the guided form).
      list.appendChild(choiceItem("checkbox", index, {label: button.title, value: button.payload}, exclusive, "tick-",
                                  wasHeard(asked, {value: button.payload})));
    });
    exclusiveBoxes(list);
    fieldset.appendChild(list);
    var sendButton = el("button", {"type": "button", "class": "nhsuk-button chat-ticks__send", "id": "chat-ticks-send"}, "Send");
    var error = el("p", {"class": "nhsuk-error-message", "id": "chat-ticks-error", "hidden": ""});
    sendButton.addEventListener("click", function () {
      var ticked = Array.prototype.filter.call(list.querySelectorAll("input"), function (input) { return input.checked; })
        .map(function (input) { return buttons[Number(input.value)]; });
      if (!ticked.length) {
        clear(error);
        error.appendChild(el("span", {"class": "nhsuk-u-visually-hidden"}, "Error: "));
        error.appendChild(document.createTextNode("Tick the boxes that apply, or None of these."));
        hidden(error, false);
        list.querySelector("input").focus();
        return;
      }
      var words = ticked.map(function (button) { return button.title; }).join(", ");
      // One standalone option goes as its button; several go as the words the resident would
      // type ("Chest pain, Fainted"), which the same answer reader reads item by item.
      send(ticked.length === 1 ? {payload: ticked[0].payload} : {text: words}, words);
    });
    box.appendChild(fieldset);
    box.appendChild(error);
    box.appendChild(sendButton);
    hidden(box, false);
    if (takeFocus) { list.querySelector("input").focus(); }
  }

  function optionButtons(options) {
    return (options || []).map(function (option) {
      return {title: String(option.label), payload: String(option.value)};
    });
  }

  function send(body, shown) {
    if (busy) { return; }
    var fromQuickReply = document.activeElement && !!document.activeElement.closest &&
      !!document.activeElement.closest("#quick-replies");
    busy = true;
    showInputError(null);
    addMessage("user", shown);
    quickReplies([], false);
    if (fromQuickReply) { $("chat-input").focus(); }   // the button pressed is gone: keep focus in the chat
    typing(true);
    post(MESSAGE_URL, body).then(function (result) {
      typing(false);
      busy = false;
      if (!result.ok) {
        showInputError(errorText(result));
        if (body.text !== undefined) { $("chat-input").value = body.text; }   // nothing typed is lost
        $("chat-input").focus();
        return;
      }
      var data = result.data;
      contactId = data.contact_id || contactId;
      if (data.fallback) { startGuidedForm(data); return; }
      var buttons = [];
      (data.messages || []).forEach(function (message) {
        if (message.text) { addMessage("bot", message.text); }
        if (message.buttons && message.buttons.length) { buttons = message.buttons; }
      });
      if (!buttons.length && data.question) { buttons = optionButtons(data.question.options); }
      if (data.outcome) {
        showOutcome(data.outcome);
      } else {
        var asked = data.question && (data.question.question_id || data.question.id);
        if (asked && saved.outcome && saved.outcome.emergency && asked !== emergencyFrom) {
          hidden($("emergency-panel"), true);
          root.removeAttribute("data-outcome");
          saved.outcome = null;
        }
        quickReplies(buttons, fromQuickReply, data.question);
      }
    }).then(rendered);
  }

  $("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("chat-input");
    var text = input.value.trim();
    if (!text) {
      showInputError("Type a message, for example what has happened and who it is about.");
      input.focus();
      return;
    }
    input.value = "";
    send({text: text}, text);
  });

  // -- the guided form (the assistant is unavailable) -------------------------------------

  function startGuidedForm(data, restoring) {
    mode = "form";
    root.setAttribute("data-mode", "form");
    hidden($("chat-form"), true);
    hidden($("quick-replies"), true);
    hidden($("guided"), false);
    if (data.outcome) { showOutcome(data.outcome); return; }
    if (data.question) {
      renderQuestion(data.question);
      if (!restoring) { $("guided-heading").focus(); }
    }
  }

  function inputName(kind) { return kind === "checklist" || kind === "multi" ? "checkbox" : "radio"; }

  // What is already known of the question's facts (a list heard in passing, or the answer
  // being changed) is shown ticked, for the person to confirm or change (spoa.dialogue.core).
  function wasHeard(q, option) {
    var heard = q.heard || {};
    if (q.kind === "checklist") { return heard[option.value] === true; }
    var known = heard[(q.ask || [])[0]];
    if (Array.isArray(known)) { return known.indexOf(option.value) >= 0; }
    if (known === true || known === false) { return option.value === (known ? "yes" : "no"); }
    return known !== undefined && known !== null && known === option.value;
  }

  function choiceItem(type, index, option, exclusive, idPrefix, checked) {
    var prefix = type === "checkbox" ? "nhsuk-checkboxes" : "nhsuk-radios";
    var id = (idPrefix || "answer-") + index;
    var item = el("div", {"class": prefix + "__item"});
    var input = el("input", {"class": prefix + "__input", "id": id, "name": "answer", "type": type,
                             "value": String(index)});
    input.setAttribute("data-value", String(option.value));
    if (exclusive) { input.setAttribute("data-exclusive", "true"); }
    if (checked) { input.checked = true; }
    item.appendChild(input);
    item.appendChild(el("label", {"class": "nhsuk-label " + prefix + "__label", "for": id}, option.label));
    return item;
  }

  function exclusiveBoxes(list) {
    // A box that stands alone ("None of these", "I don't know") unticks the rest, and back.
    list.addEventListener("change", function (event) {
      var changed = event.target;
      if (!changed.checked) { return; }
      var alone = changed.getAttribute("data-exclusive") === "true";
      Array.prototype.forEach.call(list.querySelectorAll("input"), function (box) {
        if (box !== changed && (alone || box.getAttribute("data-exclusive") === "true")) { box.checked = false; }
      });
    });
  }

  function renderQuestion(q) {
    question = q;   // shown in the form; it joins the conversation once answered (said once, not twice)
    saved.question = q;
    var group = $("guided-group");
    clear(group);
    group.className = "nhsuk-form-group";
    group.setAttribute("data-question-id", q.id);
    group.setAttribute("data-kind", q.kind);
    group.setAttribute("data-ask", (q.ask || []).join(" "));
    var hintId = "guided-hint", errorId = "guided-error";
    var hint = el("div", {"class": "nhsuk-hint", "id": hintId}, q.why || "");
    var error = el("p", {"class": "nhsuk-error-message", "id": errorId, "hidden": ""});
    var openAnswer = q.kind === "number" || q.kind === "text";
    hidden($("guided-unknown"), !openAnswer);
    if (openAnswer) {
      group.appendChild(el("label", {"class": "nhsuk-label nhsuk-label--m", "for": "answer-text", "id": "guided-question"},
                           q.text));
      group.appendChild(hint);
      group.appendChild(error);
      var input = el("input", {"class": "nhsuk-input" + (q.kind === "number" ? " nhsuk-input--width-4" : ""),
                               "id": "answer-text", "name": "answer", "type": "text", "autocomplete": "off",
                               "aria-describedby": hintId});
      if (q.kind === "number") { input.setAttribute("inputmode", "numeric"); }
      if (q.kind === "number" && q.unit) {
        var wrapper = el("div", {"class": "nhsuk-input-wrapper"});
        wrapper.appendChild(input);
        wrapper.appendChild(el("div", {"class": "nhsuk-input__suffix", "aria-hidden": "true"}, q.unit));
        group.appendChild(wrapper);
      } else {
        group.appendChild(input);
      }
      return;
    }
    var type = inputName(q.kind);
    var fieldset = el("fieldset", {"class": "nhsuk-fieldset", "aria-describedby": hintId});
    var legend = el("legend", {"class": "nhsuk-fieldset__legend nhsuk-fieldset__legend--m"});
    legend.appendChild(el("h3", {"class": "nhsuk-fieldset__heading", "id": "guided-question", "tabindex": "-1"}, q.text));
    fieldset.appendChild(legend);
    fieldset.appendChild(hint);
    fieldset.appendChild(error);
    var list = el("div", {"class": type === "checkbox" ? "nhsuk-checkboxes" : "nhsuk-radios"});
    var dividerDone = false;
    (q.options || []).forEach(function (option, index) {
      var exclusive = type === "checkbox" && EXCLUSIVE.indexOf(String(option.value)) >= 0;
      if (exclusive && !dividerDone) {
        list.appendChild(el("div", {"class": "nhsuk-checkboxes__divider"}, "or"));
        dividerDone = true;
      }
      list.appendChild(choiceItem(type, index, option, exclusive, null, wasHeard(q, option)));
    });
    if (type === "checkbox") { exclusiveBoxes(list); }
    fieldset.appendChild(list);
    group.appendChild(fieldset);
  }

  function showGuidedError(message) {
    var group = $("guided-group"), error = $("guided-error");
    clear(error);
    error.appendChild(el("span", {"class": "nhsuk-u-visually-hidden"}, "Error: "));
    error.appendChild(document.createTextNode(message));
    hidden(error, false);
    group.classList.add("nhsuk-form-group--error");
    var first = group.querySelector("input");
    var described = first && first.getAttribute("type") === "text" ? first : group.querySelector("fieldset");
    if (described) { described.setAttribute("aria-describedby", "guided-hint guided-error"); }
    if (first) {
      if (first.getAttribute("type") === "text") { first.classList.add("nhsuk-input--error"); }
      first.focus();
    }
  }

  function guidedAnswer() {
    // [value to send, the answer in words] or [null, error message]
    var q = question;
    if (q.kind === "number" || q.kind === "text") {
      var typed = $("answer-text").value.trim();
      if (!typed) { return [null, q.kind === "number" ? "Type a number, for example 84, or choose I don't know." : "Type an answer, or choose I don't know."]; }
      if (q.kind === "number" && /^\d+$/.test(typed)) { return [parseInt(typed, 10), typed]; }
      return [typed, typed];
    }
    var ticked = Array.prototype.filter.call($("guided-group").querySelectorAll("input"), function (box) {
      return box.checked;
    }).map(function (box) { return q.options[Number(box.value)]; });
    if (!ticked.length) {
      return [null, q.kind === "checklist" || q.kind === "multi" ? "Tick the boxes that apply, or None of these."
                                                                  : "Choose an answer."];
    }
    var words = ticked.map(function (option) { return option.label; }).join(", ");
    if (q.kind === "checklist" || q.kind === "multi") {
      return [ticked.map(function (option) { return option.value; }), words];
    }
    return [ticked[0].value, words];
  }

  function sendAnswer(value, words) {
    if (busy) { return; }
    busy = true;
    typing(true);
    post(FORM_URL, {contact_id: contactId, answer: {question_id: question.id, value: value}}).then(function (result) {
      typing(false);
      busy = false;
      if (!result.ok) { showGuidedError(errorText(result)); return; }
      addMessage("bot", question.text);
      addMessage("user", words);
      var data = result.data;
      contactId = data.contact_id || contactId;
      if (data.outcome) { showOutcome(data.outcome); return; }
      if (data.question) {
        renderQuestion(data.question);
        var heading = $("guided-question");
        (heading.tagName === "LABEL" ? $("answer-text") : heading).focus();
      }
    }).then(rendered);
  }

  $("guided-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var answer = guidedAnswer();
    if (answer[0] === null) { showGuidedError(answer[1]); return; }
    sendAnswer(answer[0], answer[1]);
  });

  $("guided-unknown").addEventListener("click", function () { sendAnswer("I don't know", "I don't know"); });

  // -- the outcome --------------------------------------------------------------------------

  function list(items, className) {
    var node = el("ul", {"class": className || "nhsuk-list nhsuk-list--bullet"});
    items.forEach(function (text) { node.appendChild(el("li", {}, text)); });
    return node;
  }

  function reference(outcome) {
    var node = el("p", {"class": "chat-reference", "id": "outcome-reference"});
    node.appendChild(document.createTextNode("Your reference number is "));
    node.appendChild(el("strong", {"class": "chat-reference__number"}, outcome.reference));
    node.appendChild(document.createTextNode(". Keep it: quote it if you contact us about this."));
    return node;
  }

  function showEmergency(outcome, restoring) {
    $("emergency-headline").textContent = outcome.headline + ".";
    var advice = $("emergency-advice");
    clear(advice);
    outcome.advice.forEach(function (text) { advice.appendChild(el("li", {}, text)); });
    var ref = $("emergency-reference");
    clear(ref);
    if (outcome.reference) { ref.textContent = "Your reference number is " + outcome.reference + "."; }
    hidden($("emergency-panel"), false);
    if (!restoring) { $("emergency-heading").focus(); }
  }

  function showOutcome(outcome, restoring) {
    question = null;
    // The question whose answer gave a 999 outcome: asked again after "wrong button", the
    // panel stays (the decision stands until the answer changes); any other question after it
    // means the answer changed and 999 no longer holds.
    emergencyFrom = outcome.emergency ? lastAsked : null;
    saved.outcome = outcome;
    saved.question = null;
    saved.buttons = [];
    hidden($("guided"), true);
    hidden($("quick-replies"), true);
    if (mode === "form") { hidden($("chat-form"), true); }
    root.setAttribute("data-outcome", outcome.route || "");
    if (outcome.emergency) {
      showEmergency(outcome, restoring);
      return;
    }
    var section = $("outcome");
    clear(section);
    var urgent = outcome.route === "rapid_response";
    var card = el("div", {"class": "nhsuk-card nhsuk-card--care nhsuk-card--care--" + (urgent ? "urgent" : "non-urgent")});
    var headingBox = el("div", {"class": "nhsuk-card__heading-container"});
    var heading = el("h2", {"class": "nhsuk-card__heading", "id": "outcome-heading", "tabindex": "-1"});
    var span = el("span", {"role": "text"});
    span.appendChild(el("span", {"class": "nhsuk-u-visually-hidden"}, urgent ? "Urgent advice: " : "Non-urgent advice: "));
    span.appendChild(document.createTextNode(outcome.headline));
    heading.appendChild(span);
    headingBox.appendChild(heading);
    headingBox.appendChild(el("span", {"class": "nhsuk-card--care__arrow", "aria-hidden": "true"}));
    card.appendChild(headingBox);
    var content = el("div", {"class": "nhsuk-card__content"});
    content.appendChild(el("h3", {"class": "nhsuk-heading-s"}, "What happens next"));
    content.appendChild(el("p", {"id": "outcome-next"}, outcome.next_steps));
    if (outcome.by_when) {
      var when = el("p", {"id": "outcome-when"});
      when.appendChild(el("strong", {}, "By when: "));
      when.appendChild(document.createTextNode(outcome.by_when));
      content.appendChild(when);
    }
    outcome.notes.forEach(function (text) { content.appendChild(el("p", {}, text)); });
    if (outcome.while_you_wait && outcome.while_you_wait.length) {
      // First aid until the team comes ("don't try to lift them"): the console reads the same out.
      var wait = el("div", {"id": "outcome-wait"});
      wait.appendChild(el("h3", {"class": "nhsuk-heading-s"}, "While you wait"));
      wait.appendChild(list(outcome.while_you_wait));
      content.appendChild(wait);
    }
    if (outcome.services.length) {
      content.appendChild(el("h3", {"class": "nhsuk-heading-s"}, "Services that may help"));
      content.appendChild(list(outcome.services.map(function (service) {
        return service.organization ? service.name + " (" + service.organization + ")" : service.name;
      })));
    }
    if (outcome.advice.length) {
      content.appendChild(el("h3", {"class": "nhsuk-heading-s"}, "Advice"));
      content.appendChild(list(outcome.advice));
    }
    if (outcome.reviewed) { content.appendChild(el("p", {}, outcome.reviewed)); }
    if (outcome.reference) { content.appendChild(reference(outcome)); }
    card.appendChild(content);
    section.appendChild(card);
    hidden(section, false);
    if (!restoring) { heading.focus(); }
  }

  // -- a reload or the logo carries on; a new conversation asks first ------------------------

  function restore() {
    var stored = null;
    try { stored = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null"); } catch (ignore) { stored = null; }
    if (!stored || stored.conversation !== CONVERSATION || !stored.messages) { return; }
    saved = stored;
    mode = stored.mode || "chat";
    contactId = stored.contactId || null;
    stored.messages.forEach(function (m) { addMessage(m[0], m[1], true); });
    if (stored.outcome) {
      if (mode === "form") { startGuidedForm({}); }
      showOutcome(stored.outcome, true);
    } else if (mode === "form") {
      startGuidedForm({question: stored.question}, true);
    } else if (stored.buttons && stored.buttons.length) {
      quickReplies(stored.buttons, false, stored.question);
    }
    rendered();
  }

  // The address names this conversation, so a reload (or a tap on the logo) carries it on.
  var here = window.location.pathname + "?c=" + encodeURIComponent(CONVERSATION);
  if (CONVERSATION && window.history && window.history.replaceState) { window.history.replaceState(null, "", here); }
  var logo = document.querySelector(".nhsuk-header__service-logo");
  if (logo && CONVERSATION) { logo.setAttribute("href", here); }
  $("chat-restart").addEventListener("click", function (event) {
    if (inProgress() && !window.confirm("Start a new conversation? What you have told us so far stays with the team, " +
                                        "but this conversation will end.")) {
      event.preventDefault();
    }
  });
  restore();
}());
