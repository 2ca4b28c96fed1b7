/*
 * Parley chat widget, the words of its own interface in the shop's languages (loaded first by widget.js).
 * The language: the tag's data-lang, else the page's <html lang>, else the browser's; English when none of
 * them is one of ours. Replies come from the API in the customer's language; these are the buttons, labels
 * and notices around them, and they follow the conversation's language once the customer has written
 * (the API's `language`, see widget-ui.js relabel).
 */
(function () {
  "use strict";
  window.__parleyParts = window.__parleyParts || {};

  var TEXTS = {
    en: {
      help: "Help",
      openChat: "Open chat",
      greeting: "Hi! Ask me about orders, returns, delivery or our products.",
      yourMessage: "Your message",
      placeholder: "Type your message\u2026",
      send: "Send",
      endChat: "End chat",
      talkToPerson: "Talk to a person",
      askForPerson: "I would like to talk to a person, please.",
      teamMember: "Team member",
      team: "team",
      helpArticle: "Help article",
      pleaseConfirm: "Please confirm: ",
      yesGoAhead: "Yes, go ahead",
      noDont: "No, don't",
      connecting: "You're being connected to a member of our team. They will see this whole conversation.",
      connectingShort: "You're being connected to a member of our team. ",
      joined: "A member of our team has joined the conversation.",
      closed: "This conversation is closed. Write again to start a new one.",
      botAgain: "You're chatting with our assistant again.",
      answerNotSaved: "We couldn't save your answer.",
      couldNotEnd: "We couldn't end the chat; please try again.",
      somethingWrong: "Something went wrong.",
      connectingNet: "Connecting\u2026",
      reconnecting: "Connection lost \u2014 reconnecting\u2026",
      sources: "Sources:",
      closeChat: "Close chat",
      conversation: "Conversation",
      assistantTyping: "The assistant is typing",
      quickReplies: "Quick replies",
      expired: "Your conversation has expired; starting a new one.",
      unreachable: "We couldn't reach the help desk. Please try again.",
    },
    fr: {
      help: "Aide",
      openChat: "Ouvrir la discussion",
      greeting: "Bonjour ! Posez-moi vos questions sur les commandes, les retours, la livraison ou nos produits.",
      yourMessage: "Votre message",
      placeholder: "\u00c9crivez votre message\u2026",
      send: "Envoyer",
      endChat: "Terminer",
      talkToPerson: "Parler \u00e0 un conseiller",
      askForPerson: "Je voudrais parler \u00e0 un conseiller, s'il vous pla\u00eet.",
      teamMember: "Membre de l'\u00e9quipe",
      team: "\u00e9quipe",
      helpArticle: "Article d'aide",
      pleaseConfirm: "Merci de confirmer : ",
      yesGoAhead: "Oui, allez-y",
      noDont: "Non, merci",
      connecting: "Nous vous mettons en relation avec un membre de notre \u00e9quipe. Il verra toute cette conversation.",
      connectingShort: "Nous vous mettons en relation avec un membre de notre \u00e9quipe. ",
      joined: "Un membre de notre \u00e9quipe a rejoint la conversation.",
      closed: "Cette conversation est termin\u00e9e. \u00c9crivez \u00e0 nouveau pour en commencer une autre.",
      botAgain: "Vous discutez \u00e0 nouveau avec notre assistant.",
      answerNotSaved: "Nous n'avons pas pu enregistrer votre r\u00e9ponse.",
      couldNotEnd: "Nous n'avons pas pu terminer la conversation ; veuillez r\u00e9essayer.",
      somethingWrong: "Une erreur s'est produite.",
      connectingNet: "Connexion\u2026",
      reconnecting: "Connexion perdue \u2014 reconnexion\u2026",
      sources: "Sources\u00a0:",
      closeChat: "Fermer la discussion",
      conversation: "Conversation",
      assistantTyping: "L'assistant est en train d'\u00e9crire",
      quickReplies: "R\u00e9ponses rapides",
      expired: "Votre conversation a expir\u00e9 ; nous en commen\u00e7ons une nouvelle.",
      unreachable: "Nous n'avons pas pu joindre le service client. Veuillez r\u00e9essayer.",
    },
    nl: {
      help: "Hulp",
      openChat: "Chat openen",
      greeting: "Hallo! Stel me uw vragen over bestellingen, retouren, bezorging of onze producten.",
      yourMessage: "Uw bericht",
      placeholder: "Typ uw bericht\u2026",
      send: "Versturen",
      endChat: "Chat be\u00ebindigen",
      talkToPerson: "Met een medewerker praten",
      askForPerson: "Ik wil graag met een medewerker spreken, alstublieft.",
      teamMember: "Teamlid",
      team: "team",
      helpArticle: "Helpartikel",
      pleaseConfirm: "Bevestig alstublieft: ",
      yesGoAhead: "Ja, ga je gang",
      noDont: "Nee, niet doen",
      connecting: "We verbinden u met een medewerker van ons team. Die ziet dit hele gesprek.",
      connectingShort: "We verbinden u met een medewerker van ons team. ",
      joined: "Een medewerker van ons team neemt deel aan het gesprek.",
      closed: "Dit gesprek is afgesloten. Schrijf opnieuw om een nieuw gesprek te beginnen.",
      botAgain: "U chat weer met onze assistent.",
      answerNotSaved: "We konden uw antwoord niet opslaan.",
      couldNotEnd: "We konden de chat niet be\u00ebindigen; probeer het opnieuw.",
      somethingWrong: "Er ging iets mis.",
      connectingNet: "Verbinden\u2026",
      reconnecting: "Verbinding verbroken \u2014 opnieuw verbinden\u2026",
      sources: "Bronnen:",
      closeChat: "Chat sluiten",
      conversation: "Gesprek",
      assistantTyping: "De assistent is aan het typen",
      quickReplies: "Snelle antwoorden",
      expired: "Uw gesprek is verlopen; we beginnen een nieuw gesprek.",
      unreachable: "We konden de klantenservice niet bereiken. Probeer het opnieuw.",
    },
  };

  function pick(candidates) {
    for (var i = 0; i < candidates.length; i++) {
      var code = String(candidates[i] || "").toLowerCase().split("-")[0];
      if (TEXTS[code]) return code;
    }
    return "en";
  }

  /* P.lang and P.t(key) start in the page's language; P.setLang(code) moves them to the conversation's
   * language once the API names it (one of ours only: anything else keeps the current words). */
  window.__parleyParts.i18n = function (P, script) {
    P.lang = pick([
      script && script.getAttribute("data-lang"),
      document.documentElement.getAttribute("lang"),
      navigator.language,
    ]);
    P.t = function (key, lang) {
      var texts = TEXTS[lang || P.lang];
      return (texts && texts[key]) || TEXTS.en[key] || key;
    };
    P.textKeys = Object.keys(TEXTS.en);
    P.setLang = function (code) {
      code = String(code || "").toLowerCase().split("-")[0];
      if (!TEXTS[code] || code === P.lang) return false;
      P.lang = code;
      return true;
    };
  };
})();
