/* What the admin's markup asks for by data attributes: the CSP allows no inline script. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches("select[data-autosubmit]") && field.form) { field.form.submit(); }
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
