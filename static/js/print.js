// The invoice page's Print button (templates/billing/invoice.html, data-print): a script file
// rather than an onclick attribute, so the page runs under a Content-Security-Policy that allows
// no inline script. What the printout leaves out is static/css/billing.css's print section.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
