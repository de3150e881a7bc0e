/* The proposal edit page: the outline, the personas picker, folded panels that stay as the person left them,
 * and the live page (what changed elsewhere shows up here, and a section being edited warns before it saves).
 */
(() => {
  "use strict";
  const page = document.getElementById("edit-page");
  if (!page || !window.htmx) return;
  const htmx = window.htmx;
  const autosave = window.stagegateAutosave || { unsaved: () => false, inflight: () => false, forget() {} };
  const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

  const within = (root, selector) =>
    root instanceof Element ? [...(root.matches(selector) ? [root] : []), ...root.querySelectorAll(selector)] : [];

  // ---- folded panels keep their state when htmx redraws them (the gates panel does after every save) -------
  const opened = new Map();
  document.addEventListener(
    "toggle",
    (event) => {
      const details = event.target;
      if (details instanceof HTMLDetailsElement && details.id && details.hasAttribute("data-remember-open")) {
        opened.set(details.id, details.open);
      }
    },
    true,
  );

  // ---- the outline: a sidebar on wide screens, a bar that folds out on narrow ones ---------------------------
  let outlineOpen = false;
  function showOutline(open) {
    outlineOpen = open;
    const nav = document.getElementById("edit-outline");
    if (!nav) return;
    nav.querySelector(".outline-toggle").setAttribute("aria-expanded", String(open));
  }
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    const toggle = event.target.closest(".outline-toggle");
    if (toggle) showOutline(toggle.getAttribute("aria-expanded") !== "true");
    else if (outlineOpen && event.target.closest(".outline-list a")) showOutline(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && outlineOpen) {
      showOutline(false);
      document.querySelector("#edit-outline .outline-toggle").focus();
    }
  });

  // The part in view is marked in the outline.
  let current = "";
  function markCurrent() {
    for (const link of document.querySelectorAll("#edit-outline .outline-list a")) {
      if (link.getAttribute("href") === `#${current}`) link.setAttribute("aria-current", "location");
      else link.removeAttribute("aria-current");
    }
  }
  const watcher =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          (seen) => {
            const top = seen.filter((entry) => entry.isIntersecting).sort((a, b) => a.boundingClientRect.top - b.boundingClientRect.top)[0];
            if (top) {
              current = top.target.id;
              markCurrent();
            }
          },
          { rootMargin: "-20% 0px -70% 0px" },
        )
      : null;

  // ---- personas: search the template's list, tick, and write anyone else in the text below -----------------
  function filterPersonas(input) {
    const picker = input.closest(".persona-picker");
    const query = input.value.trim().toLowerCase();
    const options = [...picker.querySelectorAll(".persona-options li")];
    let shown = 0;
    for (const option of options) {
      const match = !query || option.textContent.toLowerCase().includes(query);
      option.hidden = !match;
      shown += match ? 1 : 0;
    }
    picker.querySelector(".persona-none").hidden = shown > 0;
    picker.querySelector(".persona-shown").textContent = query
      ? `${shown} of ${options.length} personas match “${input.value.trim()}”`
      : "";
  }
  function showChosen(picker) {
    const chosen = [...picker.querySelectorAll(".persona-options input:checked")].map((box) =>
      box.closest("label").textContent.trim(),
    );
    picker.querySelector(".persona-chosen").textContent = chosen.length
      ? `Chosen: ${chosen.join(", ")}`
      : "None chosen from the list yet.";
  }
  document.addEventListener(
    "input",
    (event) => {
      if (event.target instanceof Element && event.target.matches(".persona-search input")) filterPersonas(event.target);
    },
    true,
  );
  document.addEventListener("change", (event) => {
    if (event.target instanceof Element && event.target.matches(".persona-options input")) {
      showChosen(event.target.closest(".persona-picker"));
    }
  });
  document.addEventListener(
    "keydown",
    (event) => {
      const input = event.target;
      if (event.key !== "Enter" || !(input instanceof Element) || !input.matches(".persona-search input")) return;
      // Enter never submits the section from the search box; with one persona left it ticks that one.
      event.preventDefault();
      const left = [...input.closest(".persona-picker").querySelectorAll(".persona-options li:not([hidden]) input")];
      if (left.length === 1) left[0].click();
    },
    true,
  );

  // ---- everything htmx (or the live page) draws passes here ------------------------------------------------
  function drawn(root) {
    for (const details of within(root, "details[data-remember-open][id]")) {
      if (opened.has(details.id)) details.open = opened.get(details.id);
    }
    if (within(root, "#edit-outline").length) {
      showOutline(outlineOpen);
      markCurrent();
    }
    for (const picker of within(root, ".persona-picker")) {
      if (!picker.querySelector(".persona-chosen")) {
        const chosen = document.createElement("p");
        chosen.className = "persona-chosen";
        picker.querySelector(".persona-options").before(chosen);
      }
      showChosen(picker);
      const search = picker.querySelector(".persona-search input");
      if (search.value) filterPersonas(search);
    }
    if (watcher) {
      for (const part of within(root, ".edit-main section.section-card[id]")) {
        watcher.observe(part);
      }
    }
    // A conflict the server shows replaces the live warning about the same section.
    for (const conflict of within(root, ".conflict")) {
      const section = conflict.closest("[data-section]");
      if (section) section.querySelectorAll(".live-warning").forEach((warning) => warning.remove());
    }
  }
  htmx.onLoad(drawn);
  // Out-of-band parts (the outline a save redraws) are not announced by htmx:load: catch them as they land.
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    const target = event.detail.target || event.target;
    if (target instanceof Element) drawn(document.getElementById(target.id) || target);
  });

  // ---- the live page -------------------------------------------------------------------------------------
  const liveUrl = page.dataset.liveUrl;
  const pollEvery = window.STAGEGATE_LIVE_POLL_MS || 10000;
  let token = page.dataset.liveToken;
  let fresh = null; // the edit page as the server last drew it
  let latest = null; // the poll's last answer: who changed which section, when
  const waiting = new Map(); // part id -> the node that waits for its person to leave it
  const keptTyping = new Map(); // section key -> the saved text's fingerprint the person chose to type over
  let stopped = false;

  // The page's own saves say the token before and after them: when it knew the first, the second is its own.
  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    const before = xhr && xhr.getResponseHeader("X-Live-Before");
    if (before && before === token) token = xhr.getResponseHeader("X-Live-After") || token;
  });

  const baseOf = (root) => {
    const input = root && root.querySelector("form[data-autosave] input[name=base]");
    return input ? input.value : null;
  };

  function typedHere(part) {
    if (part.contains(document.activeElement) && document.activeElement !== document.body) return true;
    for (const form of part.querySelectorAll("form[data-autosave]")) if (autosave.unsaved(form)) return true;
    return [...part.querySelectorAll("textarea, input[type=text], input[type=url]")].some(
      (field) => !field.closest("form[data-autosave]") && field.value !== field.defaultValue,
    );
  }

  function swapIn(part, replacement) {
    waiting.delete(part.id);
    htmx.swap(part, replacement.outerHTML, { swapStyle: "outerHTML" });
  }

  function warn(part, key, base) {
    if (keptTyping.get(key) === base) return;
    const shown = part.querySelector(".live-warning");
    if (shown && shown.dataset.base === base) return;
    if (shown) shown.remove();
    const change = (latest && (latest.changes[key] || latest.latest)) || null;
    const warning = document.createElement("div");
    warning.className = "live-warning";
    warning.setAttribute("role", "alert");
    warning.dataset.base = base;
    const text = document.createElement("p");
    const who = change ? `${change.by} at ${clock(change.at)}` : "someone else";
    text.innerHTML = "<strong></strong> ";
    text.firstChild.textContent = `This section was changed elsewhere by ${who} while you were editing it.`;
    text.append(
      "Reload it to see their text (what you typed here since your last save is dropped), or keep typing: " +
        "when yours saves, you compare both texts and choose.",
    );
    const actions = document.createElement("div");
    actions.className = "live-actions";
    const reload = document.createElement("button");
    reload.type = "button";
    reload.textContent = "Reload this section";
    reload.addEventListener("click", async () => {
      await fetchPage();
      const replacement = fresh && fresh.getElementById(part.id);
      const form = part.querySelector("form[data-autosave]");
      if (form) autosave.forget(form);
      if (replacement) swapIn(part, replacement);
      const heading = document.getElementById(`${part.id}-title`);
      if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
    });
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "secondary";
    keep.textContent = "Keep typing";
    keep.addEventListener("click", () => {
      keptTyping.set(key, base);
      warning.remove();
      const field = part.querySelector("form[data-autosave] textarea, form[data-autosave] input:not([type=hidden])");
      if (field) field.focus();
    });
    actions.append(reload, keep);
    warning.append(text, actions);
    part.querySelector("h2").after(warning);
  }

  // One part of the page against the server's drawing of it: refresh it, warn, or wait for its person to leave it.
  function bringUpToDate(part) {
    const replacement = fresh && fresh.getElementById(part.id);
    if (!replacement) return;
    const key = part.dataset.section;
    if (key) {
      const base = baseOf(part);
      const newBase = baseOf(replacement);
      if (base === null || newBase === null || base === newBase) return waiting.delete(part.id);
      const form = part.querySelector("form[data-autosave]");
      if (part.querySelector(".conflict")) return waiting.delete(part.id);
      if (autosave.inflight(form)) return waiting.set(part.id, part); // its own save may be what changed it
      if (typedHere(part)) {
        warn(part, key, newBase);
        return waiting.set(part.id, part);
      }
      return swapIn(part, replacement);
    }
    if (typedHere(part)) return waiting.set(part.id, part);
    swapIn(part, replacement);
  }

  async function fetchPage() {
    const response = await fetch(location.pathname, { cache: "no-store", credentials: "same-origin" });
    if (response.redirected || !response.ok) return false;
    fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const drawn = fresh.getElementById("edit-page");
    if (drawn && drawn.dataset.liveToken) token = drawn.dataset.liveToken;
    return true;
  }

  function say(message) {
    let notice = document.getElementById("live-notice");
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "live-notice";
      notice.className = "live-notice";
      notice.setAttribute("role", "alert");
      document.getElementById("save-state").after(notice);
    }
    notice.textContent = message;
  }

  async function poll() {
    if (stopped || document.hidden) return;
    let response;
    try {
      response = await fetch(liveUrl, {
        headers: { "If-None-Match": `"${token}"`, Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch (_) {
      return; // offline for a moment: the next poll tries again
    }
    if (response.status === 304) {
      for (const [id, node] of waiting) {
        if (document.getElementById(id) === node) bringUpToDate(node);
        else waiting.delete(id);
      }
      return;
    }
    if (!response.ok) return; // signed out: autosave says so where it matters
    latest = await response.json();
    if (latest.token === token) return;
    if (latest.closed) {
      stopped = true;
      say("This proposal was closed elsewhere: it is read-only now, and nothing more you type here is saved.");
      return;
    }
    if (!(await fetchPage())) return;
    document.querySelectorAll("[data-live-part][id]").forEach(bringUpToDate);
    // The panels that fetch themselves (stage and review, checklists, GitLab preview, sync badge) do so now.
    htmx.trigger(document.body, "proposal-changed");
  }

  let timer = window.setInterval(poll, pollEvery);
  // Coming back to the tab asks at once.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    window.clearInterval(timer);
    timer = window.setInterval(poll, pollEvery);
    poll();
  });
})();
