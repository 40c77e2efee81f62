// osseo-mdt admin behaviour. A static file: the Content-Security-Policy allows no inline script.
"use strict";
(function () {
  // A button with data-confirm asks first (moving a case to declined, withdrawn, ...).
  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // One press per form: a second click while the page posts would be refused anyway (the
  // case moved already), but it would show a confusing message.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.closest(".omdt")) {
      return;
    }
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    const pressed = event.submitter;
    if (pressed && pressed.name) {
      // Disabled buttons are not posted: keep the pressed button's value.
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = pressed.name;
      hidden.value = pressed.value;
      form.appendChild(hidden);
    }
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
    });
  });
})();

// Coming back to a page from the browser's history shows it as it was left: enable again.
window.addEventListener("pageshow", function (event) {
  if (event.persisted) {
    document.querySelectorAll(".omdt form").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    });
  }
});
