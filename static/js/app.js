// Kail: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Buttons that only matter without JavaScript (e.g. "Cari" next to a live search) hide once JS runs.
  document.documentElement.classList.add("js");

  // After an htmx swap, move focus to an error message so screen readers announce it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var error = event.detail.target.querySelector("[aria-invalid='true']");
    if (error) { error.focus(); }
  });
})();
