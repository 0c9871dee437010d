/* Pacte — the project page's sections that htmx loads when they scroll into view.
 *
 * Each lazy section is a container [data-section] holding a plain link to the section's own
 * page (what a browser without JavaScript follows); htmx replaces the link by the section's
 * body. This script only tells assistive technologies what happens: the container is
 * aria-busy while its body is on its way, and the page's live region (#section-status) says
 * when a section has arrived, or that it could not be loaded (the link then stays).
 *
 * Loaded with <script src defer>; no inline code (strict CSP "script-src 'self'").
 */
"use strict";

(function () {
  function section(event) {
    const target = event.detail && event.detail.target;
    return target && target.hasAttribute && target.hasAttribute("data-section") ? target : null;
  }

  function announce(text) {
    const status = document.getElementById("section-status");
    if (status && text) {
      status.textContent = text;
    }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = section(event);
    if (target) {
      target.setAttribute("aria-busy", "true");
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const target = section(event);
    if (target) {
      target.setAttribute("aria-busy", "false");
      announce(target.getAttribute("data-loaded"));
    }
  });

  function failed(event) {
    const target = section(event);
    if (target) {
      target.setAttribute("aria-busy", "false");
      announce(target.getAttribute("data-failed"));
    }
  }

  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);
})();
