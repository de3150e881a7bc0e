/* Stagegate autosave: never lose a word.
 *
 * Forms marked `data-autosave` save themselves through htmx. This script keeps what was typed in
 * localStorage until the server has it, shows one save state that stays on screen (#save-state),
 * never lets a login page or a refusal be swapped into a form, retries failed saves, sends the
 * current CSRF cookie (it changes when the person signs in again) and guards leaving the page
 * while something is unsaved.
 */
(() => {
  "use strict";
  const LOGIN_PATH = "/accounts/login/";
  const entries = new Map(); // form action -> {typed, saved, inflight, problem, retry, savedAt}
  const requests = new WeakMap(); // xhr -> {action, seq}

  const actionOf = (form) => form.getAttribute("action");
  const formFor = (action) =>
    Array.from(document.querySelectorAll("form[data-autosave]")).find((f) => actionOf(f) === action);
  const draftKey = (action) => `stagegate:draft:${action}`;

  function entry(action) {
    if (!entries.has(action)) entries.set(action, { typed: 0, saved: 0, inflight: 0, problem: null, retry: 0 });
    return entries.get(action);
  }

  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (_) {
      /* private mode or full storage: the text is still in the form */
    }
  }

  // Which tab wrote a draft: another open tab's unsaved text is its own business, not this page's.
  const tabId = (() => {
    try {
      const id = sessionStorage.getItem("stagegate:tab") || `${Date.now()}-${Math.random()}`;
      sessionStorage.setItem("stagegate:tab", id);
      return id;
    } catch (_) {
      return "";
    }
  })();

  const fieldPairs = (form) =>
    Array.from(new FormData(form)).filter(
      ([name, value]) => name !== "csrfmiddlewaretoken" && !name.startsWith("merged-") && typeof value === "string",
    );

  function remember(form, orphan = false) {
    store(draftKey(actionOf(form)), JSON.stringify({ tab: tabId, orphan, pairs: fieldPairs(form) }));
  }

  function csrfCookie() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : null;
  }

  // ---- the save state everyone sees ------------------------------------------------------------
  const clock = (date) => date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

  function render() {
    const bar = document.getElementById("save-state");
    if (!bar) return;
    const all = Array.from(entries.values());
    const signedOut = all.some((e) => e.problem && e.problem.signedOut);
    const problem = all.find((e) => e.problem && !e.problem.signedOut);
    const busy = all.some((e) => e.inflight || e.typed > e.saved);
    const last = all.map((e) => e.savedAt).filter(Boolean).sort((a, b) => b - a)[0];
    let state;
    let text;
    if (signedOut) {
      state = "signed-out";
      text = "Signed out — sign in again to save";
    } else if (problem) {
      state = "failed";
      text = problem.problem.retrying
        ? `Not saved — retrying (${problem.problem.reason})`
        : `Not saved — ${problem.problem.reason}`;
    } else if (busy) {
      state = "saving";
      text = "Saving…";
    } else if (last) {
      state = "saved";
      text = `Saved at ${clock(last)}`;
    } else {
      state = "idle";
      text = "Every change saves as you type";
    }
    if (bar.dataset.state === state && bar.dataset.text === text) return;
    bar.dataset.state = state;
    bar.dataset.text = text;
    bar.replaceChildren(document.createTextNode(text));
    if (signedOut) {
      const link = document.createElement("a");
      link.href = `${LOGIN_PATH}?next=${encodeURIComponent(location.pathname)}`;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Sign in (opens a new tab)";
      bar.append(" ", link, " — your text is kept here and saves on your next keystroke.");
    }
  }

  // ---- typing ----------------------------------------------------------------------------------
  function edited(event) {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest("[data-no-autosave]")) {
      event.stopPropagation(); // a merged text being written is saved only by its own button
      return;
    }
    const form = event.target.closest("form[data-autosave]");
    if (!form) return;
    entry(actionOf(form)).typed += 1;
    remember(form);
    // While a conflict waits for the author's choice, autosave holds still: it could not save, and redrawing
    // the conflict would close the merged text being written. The choice sends what the fields hold then.
    if (form.querySelector(".conflict")) event.stopPropagation();
    render();
  }
  document.addEventListener("input", edited, true);
  document.addEventListener("change", edited, true);

  // ---- requests --------------------------------------------------------------------------------
  const autosaveForm = (elt) => (elt instanceof Element ? elt.closest("form[data-autosave]") : null);

  document.addEventListener("htmx:configRequest", (event) => {
    const token = csrfCookie();
    if (!token) return;
    // Signing in again (in another tab) changes the token: send the current one, in the header under the key
    // base.html's hx-headers uses and in the form field Django reads first.
    event.detail.headers["x-csrftoken"] = token;
    const data = event.detail.formData;
    if (data && data.has("csrfmiddlewaretoken")) data.set("csrfmiddlewaretoken", token);
    document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((input) => {
      input.value = token;
    });
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = autosaveForm(event.detail.elt);
    if (!form) return;
    const action = actionOf(form);
    const e = entry(action);
    e.inflight += 1;
    requests.set(event.detail.xhr, { action, seq: e.typed });
    render();
  });

  function problemOf(xhr) {
    if (xhr.status === 401 || (xhr.responseURL || "").includes(LOGIN_PATH)) return { signedOut: true };
    if (xhr.status === 403) {
      if (/CSRF/.test(xhr.responseText)) return { signedOut: true };
      const text = new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent.trim();
      return { reason: text || "the server refused the change" };
    }
    if (xhr.status >= 500 || xhr.status === 0) return { reason: `the server answered ${xhr.status}`, retrying: true };
    return null;
  }

  function scheduleRetry(action) {
    const e = entry(action);
    e.retry = Math.min((e.retry || 1000) * 2, 30000);
    window.setTimeout(() => {
      const form = formFor(action);
      if (form && e.problem && e.problem.retrying) window.htmx.trigger(form, "submit");
    }, e.retry);
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const info = requests.get(event.detail.xhr);
    if (!info) return;
    const problem = problemOf(event.detail.xhr);
    if (!problem) return;
    // Leave the form exactly as it is: no login page, no refusal page inside it.
    event.detail.shouldSwap = false;
    event.detail.isError = false;
    info.problem = problem;
  });

  function failed(event, reason) {
    const info = requests.get(event.detail.xhr);
    if (info && !info.problem) info.problem = { reason, retrying: true };
  }
  document.addEventListener("htmx:sendError", (event) => failed(event, "no connection to Stagegate"));
  document.addEventListener("htmx:timeout", (event) => failed(event, "Stagegate did not answer in time"));

  document.addEventListener("htmx:sendAbort", (event) => {
    const info = requests.get(event.detail.xhr);
    if (info) info.aborted = true; // replaced by a newer request (a conflict choice): that one reports
  });

  // htmx says afterRequest before sendError / sendAbort: settle once those have had their say.
  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    if (requests.has(xhr)) window.setTimeout(() => settle(xhr), 0);
  });

  function settle(xhr) {
    const info = requests.get(xhr);
    requests.delete(xhr);
    const e = entry(info.action);
    e.inflight = Math.max(0, e.inflight - 1);
    const form = formFor(info.action);
    if (info.aborted) {
      // nothing to say
    } else if (info.problem) {
      e.problem = info.problem;
      if (e.problem.retrying) scheduleRetry(info.action);
    } else if (form && form.querySelector(".conflict")) {
      e.problem = { reason: "someone else changed this section; choose which text to keep below" };
    } else if (form && form.querySelector(".section-status .error")) {
      e.problem = { reason: form.querySelector(".section-status .error").textContent.replace(/^Not saved:\s*/, "") };
    } else {
      e.problem = null;
      e.retry = 0;
      e.saved = Math.max(e.saved, info.seq);
      e.savedAt = new Date();
      if (e.saved >= e.typed) store(draftKey(info.action), null);
    }
    render();
  }

  // Back from the sign-in tab: try the signed-out saves again at once.
  window.addEventListener("focus", () => {
    for (const [action, e] of entries) {
      const form = formFor(action);
      if (form && e.problem && e.problem.signedOut && e.typed > e.saved) window.htmx.trigger(form, "submit");
    }
  });

  // ---- leaving ---------------------------------------------------------------------------------
  window.addEventListener("beforeunload", (event) => {
    const unsaved = Array.from(entries.values()).some((e) => e.inflight || e.problem || e.typed > e.saved);
    if (unsaved) {
      event.preventDefault();
      event.returnValue = ""; // older browsers ask for this to show their "leave site?" dialog
    }
  });

  // ---- a draft left by an earlier visit --------------------------------------------------------
  // Leaving with text unsaved (the person chose to leave): any later visit may bring it back.
  window.addEventListener("pagehide", () => {
    for (const [action, e] of entries) {
      const form = formFor(action);
      if (form && e.typed > e.saved) remember(form, true);
    }
  });

  function restore(form) {
    let draft;
    try {
      draft = JSON.parse(localStorage.getItem(draftKey(actionOf(form))) || "null");
    } catch (_) {
      draft = null;
    }
    if (!draft || !Array.isArray(draft.pairs) || (draft.tab !== tabId && !draft.orphan)) return;
    if (JSON.stringify(fieldPairs(form)) === JSON.stringify(draft.pairs)) {
      store(draftKey(actionOf(form)), null);
      return;
    }
    for (const element of form.elements) {
      if (!element.name || element.name === "csrfmiddlewaretoken") continue;
      const values = draft.pairs.filter(([name]) => name === element.name).map(([, value]) => value);
      if (element.type === "checkbox" || element.type === "radio") element.checked = values.includes(element.value);
      else if (values.length) element.value = values[0];
    }
    entry(actionOf(form)).typed += 1;
    remember(form);
    // Saved with the version and base the text was written on: a change made meanwhile shows as a conflict.
    window.htmx.trigger(form, "submit");
  }

  // The live page asks before it redraws a section: is something typed here not saved yet, or on its way?
  window.stagegateAutosave = {
    unsaved(form) {
      const e = entries.get(actionOf(form));
      return Boolean(e && (e.inflight || e.problem || e.typed > e.saved));
    },
    inflight(form) {
      const e = entries.get(actionOf(form));
      return Boolean(e && e.inflight);
    },
    // The person chose to reload a section with the saved text: what they typed there is dropped, not kept.
    forget(form) {
      const e = entries.get(actionOf(form));
      if (e) Object.assign(e, { saved: e.typed, problem: null, retry: 0 });
      store(draftKey(actionOf(form)), null);
      render();
    },
  };

  function start() {
    document.querySelectorAll("form[data-autosave]").forEach(restore);
    render();
  }
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
