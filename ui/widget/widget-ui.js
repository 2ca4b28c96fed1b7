/*
 * Parley chat widget, part 1 of 3 (loaded by widget.js): the panel's DOM and how messages, sources,
 * notices and quick replies are drawn. Every piece of text from the network is written with textContent
 * (never as HTML).
 */
(function () {
  "use strict";
  window.__parleyParts = window.__parleyParts || {};

  window.__parleyParts.ui = function (P, config, state) {

    // --- DOM helpers (text only) -----------------------------------------------------------------
    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined && text !== null) node.textContent = String(text);
      return node;
    }

    function safeUrl(url) {
      if (!url) return null; // a source without a page of its own (the API sends null)
      try {
        var parsed = new URL(url, window.location.href);
        return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
      } catch (e) {
        return null;
      }
    }

    /* A speech-bubble icon drawn as SVG (emoji fonts are missing on many systems). */
    function chatIcon() {
      var ns = "http://www.w3.org/2000/svg";
      var svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("width", "20");
      svg.setAttribute("height", "20");
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("class", "parley-launcher-icon");
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
      path.setAttribute("fill", "currentColor");
      svg.appendChild(path);
      return svg;
    }

    function button(className, text) {
      var b = el("button", className, text);
      b.type = "button";
      return b;
    }

    // --- layout ------------------------------------------------------------------------------------
    var root = el("div", "parley-widget");
    root.setAttribute("data-parley", "");

    var launcher = button("parley-launcher");
    launcher.setAttribute("aria-label", P.t("openChat") + ": " + config.title);
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "parley-panel");
    launcher.appendChild(chatIcon());
    var launcherLabel = el("span", "parley-launcher-label", P.t("help"));
    launcher.appendChild(launcherLabel);

    var panel = el("section", "parley-panel");
    panel.id = "parley-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", config.title);
    panel.hidden = true;

    var header = el("header", "parley-header");
    var heading = el("h2", "parley-title", config.title);
    heading.id = "parley-title";
    var closeButton = button("parley-close", "\u00D7");
    closeButton.setAttribute("aria-label", P.t("closeChat"));
    header.appendChild(heading);
    header.appendChild(closeButton);

    var log = el("div", "parley-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", P.t("conversation"));
    log.tabIndex = 0;

    var typing = el("div", "parley-typing");
    typing.setAttribute("aria-label", P.t("assistantTyping"));
    typing.setAttribute("role", "status");
    typing.appendChild(el("span", "parley-dot"));
    typing.appendChild(el("span", "parley-dot"));
    typing.appendChild(el("span", "parley-dot"));
    typing.hidden = true;

    var notice = el("div", "parley-notice");
    notice.setAttribute("role", "status");
    notice.setAttribute("aria-live", "assertive");
    notice.hidden = true;

    var quickReplies = el("div", "parley-quick");
    quickReplies.setAttribute("role", "group");
    quickReplies.setAttribute("aria-label", P.t("quickReplies"));
    quickReplies.hidden = true;

    var form = el("form", "parley-form");
    var label = el("label", "parley-visually-hidden", P.t("yourMessage"));
    label.setAttribute("for", "parley-input");
    var input = el("textarea", "parley-input");
    input.id = "parley-input";
    input.rows = 1;
    input.placeholder = P.t("placeholder");
    input.setAttribute("autocomplete", "off");
    var sendButton = el("button", "parley-send", P.t("send"));
    sendButton.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendButton);

    var footer = el("div", "parley-footer");
    var endButton = button("parley-end", P.t("endChat"));
    var personButton = button("parley-person", P.t("talkToPerson"));
    endButton.hidden = true;
    footer.appendChild(endButton);
    footer.appendChild(personButton);

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(notice);
    panel.appendChild(quickReplies);
    panel.appendChild(form);
    panel.appendChild(footer);
    root.appendChild(panel);
    root.appendChild(launcher);

    function mount() { document.body.appendChild(root); }
    if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

    // --- rendering -----------------------------------------------------------------------------------
    function scrollDown() { log.scrollTop = log.scrollHeight; }

    function addBubble(role, text, author) {
      var item = el("div", "parley-msg parley-msg-" + role);
      if (role === "agent") item.appendChild(el("div", "parley-author", (author || P.t("teamMember")) + " (" + P.t("team") + ")"));
      item.appendChild(el("div", "parley-text", text));
      log.appendChild(item);
      scrollDown();
      return item;
    }

    function addSources(item, citations) {
      if (!citations || !citations.length) return;
      var seen = {};
      var box = el("div", "parley-sources");
      box.appendChild(el("span", "parley-sources-label", P.t("sources")));
      var list = el("ul", "parley-sources-list");
      citations.forEach(function (c) {
        var url = safeUrl(c.url);
        var key = (url || c.article_id || "") + "#" + (c.section || "");
        if (seen[key]) return;
        seen[key] = true;
        var li = el("li");
        var title = "[" + c.ref + "] " + (c.title || c.article_id || P.t("helpArticle")) +
          (c.section ? " \u2014 " + c.section : "");
        if (url) {
          var a = el("a", "parley-source", title);
          a.href = url;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          li.appendChild(a);
        } else {
          li.appendChild(el("span", "parley-source", title));
        }
        list.appendChild(li);
      });
      box.appendChild(list);
      item.appendChild(box);
      scrollDown();
    }

    function renderMessage(m) {
      if (state.rendered[m.seq]) return;
      state.rendered[m.seq] = true;
      var item = addBubble(m.role, m.text, m.author);
      if (m.role === "bot") addSources(item, m.citations);
    }

    function showNotice(text, kind) {
      notice.textContent = text;
      notice.className = "parley-notice" + (kind ? " parley-notice-" + kind : "");
      notice.hidden = false;
    }

    function hideNotice() { notice.hidden = true; notice.textContent = ""; }

    var shownConfirmation = null; // the pending change whose Yes/No buttons are on screen

    function clearQuickReplies() {
      shownConfirmation = null;
      while (quickReplies.firstChild) quickReplies.removeChild(quickReplies.firstChild);
      quickReplies.hidden = true;
    }

    /* A question with buttons under the log: [[label, value, className], ...]; onPick(value). */
    function showChoices(question, choices, onPick) {
      clearQuickReplies();
      quickReplies.appendChild(el("div", "parley-confirm-text", question));
      choices.forEach(function (choice) {
        var b = button("parley-quick-button " + (choice[2] || ""), choice[0]);
        b.addEventListener("click", function () {
          clearQuickReplies();
          input.focus(); // the clicked button is gone: keep the keyboard inside the panel
          onPick(choice[1]);
        });
        quickReplies.appendChild(b);
      });
      quickReplies.hidden = false;
      scrollDown(); // the panel's log just got shorter
      return quickReplies;
    }

    function showConfirmation(awaiting, takeFocus) {
      var question = P.t("pleaseConfirm") + awaiting.actions.map(function (a) { return a.description; }).join("; ");
      showChoices(question, [[P.t("yesGoAhead"), "yes", "parley-quick-yes"], [P.t("noDont"), "no", "parley-quick-no"]],
        function (value) { P.send(value, awaiting.action_id); });
      shownConfirmation = awaiting;
      if (takeFocus !== false) quickReplies.querySelector("button").focus();
    }

    var STATUS_NOTICES = {
      waiting_for_human: ["connecting", "handover"],
      human: ["joined", "handover"],
      closed: ["closed", "info"],
    };

    /* The conversation's language (the API's `language`): the widget's own words follow it when it is one of
     * ours. Everything on screen in the old words is written again: labels, buttons, the pending Yes/No. */
    function applyLanguage(code) {
      var previous = P.lang;
      if (!P.setLang(code)) return false;
      if (config.defaultTitle) {
        config.title = P.t("help");
        heading.textContent = config.title;
        panel.setAttribute("aria-label", config.title);
      }
      launcher.setAttribute("aria-label", P.t("openChat") + ": " + config.title);
      launcherLabel.textContent = P.t("help");
      closeButton.setAttribute("aria-label", P.t("closeChat"));
      log.setAttribute("aria-label", P.t("conversation"));
      typing.setAttribute("aria-label", P.t("assistantTyping"));
      quickReplies.setAttribute("aria-label", P.t("quickReplies"));
      label.textContent = P.t("yourMessage");
      input.placeholder = P.t("placeholder");
      sendButton.textContent = P.t("send");
      endButton.textContent = P.t("endChat");
      personButton.textContent = P.t("talkToPerson");
      Array.prototype.forEach.call(log.querySelectorAll(".parley-sources-label"), function (node) {
        node.textContent = P.t("sources");
      });
      if (config.defaultGreeting) {
        config.greeting = P.t("greeting");
        var greeting = log.querySelector(".parley-greeting .parley-text");
        if (greeting) greeting.textContent = config.greeting;
      }
      if (!notice.hidden) {
        var shown = notice.textContent;
        var prefix = P.t("connectingShort", previous);
        if (shown.indexOf(prefix) === 0 && shown !== P.t("connecting", previous)) {
          notice.textContent = P.t("connectingShort") + shown.slice(prefix.length); // + the API's queue text
        } else {
          P.textKeys.forEach(function (key) { if (shown === P.t(key, previous)) notice.textContent = P.t(key); });
        }
      }
      if (shownConfirmation && !quickReplies.hidden) {
        showConfirmation(shownConfirmation, quickReplies.contains(document.activeElement));
      }
      return true;
    }

    function setStatus(status) {
      var previous = state.status;
      state.status = status;
      personButton.hidden = status !== "bot";
      endButton.hidden = status === "closed" || !state.conversation;
      if (status === previous) return;
      var text = STATUS_NOTICES[status];
      if (text) {
        showNotice(P.t(text[0]), text[1]);
      } else if (status === "bot" && (previous === "human" || previous === "waiting_for_human")) {
        showNotice(P.t("botAgain"), "info");
      }
      if (P.onStatus) P.onStatus(status, previous);
    }

    P.el = el;
    P.button = button;
    P.dom = {
      root: root, launcher: launcher, panel: panel, closeButton: closeButton, log: log, typing: typing,
      notice: notice, quickReplies: quickReplies, form: form, input: input, sendButton: sendButton,
      personButton: personButton, endButton: endButton,
    };
    P.scrollDown = scrollDown;
    P.addBubble = addBubble;
    P.addSources = addSources;
    P.renderMessage = renderMessage;
    P.showNotice = showNotice;
    P.hideNotice = hideNotice;
    P.clearQuickReplies = clearQuickReplies;
    P.showChoices = showChoices;
    P.showConfirmation = showConfirmation;
    P.setStatus = setStatus;
    P.applyLanguage = applyLanguage;
  };
})();
