/* xiezuo site script. Loaded from a static file on every page: the Content-Security-Policy
   allows no inline scripts, so page behaviour is declared with data- attributes and wired here. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests that change data carry Django's CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var method = (event.detail.verb || "get").toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
    }
  });

  // A session that expired during polling: go to the login page instead of swapping it into a row.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/login/") !== -1) {
      event.detail.shouldSwap = false;
      window.location.href = xhr.responseURL;
    } else if (xhr && xhr.status === 404) {
      // A job that is gone or out of scope: stop polling its row. htmx polls only elements still
      // in the page, so swap the row for an unprocessed copy of itself.
      var target = event.detail.target;
      event.detail.shouldSwap = false;
      if (target && target.parentNode) {
        var copy = target.cloneNode(true);
        copy.removeAttribute("hx-get");
        copy.removeAttribute("hx-trigger");
        target.replaceWith(copy);
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    // <select data-autosubmit> submits its form on change.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () {
        if (el.form) { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); }
      });
    });
    // <form data-confirm="question"> asks before submitting.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
