/*
 * Parley chat widget: plain JavaScript, no build step, embeddable with one tag:
 *   <script src="https://HOST/widget/widget.js" data-api="https://HOST" data-title="Maple & Moss help"
 *           data-customer-token="..." async></script>
 * Every piece of text from the network is written with textContent (never as HTML).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__parleyWidgetLoaded) return;
  window.__parleyWidgetLoaded = true;

  var scriptUrl = new URL(script.src, window.location.href);
  var API = (script.getAttribute("data-api") || scriptUrl.origin).replace(/\/+$/, "");
  var TITLE = script.getAttribute("data-title") || "Help";
  var CUSTOMER_TOKEN = script.getAttribute("data-customer-token") || null;
  var GREETING = script.getAttribute("data-greeting") ||
    "Hi! Ask me about orders, returns, delivery or our products.";
  var STORAGE_KEY = "parley:" + API;
  var ASK_FOR_PERSON = "I would like to talk to a person, please.";
  var MAX_BACKOFF_MS = 30000;

  var state = {
    conversation: null, // {id, secret}
    status: "bot",
    lastSeq: 0, // highest seq seen (for /events)
    rendered: {}, // seq -> true, so nothing shows twice
    busy: false, // a message is being sent / streamed
    polling: false,
    pollFailures: 0,
    open: false,
  };

  // --- DOM helpers (text only) -------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(url) {
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

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function backoff(attempt) {
    var base = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempt));
    return base / 2 + Math.random() * base / 2;
  }

  // --- styles: the one tag loads its own stylesheet ------------------------------------------------
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("widget.css", scriptUrl).href;
  document.head.appendChild(css);

  // --- layout ----------------------------------------------------------------------------------------
  var root = el("div", "parley-widget");
  root.setAttribute("data-parley", "");

  var launcher = el("button", "parley-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-label", "Open chat: " + TITLE);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "parley-panel");
  launcher.appendChild(chatIcon());
  launcher.appendChild(el("span", "parley-launcher-label", "Help"));

  var panel = el("section", "parley-panel");
  panel.id = "parley-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", TITLE);
  panel.hidden = true;

  var header = el("header", "parley-header");
  var heading = el("h2", "parley-title", TITLE);
  heading.id = "parley-title";
  var closeButton = el("button", "parley-close", "\u00D7");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", "Close chat");
  header.appendChild(heading);
  header.appendChild(closeButton);

  var log = el("div", "parley-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var typing = el("div", "parley-typing");
  typing.setAttribute("aria-label", "The assistant is typing");
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
  quickReplies.setAttribute("aria-label", "Quick replies");
  quickReplies.hidden = true;

  var form = el("form", "parley-form");
  var label = el("label", "parley-visually-hidden", "Your message");
  label.setAttribute("for", "parley-input");
  var input = el("textarea", "parley-input");
  input.id = "parley-input";
  input.rows = 1;
  input.placeholder = "Type your message\u2026";
  input.setAttribute("autocomplete", "off");
  var sendButton = el("button", "parley-send", "Send");
  sendButton.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendButton);

  var footer = el("div", "parley-footer");
  var personButton = el("button", "parley-person", "Talk to a person");
  personButton.type = "button";
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

  // --- rendering ---------------------------------------------------------------------------------------
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addBubble(role, text, author) {
    var item = el("div", "parley-msg parley-msg-" + role);
    if (role === "agent") item.appendChild(el("div", "parley-author", (author || "Team member") + " (team)"));
    var body = el("div", "parley-text", text);
    item.appendChild(body);
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function addSources(item, citations) {
    if (!citations || !citations.length) return;
    var seen = {};
    var box = el("div", "parley-sources");
    box.appendChild(el("span", "parley-sources-label", "Sources:"));
    var list = el("ul", "parley-sources-list");
    citations.forEach(function (c) {
      var url = safeUrl(c.url);
      var key = (url || "") + "#" + (c.section || "");
      if (seen[key]) return;
      seen[key] = true;
      var li = el("li");
      var title = "[" + c.ref + "] " + (c.title || c.article_id || "Help article") +
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

  function clearQuickReplies() {
    while (quickReplies.firstChild) quickReplies.removeChild(quickReplies.firstChild);
    quickReplies.hidden = true;
  }

  function showConfirmation(awaiting) {
    clearQuickReplies();
    var question = el("div", "parley-confirm-text",
      "Please confirm: " + awaiting.actions.map(function (a) { return a.description; }).join("; "));
    quickReplies.appendChild(question);
    [["Yes, go ahead", "yes"], ["No, don't", "no"]].forEach(function (pair) {
      var b = el("button", "parley-quick-button parley-quick-" + pair[1], pair[0]);
      b.type = "button";
      b.addEventListener("click", function () { clearQuickReplies(); send(pair[1]); });
      quickReplies.appendChild(b);
    });
    quickReplies.hidden = false;
    scrollDown(); // the panel's log just got shorter
    quickReplies.querySelector("button").focus();
  }

  function setStatus(status) {
    var previous = state.status;
    state.status = status;
    personButton.hidden = status !== "bot";
    if (status === previous) return;
    if (status === "waiting_for_human") {
      showNotice("You're being connected to a member of our team. They will see this whole conversation.",
        "handover");
    } else if (status === "human") {
      showNotice("A member of our team has joined the conversation.", "handover");
    } else if (status === "closed") {
      showNotice("This conversation is closed. Write again to start a new one.", "info");
    } else if (status === "bot" && (previous === "human" || previous === "waiting_for_human")) {
      showNotice("You're chatting with our assistant again.", "info");
    }
  }

  // --- storage -------------------------------------------------------------------------------------
  function save() {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state.conversation));
    } catch (e) { /* storage disabled: the conversation just lasts as long as the page */ }
  }

  function load() {
    try {
      var raw = sessionStorage.getItem(STORAGE_KEY);
      var value = raw ? JSON.parse(raw) : null;
      return value && typeof value.id === "string" && typeof value.secret === "string" ? value : null;
    } catch (e) {
      return null;
    }
  }

  function forget() {
    state.conversation = null;
    state.lastSeq = 0;
    state.rendered = {};
    try { sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* ignore */ }
  }

  // --- API -----------------------------------------------------------------------------------------
  function headers(extra) {
    var h = { "Content-Type": "application/json", "X-Conversation-Secret": state.conversation.secret };
    for (var k in extra || {}) h[k] = extra[k];
    return h;
  }

  function conversationUrl(path) {
    return API + "/v1/conversations/" + encodeURIComponent(state.conversation.id) + (path || "");
  }

  async function readDetail(response) {
    try {
      var body = await response.json();
      return typeof body.detail === "string" ? body.detail : "Something went wrong.";
    } catch (e) {
      return "Something went wrong (" + response.status + ").";
    }
  }

  async function startConversation() {
    var body = { channel: "widget" };
    if (CUSTOMER_TOKEN) body.customer_token = CUSTOMER_TOKEN;
    for (var attempt = 0; ; attempt++) {
      try {
        var response = await fetch(API + "/v1/conversations", {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        });
        if (!response.ok) {
          showNotice(await readDetail(response), "error");
          if (response.status < 500 && response.status !== 429) return false;
        } else {
          var data = await response.json();
          state.conversation = { id: data.conversation_id, secret: data.secret };
          state.lastSeq = 0;
          state.rendered = {};
          save();
          setStatus(data.status);
          hideNotice();
          return true;
        }
      } catch (e) {
        showNotice("Connecting\u2026", "info");
      }
      await sleep(backoff(attempt));
    }
  }

  async function restore(saved) {
    state.conversation = saved;
    try {
      var response = await fetch(conversationUrl(""), { headers: headers() });
      if (response.status === 404) { forget(); return false; }
      if (!response.ok) return true; // keep it; the poller will catch up
      var data = await response.json();
      data.messages.forEach(function (m) {
        renderMessage(m);
        state.lastSeq = Math.max(state.lastSeq, m.seq);
      });
      setStatus(data.status);
      return true;
    } catch (e) {
      return true; // offline: keep the conversation, the poller retries
    }
  }

  var ready = null;
  function ensureConversation() {
    if (!ready) {
      ready = (async function () {
        var saved = load();
        if (saved && (await restore(saved))) return true;
        addBubble("bot", GREETING);
        return startConversation();
      })();
      ready.then(function (ok) { if (!ok) ready = null; else poll(); });
    }
    return ready;
  }

  /* Messages after `after` that are not on screen yet (after a send, a lost connection, a takeover). */
  async function catchUp(after) {
    var response = await fetch(conversationUrl("/messages?after=" + after), { headers: headers() });
    if (!response.ok) throw new Error("catch-up failed: " + response.status);
    var messages = await response.json();
    messages.forEach(function (m) {
      renderMessage(m);
      state.lastSeq = Math.max(state.lastSeq, m.seq);
    });
    return messages;
  }

  /* Read an SSE body from fetch: calls onEvent(name, data) per event. */
  async function readSse(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        var raw = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        var name = "message";
        var data = "";
        raw.split("\n").forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
        });
        if (data) onEvent(name, JSON.parse(data));
      }
    }
  }

  async function send(text) {
    text = (text || "").trim();
    if (!text || state.busy) return;
    if (!(await ensureConversation())) return;
    if (state.status === "closed") { forget(); ready = null; await ensureConversation(); }
    state.busy = true;
    sendButton.disabled = true;
    clearQuickReplies();
    var syncedTo = state.lastSeq;
    var mine = addBubble("customer", text);
    var botItem = null;
    var botText = null;
    var final = null;
    typing.hidden = state.status !== "bot";
    scrollDown();
    try {
      for (var attempt = 0; attempt < 6 && !final; attempt++) {
        try {
          var response = await fetch(conversationUrl("/messages"), {
            method: "POST",
            headers: headers({ Accept: "text/event-stream" }),
            body: JSON.stringify({ text: text }),
          });
          if (response.status === 404) {
            forget(); ready = null;
            showNotice("Your conversation has expired; starting a new one.", "info");
            if (!(await ensureConversation())) return;
            continue;
          }
          if (response.status === 409) { forget(); ready = null; await ensureConversation(); continue; }
          if (!response.ok) {
            mine.classList.add("parley-msg-failed");
            showNotice(await readDetail(response), "error");
            return;
          }
          var failed = null;
          await readSse(response, function (name, data) {
            if (name === "token") {
              typing.hidden = true;
              if (!botItem) {
                botItem = addBubble("bot", "");
                botItem.setAttribute("aria-busy", "true");
                botText = botItem.querySelector(".parley-text");
              }
              botText.textContent += data.text;
              scrollDown();
            } else if (name === "final") {
              final = data;
            } else if (name === "error") {
              failed = data;
            }
          });
          if (failed) {
            showNotice(failed.detail, "error");
            if (botItem) { botItem.remove(); botItem = null; }
            return;
          }
          if (!final) throw new Error("stream ended early");
        } catch (networkError) {
          // The connection dropped: did the server get the message? Then wait for its reply instead of
          // sending it twice.
          showNotice("Connection lost \u2014 reconnecting\u2026", "error");
          await sleep(backoff(attempt));
          try {
            var seen = await catchUp(syncedTo);
            var stored = seen.filter(function (m) { return m.role === "customer" && m.text === text; });
            if (stored.length) {
              if (!state.rendered[stored[0].seq]) state.rendered[stored[0].seq] = true;
              mine.remove();
              if (botItem) { botItem.remove(); botItem = null; }
              hideNotice();
              return;
            }
          } catch (e) { /* still offline: try again */ }
        }
      }
      if (!final) { showNotice("We couldn't reach the help desk. Please try again.", "error"); return; }
      hideNotice();
      state.rendered[final.customer_seq] = true;
      if (final.reply !== null && final.reply !== undefined) {
        if (!botItem) botItem = addBubble("bot", "");
        botItem.querySelector(".parley-text").textContent = final.reply;
        botItem.removeAttribute("aria-busy");
        addSources(botItem, final.citations);
        if (final.reply_seq) state.rendered[final.reply_seq] = true;
      } else if (botItem) {
        botItem.remove();
      }
      state.lastSeq = Math.max(state.lastSeq, final.customer_seq, final.reply_seq || 0);
      setStatus(final.status);
      if (final.awaiting_confirmation && final.awaiting_confirmation.actions.length) {
        showConfirmation(final.awaiting_confirmation);
      }
      try { await catchUp(syncedTo); } catch (e) { /* the poller will bring it */ }
    } finally {
      typing.hidden = true;
      state.busy = false;
      sendButton.disabled = false;
    }
  }

  /* Long-poll /events while the page is open: a human agent's messages and status changes appear live. */
  async function poll() {
    if (state.polling) return;
    state.polling = true;
    while (state.conversation) {
      try {
        var response = await fetch(
          conversationUrl("/events?timeout=20&after=" + state.lastSeq), { headers: headers() }
        );
        if (response.status === 404) { forget(); ready = null; break; }
        if (!response.ok) throw new Error("events " + response.status);
        var data = await response.json();
        if (state.pollFailures) { hideNotice(); state.pollFailures = 0; }
        if (!state.busy) {
          data.messages.forEach(renderMessage);
          state.lastSeq = Math.max(state.lastSeq, data.last_seq);
          setStatus(data.status);
        } else {
          await sleep(300);
        }
      } catch (e) {
        state.pollFailures += 1;
        if (state.pollFailures > 1) showNotice("Connection lost \u2014 reconnecting\u2026", "error");
        await sleep(backoff(state.pollFailures));
      }
    }
    state.polling = false;
  }

  // --- behaviour -------------------------------------------------------------------------------------
  function openPanel() {
    state.open = true;
    panel.hidden = false;
    root.classList.add("parley-open");
    launcher.setAttribute("aria-expanded", "true");
    ensureConversation();
    input.focus();
  }

  function closePanel() {
    state.open = false;
    panel.hidden = true;
    root.classList.remove("parley-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (state.open) closePanel(); else openPanel(); });
  closeButton.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); closePanel(); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || state.busy) return;
    input.value = "";
    send(text);
  });
  personButton.addEventListener("click", function () { send(ASK_FOR_PERSON); });
  window.addEventListener("online", function () { if (state.conversation) poll(); });

  // Reopen where the customer left off (same tab, after a reload).
  if (load()) ensureConversation();

  window.ParleyWidget = { open: openPanel, close: closePanel, send: send };
})();
