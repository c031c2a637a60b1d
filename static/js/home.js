// Mentor home: "Terdekat" asks the phone for its position once and re-sorts the list nearest first.
(function () {
  "use strict";
  var button = document.querySelector("[data-sort-nearest]");
  var form = document.getElementById("work-filters");
  if (!button || !form || !("geolocation" in navigator)) { if (button) { button.hidden = true; } return; }
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      form.querySelector("[data-position=lat]").value = position.coords.latitude.toFixed(5);
      form.querySelector("[data-position=lon]").value = position.coords.longitude.toFixed(5);
      button.disabled = false;
      if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
    }, function () {
      button.disabled = false;
      var toast = document.getElementById("connection-message");
      if (toast) {
        toast.textContent = button.dataset.denied;
        toast.hidden = false;
        window.setTimeout(function () { toast.hidden = true; }, 6000);
      }
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  });
})();
