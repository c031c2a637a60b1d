// Kail: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Buttons that only matter without JavaScript (e.g. "Cari" next to a live search) hide once JS runs.
  document.documentElement.classList.add("js");

  // After an htmx swap, move focus to the first invalid field so screen readers announce its error.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target.querySelector("[aria-invalid='true']");
    if (invalid) { invalid.focus(); }
  });

  // A failed htmx request must not fail silently: say so in Indonesian (texts come from the page).
  var toast = document.getElementById("connection-message");
  function say(kind) {
    if (!toast) { return; }
    toast.textContent = toast.dataset[kind];
    toast.hidden = false;
    window.setTimeout(function () { toast.hidden = true; }, 6000);
  }
  // "Print / save as PDF" buttons (the printable report); no inline handlers under the CSP.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });

  document.addEventListener("htmx:sendError", function () { say("offline"); });
  document.addEventListener("htmx:responseError", function () { say("failed"); });
})();
