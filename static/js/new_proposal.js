/* New proposal: the title's placeholder and hint follow the chosen template version's title format. */
(() => {
  "use strict";
  const form = document.querySelector("form.new-proposal");
  if (!form) return;
  const title = form.querySelector("input[name=title]");
  const hint = form.querySelector("[data-title-hint]");
  form.addEventListener("change", (event) => {
    const pattern = event.target.dataset ? event.target.dataset.titlePattern : undefined;
    if (pattern === undefined) return;
    title.placeholder = pattern;
    if (hint) hint.textContent = pattern;
  });
})();
