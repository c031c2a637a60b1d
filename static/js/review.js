// Review queue keyboard shortcuts (desktop): j/k next/previous card, a approve, p send back, t reject.
// "p" and "t" need a note: they focus the card's note field; Ctrl+Enter there sends the decision.
(function () {
  "use strict";
  var pending = null; // the decision waiting for its note, e.g. "p"

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("[data-review-card]")); }
  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("[data-review-card]") : null;
  }
  function move(step) {
    var list = cards();
    if (!list.length) { return; }
    var index = list.indexOf(current());
    var next = list[Math.min(Math.max(index + step, 0), list.length - 1)] || list[0];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }
  function press(card, key) {
    var button = card && card.querySelector("[data-decision='" + key + "']");
    if (button) { button.click(); }
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT");
    if (typing) {
      if (target.matches("[data-note]") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        press(target.closest("[data-review-card]"), pending || "p");
        pending = null;
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var card = current();
    if (event.key === "j") { move(1); }
    else if (event.key === "k") { move(-1); }
    else if (event.key === "a" && card) { press(card, "a"); }
    else if ((event.key === "p" || event.key === "t") && card) {
      var note = card.querySelector("[data-note]");
      if (note) { pending = event.key; event.preventDefault(); note.focus(); }
    } else { return; }
  });

  // After a decision swaps a card away, keep the keyboard flow: focus the card that took its place.
  var decidedIndex = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var card = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-review-card]");
    decidedIndex = card ? cards().indexOf(card) : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (decidedIndex === null) { return; }
    var list = cards();
    var still = list[decidedIndex];
    // The swapped element is a card again when the decision failed (e.g. a missing note): leave focus alone.
    if (!document.querySelector(".decided") || (still && still.querySelector("[aria-invalid='true']"))) {
      decidedIndex = null;
      return;
    }
    var next = still || list[list.length - 1];
    if (next) { next.focus(); }
    decidedIndex = null;
  });
})();
