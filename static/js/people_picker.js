/* ORR setup: the named-reviewers list gets a search box that narrows it as you type, and says how many are chosen.
   Without JavaScript the whole list of checkboxes is shown. */
(() => {
  "use strict";
  document.querySelectorAll("[data-people-picker]").forEach((picker) => {
    const search = picker.querySelector("[data-people-search]");
    const count = picker.querySelector("[data-chosen-count]");
    const noMatch = picker.querySelector("[data-no-match]");
    const people = Array.from(picker.querySelectorAll("[data-person]"));
    search.hidden = false;
    const countChosen = () => {
      const chosen = picker.querySelectorAll("input[type=checkbox]:checked").length;
      count.textContent = `${chosen} chosen`;
    };
    search.addEventListener("input", () => {
      const wanted = search.value.trim().toLowerCase();
      let shown = 0;
      people.forEach((person) => {
        const match = !wanted || person.dataset.person.includes(wanted);
        person.hidden = !match;
        if (match) shown += 1;
      });
      noMatch.hidden = shown > 0;
    });
    // Enter in the search box must not submit the area's form.
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") event.preventDefault();
    });
    picker.addEventListener("change", countChosen);
  });
})();
