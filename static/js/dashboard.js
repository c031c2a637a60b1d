// Dashboard on a phone: the summary first, every section folded to its title (tap to open). Wider screens and the
// page without JavaScript keep every section open.
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(max-width: 40rem)").matches) { return; }
  document.querySelectorAll("details.dash-section[open]").forEach(function (section) { section.open = false; });
})();
