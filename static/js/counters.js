/* No silent truncation: a field with a length limit counts its characters once they near the limit.
 *
 * A browser cuts pasted text at `maxlength` without a word, so the limit moves to `data-max-length` and the field
 * takes any length: the counter shows from 80% of the limit and says by how much it is over; the server refuses an
 * over-long value with the limit named, and the text stays in the field.
 */
(() => {
  "use strict";
  const SHOW_FROM = 0.8;
  const numbers = new Intl.NumberFormat();

  // Counted as the server counts: characters, not UTF-16 units; a textarea sends each line break as CR LF.
  function length(field) {
    const value = field.value;
    const characters = Array.from(value).length;
    return field.tagName === "TEXTAREA" ? characters + (value.match(/\n/g) || []).length : characters;
  }

  function update(field) {
    const counter = document.getElementById(field.dataset.counter);
    if (!counter) return;
    const limit = Number(field.dataset.maxLength);
    const used = length(field);
    const over = used - limit;
    counter.hidden = used < limit * SHOW_FROM;
    counter.classList.toggle("over", over > 0);
    counter.textContent =
      over > 0
        ? `${numbers.format(used)} of ${numbers.format(limit)} characters: ${numbers.format(over)} too many. ` +
          "It is not saved until it is shorter."
        : `${numbers.format(used)} of ${numbers.format(limit)} characters`;
    field.toggleAttribute("aria-invalid", over > 0);
  }

  function setUp(root) {
    const scope = root instanceof Element || root instanceof Document ? root : document;
    const fields = Array.from(scope.querySelectorAll("input[maxlength], textarea[maxlength], [data-max-length]"));
    if (scope instanceof Element && scope.matches("input, textarea")) fields.push(scope);
    for (const field of fields) {
      if (field.hasAttribute("maxlength")) {
        field.dataset.maxLength = field.getAttribute("maxlength");
        field.removeAttribute("maxlength");
      }
      if (field.dataset.counter && document.getElementById(field.dataset.counter)) continue;
      const id = `${field.id || field.name || "field"}-count`;
      const counter = document.createElement("p");
      counter.className = "char-count";
      counter.id = id;
      counter.hidden = true;
      field.after(counter);
      field.dataset.counter = id;
      const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (!described.includes(id)) field.setAttribute("aria-describedby", [...described, id].join(" "));
      update(field);
    }
  }

  document.addEventListener(
    "input",
    (event) => {
      if (event.target instanceof Element && event.target.dataset.counter) update(event.target);
    },
    true,
  );
  if (window.htmx) window.htmx.onLoad(setUp);
  else document.addEventListener("DOMContentLoaded", () => setUp(document));
})();
