/* Tenantry console: small progressive enhancements; every page works without this file. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A form marked data-once submits once: a double click or a second Enter does nothing
  // (the server keeps the sale exactly-once anyway, through its Idempotency-Key).
  document.querySelectorAll("form[data-once]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach((button) => {
        button.setAttribute("aria-busy", "true");
      });
    });
  });

  // Buttons that ask before acting: data-confirm="Revoke this key?".
  document.querySelectorAll("[data-confirm]").forEach((element) => {
    element.addEventListener("click", (event) => {
      if (!window.confirm(element.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });

  // Copy buttons: data-copy="<element id>" copies that element's text.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source || !navigator.clipboard) {
        return;
      }
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    });
  });

  // Print buttons (receipts, Z reports): the page's print view hides the navigation.
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });

  // Inputs marked data-keep-focus (the till's scan field) get the focus back after any
  // click elsewhere that is not on another input, so a barcode scanner always types there.
  const scan = document.querySelector("[data-keep-focus]");
  if (scan) {
    scan.focus();
    document.addEventListener("click", (event) => {
      if (!event.target.closest("input, select, textarea, button, a")) {
        scan.focus();
      }
    });
  }
});
