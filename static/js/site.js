/* The small-screen menu: one button shows and hides the navigation (without JavaScript it is always shown). */
(() => {
  "use strict";
  document.documentElement.classList.add("js");
  const button = document.querySelector(".menu-button");
  if (!button) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    document.documentElement.classList.toggle("menu-open", open);
  });
})();
