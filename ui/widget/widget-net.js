/*
 * Parley chat widget, part 2 of 3 (loaded by widget.js): the conversation with the API - start or restore
 * it (sessionStorage), send a message and read the streamed answer (SSE over fetch), never send one twice
 * after a lost connection, and long-poll /events so a human agent's messages appear live.
 */
(function () {
  "use strict";
  window.__parleyParts = window.__parleyParts || {};

  window.__parleyParts.net = function (P, config, state, dom) {
    var MAX_BACKOFF_MS = 30000;

    function sleep(ms) {
      return new Promise(function (resolve) { setTimeout(resolve, ms); });
    }

    function backoff(attempt) {
      var base = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempt));
      return base / 2 + Math.random() * base / 2;
    }

    // --- storage -------------------------------------------------------------------------------------
    function save() {
      try {
        sessionStorage.setItem(config.storageKey, JSON.stringify(state.conversation));
      } catch (e) { /* storage disabled: the conversation just lasts as long as the page */ }
    }

    function load() {
      try {
        var raw = sessionStorage.getItem(config.storageKey);
        var value = raw ? JSON.parse(raw) : null;
        return value && typeof value.id === "string" && typeof value.secret === "string" ? value : null;
      } catch (e) {
        return null;
      }
    }

    /* The conversation's language from the API: the widget's words follow it, and it is kept with the
     * conversation so a reload comes back in it. */
    function speak(language) {
      if (!language || !state.conversation) return;
      P.applyLanguage(language);
      if (state.conversation.lang !== P.lang) {
        state.conversation.lang = P.lang;
        save();
      }
    }

    function forget() {
      state.conversation = null;
      state.lastSeq = 0;
      state.rendered = {};
      ready = null;
      try { sessionStorage.removeItem(config.storageKey); } catch (e) { /* ignore */ }
    }

    // --- API -----------------------------------------------------------------------------------------
    function headers(extra) {
      var h = { "Content-Type": "application/json", "X-Conversation-Secret": state.conversation.secret };
      for (var k in extra || {}) h[k] = extra[k];
      return h;
    }

    function conversationUrl(path) {
      return config.api + "/v1/conversations/" + encodeURIComponent(state.conversation.id) + (path || "");
    }

    async function readDetail(response) {
      try {
        var body = await response.json();
        return typeof body.detail === "string" ? body.detail : P.t("somethingWrong");
      } catch (e) {
        return P.t("somethingWrong") + " (" + response.status + ")";
      }
    }

    async function startConversation() {
      var body = { channel: "widget" };
      if (config.customerToken) body.customer_token = config.customerToken;
      for (var attempt = 0; ; attempt++) {
        try {
          var response = await fetch(config.api + "/v1/conversations", {
            method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
          });
          if (!response.ok) {
            P.showNotice(await readDetail(response), "error");
            if (response.status < 500 && response.status !== 429) return false;
          } else {
            var data = await response.json();
            state.conversation = { id: data.conversation_id, secret: data.secret };
            state.lastSeq = 0;
            state.rendered = {};
            save();
            P.setStatus(data.status);
            P.hideNotice();
            return true;
          }
        } catch (e) {
          P.showNotice(P.t("connectingNet"), "info");
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
        // The page's language stays until the customer has written; then the conversation's is theirs.
        if (data.messages.some(function (m) { return m.role === "customer"; })) speak(data.language);
        data.messages.forEach(function (m) {
          P.renderMessage(m);
          state.lastSeq = Math.max(state.lastSeq, m.seq);
        });
        P.setStatus(data.status);
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
          P.addBubble("bot", config.greeting).classList.add("parley-greeting");
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
        P.renderMessage(m);
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

    /* One POST of the message, its answer streamed into a bubble. Returns the final event, or null. */
    async function postOnce(text, turn, actionId) {
      var body = { text: text };
      if (actionId) body.action_id = actionId; // a confirm button answers this pending change only
      var response = await fetch(conversationUrl("/messages"), {
        method: "POST", headers: headers({ Accept: "text/event-stream" }), body: JSON.stringify(body),
      });
      if (response.status === 404) {
        forget();
        P.showNotice(P.t("expired"), "info");
        turn.restart = !(await ensureConversation());
        return null;
      }
      if (response.status === 409) { forget(); await ensureConversation(); return null; }
      if (!response.ok) {
        turn.mine.classList.add("parley-msg-failed");
        P.showNotice(await readDetail(response), "error");
        turn.stop = true;
        return null;
      }
      var final = null;
      var failed = null;
      await readSse(response, function (name, data) {
        if (name === "token") {
          dom.typing.hidden = true;
          if (!turn.botItem) {
            turn.botItem = P.addBubble("bot", "");
            turn.botItem.setAttribute("aria-busy", "true");
          }
          turn.botItem.querySelector(".parley-text").textContent += data.text;
          P.scrollDown();
        } else if (name === "final") {
          final = data;
        } else if (name === "error") {
          failed = data;
        }
      });
      if (failed) {
        P.showNotice(failed.detail, "error");
        if (turn.botItem) { turn.botItem.remove(); turn.botItem = null; }
        turn.stop = true;
        return null;
      }
      if (!final) throw new Error("stream ended early");
      return final;
    }

    async function send(text, actionId) {
      text = (text || "").trim();
      if (!text || state.busy) return;
      if (!(await ensureConversation())) return;
      if (state.status === "closed") { forget(); await ensureConversation(); }
      state.busy = true;
      dom.sendButton.disabled = true;
      P.clearQuickReplies();
      var syncedTo = state.lastSeq;
      var turn = { mine: P.addBubble("customer", text), botItem: null, stop: false, restart: false };
      var final = null;
      dom.typing.hidden = state.status !== "bot";
      P.scrollDown();
      try {
        for (var attempt = 0; attempt < 6 && !final && !turn.stop && !turn.restart; attempt++) {
          try {
            final = await postOnce(text, turn, actionId);
          } catch (networkError) {
            // The connection dropped: did the server get the message? Then wait for its reply instead of
            // sending it twice.
            P.showNotice(P.t("reconnecting"), "error");
            await sleep(backoff(attempt));
            try {
              var seen = await catchUp(syncedTo);
              var stored = seen.filter(function (m) { return m.role === "customer" && m.text === text; });
              if (stored.length) {
                state.rendered[stored[0].seq] = true;
                turn.mine.remove();
                if (turn.botItem) { turn.botItem.remove(); turn.botItem = null; }
                P.hideNotice();
                return;
              }
            } catch (e) { /* still offline: try again */ }
          }
        }
        if (turn.stop || turn.restart) return;
        if (!final) { P.showNotice(P.t("unreachable"), "error"); return; }
        P.hideNotice();
        speak(final.language); // before drawing: the reply's "Sources" and the Yes/No come in its language
        state.rendered[final.customer_seq] = true;
        if (final.reply !== null && final.reply !== undefined) {
          if (!turn.botItem) turn.botItem = P.addBubble("bot", "");
          turn.botItem.querySelector(".parley-text").textContent = final.reply;
          turn.botItem.removeAttribute("aria-busy");
          P.addSources(turn.botItem, final.citations);
          if (final.reply_seq) state.rendered[final.reply_seq] = true;
        } else if (turn.botItem) {
          turn.botItem.remove();
        }
        state.lastSeq = Math.max(state.lastSeq, final.customer_seq, final.reply_seq || 0);
        P.setStatus(final.status);
        if (final.handover && P.onHandover) P.onHandover(final);
        if (final.awaiting_confirmation && final.awaiting_confirmation.actions.length) {
          P.showConfirmation(final.awaiting_confirmation);
        }
        try { await catchUp(syncedTo); } catch (e) { /* the poller will bring it */ }
      } finally {
        dom.typing.hidden = true;
        state.busy = false;
        dom.sendButton.disabled = false;
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
          if (response.status === 404) { forget(); break; }
          if (!response.ok) throw new Error("events " + response.status);
          var data = await response.json();
          if (state.pollFailures) { P.hideNotice(); state.pollFailures = 0; }
          if (!state.busy) {
            data.messages.forEach(P.renderMessage);
            state.lastSeq = Math.max(state.lastSeq, data.last_seq);
            P.setStatus(data.status);
          } else {
            await sleep(300);
          }
        } catch (e) {
          state.pollFailures += 1;
          if (state.pollFailures > 1) P.showNotice(P.t("reconnecting"), "error");
          await sleep(backoff(state.pollFailures));
        }
      }
      state.polling = false;
    }

    P.sleep = sleep;
    P.load = load;
    P.forget = forget;
    P.headers = headers;
    P.conversationUrl = conversationUrl;
    P.readDetail = readDetail;
    P.ensureConversation = ensureConversation;
    P.send = send;
    P.poll = poll;
  };
})();
