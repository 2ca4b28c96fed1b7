/*
 * Parley chat widget: plain JavaScript, no build step, embeddable with one tag:
 *   <script src="https://HOST/widget/widget.js" data-api="https://HOST" data-title="Maple & Moss help"
 *           data-customer-token="..." async></script>
 * This file reads the tag, loads the stylesheet and the widget's parts from next to itself
 * (widget-i18n.js: the interface's words in en/fr/nl, chosen by data-lang or the page's language, then the
 * conversation's language once the customer has written; widget-ui.js: the panel and how text is drawn;
 * widget-net.js: the conversation with the API; widget-desk.js: queue position, end of chat and the effort question), then wires the behaviour.
 * Every piece of text from the network is written with textContent (never as HTML).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__parleyWidgetLoaded) return;
  window.__parleyWidgetLoaded = true;

  var scriptUrl = new URL(script.src, window.location.href);
  var api = (script.getAttribute("data-api") || scriptUrl.origin).replace(/\/+$/, "");
  var PARTS = ["widget-i18n.js", "widget-ui.js", "widget-net.js", "widget-desk.js"];

  var P = {
    config: {
      api: api,
      title: script.getAttribute("data-title"), // default: "Help" in the widget's language (boot)
      customerToken: script.getAttribute("data-customer-token") || null,
      greeting: script.getAttribute("data-greeting"),
      storageKey: "parley:" + api,
    },
    state: {
      conversation: null, // {id, secret}
      status: "bot",
      lastSeq: 0, // highest seq seen (for /events)
      rendered: {}, // seq -> true, so nothing shows twice
      busy: false, // a message is being sent / streamed
      polling: false,
      pollFailures: 0,
      open: false,
    },
  };

  // --- styles and parts: the one tag loads the rest -------------------------------------------------
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("widget.css", scriptUrl).href;
  document.head.appendChild(css);

  var loaded = 0;
  PARTS.forEach(function (name) {
    var part = document.createElement("script");
    part.src = new URL(name, scriptUrl).href;
    part.async = false; // run in this order
    part.onload = function () { if (++loaded === PARTS.length) boot(); };
    part.onerror = function () { console.error("Parley widget: could not load " + name); };
    document.head.appendChild(part);
  });

  function boot() {
    var parts = window.__parleyParts;
    parts.i18n(P, script); // P.t(key): the interface's words in the page's language
    // The title and greeting the page did not set follow the widget's language (also when it switches).
    P.config.defaultTitle = !P.config.title;
    P.config.defaultGreeting = !P.config.greeting;
    P.config.title = P.config.title || P.t("help");
    P.config.greeting = P.config.greeting || P.t("greeting");
    // Each part gets the widget and its config and state; net and desk also the DOM that ui builds.
    ["ui", "net", "desk"].forEach(function (name) {
      parts[name](P, P.config, P.state, P.dom);
    });
    wire();
  }

  // --- behaviour ------------------------------------------------------------------------------------
  function wire() {
    var dom = P.dom;
    var state = P.state;

    function openPanel() {
      state.open = true;
      dom.panel.hidden = false;
      dom.root.classList.add("parley-open");
      dom.launcher.setAttribute("aria-expanded", "true");
      P.ensureConversation();
      dom.input.focus();
    }

    function closePanel() {
      state.open = false;
      dom.panel.hidden = true;
      dom.root.classList.remove("parley-open");
      dom.launcher.setAttribute("aria-expanded", "false");
      dom.launcher.focus();
    }

    dom.launcher.addEventListener("click", function () { if (state.open) closePanel(); else openPanel(); });
    dom.closeButton.addEventListener("click", closePanel);
    dom.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); closePanel(); }
    });
    dom.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        dom.form.requestSubmit ? dom.form.requestSubmit() : dom.form.dispatchEvent(new Event("submit"));
      }
    });
    dom.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = dom.input.value;
      if (!text.trim() || state.busy) return;
      dom.input.value = "";
      P.send(text);
    });
    dom.personButton.addEventListener("click", function () { P.send(P.t("askForPerson")); });
    dom.endButton.addEventListener("click", function () { P.endChat(); });
    window.addEventListener("online", function () { if (state.conversation) P.poll(); });

    // Reopen where the customer left off (same tab, after a reload), in the language they wrote in.
    var saved = P.load();
    if (saved) {
      if (saved.lang) P.applyLanguage(saved.lang);
      P.ensureConversation();
    }

    window.ParleyWidget = { open: openPanel, close: closePanel, send: P.send, endChat: P.endChat };
  }
})();
