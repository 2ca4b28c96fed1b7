/*
 * Parley chat widget, part 3 of 3 (loaded by widget.js): the human desk as the customer sees it - queue
 * position and expected wait (or when the team is back), refreshed while waiting, in the customer's
 * language (the texts come from the API); "End chat"; and the one Customer Effort Score question at close.
 */
(function () {
  "use strict";
  window.__parleyParts = window.__parleyParts || {};

  window.__parleyParts.desk = function (P, config, state, dom) {
    var QUEUE_REFRESH_MS = 10000;
    var watching = false;
    var lastQueueText = "";

    async function queueStatus() {
      var response = await fetch(P.conversationUrl("/queue"), { headers: P.headers() });
      if (!response.ok) throw new Error("queue " + response.status);
      return response.json();
    }

    function showQueue(status) {
      if (!status || !status.text) return;
      lastQueueText = status.text;
      if (status.state === "waiting") {
        P.showNotice(P.t("connectingShort") + status.text, "handover");
      } else if (status.state === "deferred") {
        P.showNotice(status.text, "handover");
      }
    }

    /* While the customer waits (or the team is closed), refresh where they stand. */
    async function watchQueue() {
      if (watching) return;
      watching = true;
      try {
        while (state.conversation) {
          var status = null;
          try { status = await queueStatus(); } catch (e) { /* the poller reports lost connections */ }
          if (status && status.state !== "waiting" && status.state !== "deferred") break;
          if (status && !state.busy) showQueue(status);
          await P.sleep(QUEUE_REFRESH_MS);
        }
      } finally {
        watching = false;
      }
    }

    // --- the effort question at close ----------------------------------------------------------------
    async function askEffort() {
      if (!state.conversation || state.askedEffort === state.conversation.id) return;
      state.askedEffort = state.conversation.id;
      var question;
      try {
        var response = await fetch(P.conversationUrl("/ces"), { headers: P.headers() });
        if (!response.ok) return;
        question = await response.json();
      } catch (e) {
        return;
      }
      if (!question.ask) return;
      var choices = [];
      for (var score = question.scale[0]; score <= question.scale[1]; score++) {
        choices.push([String(score), score, "parley-ces-score"]);
      }
      choices.push([question.skip_label, null, "parley-ces-skip"]);
      var group = P.showChoices(question.question, choices, function (value) { answerEffort(value, question); });
      group.classList.add("parley-ces");
      var scale = P.el("div", "parley-ces-scale");
      scale.appendChild(P.el("span", "parley-ces-low", "1 = " + question.low_label));
      scale.appendChild(P.el("span", "parley-ces-high", question.scale[1] + " = " + question.high_label));
      group.insertBefore(scale, group.children[1]);
    }

    async function answerEffort(score, question) {
      dom.quickReplies.classList.remove("parley-ces");
      try {
        var response = await fetch(P.conversationUrl("/ces"), {
          method: "POST", headers: P.headers(), body: JSON.stringify({ score: score }),
        });
        if (response.ok || response.status === 409) {
          if (score !== null) P.showNotice(question.thanks, "info");
        } else {
          P.showNotice(await P.readDetail(response), "error");
        }
      } catch (e) {
        P.showNotice(P.t("answerNotSaved"), "error");
      }
    }

    async function endChat() {
      if (!state.conversation || dom.endButton.disabled) return;
      dom.endButton.disabled = true;
      try {
        // Clicked while an answer is still arriving: end the chat once it has (never drop the click).
        while (state.busy) await new Promise(function (resolve) { setTimeout(resolve, 100); });
        var response = await fetch(P.conversationUrl("/close"), { method: "POST", headers: P.headers() });
        if (!response.ok) { P.showNotice(await P.readDetail(response), "error"); return; }
        var data = await response.json();
        P.setStatus(data.status);
      } catch (e) {
        P.showNotice(P.t("couldNotEnd"), "error");
      } finally {
        dom.endButton.disabled = false;
      }
    }

    // --- hooks called by the other parts -------------------------------------------------------------
    P.onStatus = function (status) {
      if (status === "waiting_for_human") watchQueue();
      if (status === "closed") askEffort();
    };
    P.onHandover = function () { watchQueue(); };
    P.endChat = endChat;
    P.lastQueueText = function () { return lastQueueText; };
  };
})();
