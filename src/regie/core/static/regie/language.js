// The language menu takes effect as soon as a language is chosen (core/_language.html); without
// JavaScript its "Kies" button does the same. A file, not an inline handler: the
// Content-Security-Policy runs scripts from this site only.
"use strict";
document.querySelectorAll("select[data-submit-on-change]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
