/* Pacte — rows of a form added and removed in place (the pact editor's lists).
 *
 * htmx fetches a new row from the server and appends it; this script only moves the focus and
 * says what happened (RGAA 7.1):
 *  - after "add a row", the focus goes to the field the row marks data-row-focus (what a person
 *    writes first), else to its first field;
 *  - "Retirer" marks the row removed (its hidden flag, read by the server's formset), hides it,
 *    puts the focus on the add button of its section;
 *  - each time, a polite live region (#row-status) says it in words (texts come from the page,
 *    translated by the server: data-added / data-removed on the list).
 * Without this script the same buttons submit the form and the server does the same.
 * Loaded with <script src defer>; no inline code (strict CSP "script-src 'self'").
 */
"use strict";

(function () {
  function say(text) {
    const region = document.getElementById("row-status");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function firstField(row) {
    return row.querySelector("[data-row-focus]") ||
      row.querySelector("input:not([type=hidden]), select, textarea");
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-row-remove]");
    if (!button) return;
    const row = button.closest("[data-row]");
    const set = button.closest("[data-row-set]");
    if (!row || !set) return;
    event.preventDefault();
    const flag = row.querySelector("input[type=hidden][name$='-DELETE']");
    if (flag) flag.value = "on";
    row.hidden = true;
    const group = row.closest("[data-row-group]") || set;
    const add = group.querySelector("[data-row-add]");
    if (add) add.focus();
    say(set.dataset.removed);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail && event.detail.target;
    if (!target || !target.matches || !target.matches("[data-rows]")) return;
    const rows = target.querySelectorAll("[data-row]:not([hidden])");
    const row = rows[rows.length - 1];
    if (!row) return;
    const field = firstField(row);
    if (field) field.focus();
    const set = target.closest("[data-row-set]");
    if (set) say(set.dataset.added);
  });
})();
