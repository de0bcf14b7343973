// Nudge agent console: forms without page reloads, live lists, keyboard shortcuts.
// Served as a file (the Content-Security-Policy forbids inline scripts); no libraries.
"use strict";

(function () {
  const body = document.body;
  const prefix = body.dataset.prefix;
  if (!prefix) return; // the login and error pages need none of this
  const csrf = body.dataset.csrf;
  const POLL_MS = Number(body.dataset.pollMs || 2000);
  const MAX_BACKOFF_MS = 15000;
  const LISTS_EVERY_MS = 30000; // waiting times and SLA colours move even when nothing happens
  let lastEvent = Number(body.dataset.lastEvent || 0);
  let failures = 0;
  let listsAt = Date.now();

  function flash(message, ok) {
    const box = document.getElementById("flash");
    box.textContent = message;
    box.className = ok ? "ok" : "error";
  }

  function toLogin() {
    window.location.assign(prefix + "/login?next=" + encodeURIComponent(location.pathname));
  }

  async function get(url) {
    const response = await fetch(url, {
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
      cache: "no-store",
    });
    if (response.status === 401) {
      toLogin();
      throw new Error("logged out");
    }
    return response;
  }

  function parse(html) {
    return new DOMParser().parseFromString(html, "text/html");
  }

  function swap(doc, id) {
    const fresh = doc.getElementById(id);
    const old = document.getElementById(id);
    if (fresh && old) old.replaceWith(document.importNode(fresh, true));
  }

  async function refreshLists() {
    if (!document.getElementById("queue")) return;
    const response = await get(prefix + "/fragments/lists");
    if (!response.ok) return;
    const doc = parse(await response.text());
    const selected = body.dataset.handoff;
    swap(doc, "queue");
    swap(doc, "mine");
    if (selected) {
      document.querySelectorAll('.chat-row[data-handoff="' + selected + '"]')
        .forEach((row) => row.classList.add("selected"));
    }
    listsAt = Date.now();
  }

  function nearBottom(element) {
    return element.scrollHeight - element.scrollTop - element.clientHeight < 80;
  }

  function scrollToEnd() {
    const timeline = document.getElementById("timeline");
    if (timeline) timeline.scrollTop = timeline.scrollHeight;
  }

  async function refreshChat() {
    const handoff = body.dataset.handoff;
    if (!handoff) return;
    const response = await get(prefix + "/fragments/chats/" + handoff);
    if (!response.ok) return;
    const doc = parse(await response.text());
    const head = document.getElementById("chat-head");
    const freshHead = doc.getElementById("chat-head");
    if (!head || !freshHead) return;
    const timeline = document.getElementById("timeline");
    const stick = !timeline || nearBottom(timeline);
    if (head.dataset.open !== freshHead.dataset.open) {
      // Opened or closed: the buttons and the reply box change too.
      const section = document.getElementById("conversation");
      section.replaceChildren(...Array.from(doc.body.childNodes, (n) => document.importNode(n, true)));
    } else {
      swap(doc, "chat-head");
      swap(doc, "timeline");
    }
    if (stick) scrollToEnd();
  }

  async function refreshAll() {
    await Promise.all([refreshLists(), refreshChat()]);
  }

  // The dashboard: a board whose period reaches the present is fetched again every
  // data-refresh-seconds while its tab is visible (a hidden tab catches up when shown).
  // Only the board and its "Updated" line are swapped: a date being typed in the picker stays.
  const dashboard = document.getElementById("dashboard");
  const BOARD_MS = Number(dashboard?.dataset.refreshSeconds || 0) * 1000;
  let boardAt = Date.now();

  async function refreshBoard() {
    const label = document.getElementById("dash-updated");
    try {
      const response = await get(location.href);
      if (!response.ok) throw new Error("HTTP " + response.status);
      const doc = parse(await response.text());
      swap(doc, "board");
      swap(doc, "dash-updated");
    } catch (error) {
      // What is shown stays; it says so, and the next turn tries again.
      if (label) {
        label.classList.add("stale");
        label.textContent = label.textContent.split(" · ")[0] + " · could not refresh, retrying";
      }
    }
    boardAt = Date.now();
  }

  async function boardTurn() {
    if (!document.hidden) await refreshBoard();
    window.setTimeout(boardTurn, BOARD_MS);
  }

  if (dashboard && BOARD_MS > 0) {
    window.setTimeout(boardTurn, BOARD_MS);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && Date.now() - boardAt >= BOARD_MS) refreshBoard();
    });
  }

  function fieldsBusy() {
    const active = document.activeElement;
    const typing = active && (active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    const edited = Array.from(document.querySelectorAll("textarea"))
      .some((area) => area.value !== area.defaultValue);
    return typing || edited;
  }

  async function onChanges(changes) {
    if (changes.reset) {
      await refreshAll();
      return;
    }
    if (body.dataset.reload === "yes") {
      if (changes.changed.length && !fieldsBusy()) location.reload();
      return;
    }
    const conversation = Number(body.dataset.conversation || 0);
    const tasks = [];
    if (changes.changed.length || Date.now() - listsAt > LISTS_EVERY_MS) tasks.push(refreshLists());
    if (conversation && changes.changed.includes(conversation)) tasks.push(refreshChat());
    await Promise.all(tasks);
  }

  async function poll() {
    try {
      const response = await get(prefix + "/api/changes?after=" + lastEvent);
      if (!response.ok) throw new Error("HTTP " + response.status);
      const changes = await response.json();
      await onChanges(changes);
      lastEvent = changes.last;
      if (failures > 0) flash("Connected again.", true);
      failures = 0;
    } catch (error) {
      failures += 1; // the server restarts or the network is gone: keep trying, slower
      if (failures === 3) flash("Connection lost; retrying…", false);
    }
    const delay = Math.min(POLL_MS * Math.max(1, failures), MAX_BACKOFF_MS);
    window.setTimeout(poll, delay);
  }

  async function submit(form) {
    if (form.dataset.busy === "yes") return;
    form.dataset.busy = "yes";
    const buttons = form.querySelectorAll("button");
    buttons.forEach((button) => { button.disabled = true; });
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "X-Requested-With": "fetch", "X-CSRF-Token": csrf },
        credentials: "same-origin",
      });
      if (response.status === 401) return toLogin();
      const result = await response.json();
      flash(result.message, result.ok);
      if (result.location) return window.location.assign(result.location);
      if (result.ok) {
        form.querySelectorAll("textarea").forEach((area) => { area.value = ""; area.defaultValue = ""; });
        form.querySelectorAll("select").forEach((select) => { select.selectedIndex = 0; });
      }
      if (body.dataset.reload === "yes" && result.ok) return location.reload();
      await refreshAll();
      scrollToEnd();
    } catch (error) {
      flash("Could not reach the server; nothing was sent. Try again.", false);
    } finally {
      form.dataset.busy = "";
      buttons.forEach((button) => { button.disabled = false; });
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("js-action")) return;
    event.preventDefault();
    submit(form);
  });

  function newline(area) {
    area.setRangeText("\n", area.selectionStart, area.selectionEnd, "end");
  }

  function onComposeKey(event) {
    const area = event.target;
    if (event.key !== "Enter" || event.isComposing) return false;
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      newline(area);
    } else if (!event.shiftKey && !event.altKey) {
      event.preventDefault();
      if (area.value.trim()) area.form.requestSubmit();
    }
    return true;
  }

  function moveInMine(step) {
    const links = Array.from(document.querySelectorAll("#mine .chat-link"));
    if (!links.length) return;
    const current = links.findIndex((link) => link.closest(".chat-row").classList.contains("selected"));
    const next = current < 0 ? 0 : (current + step + links.length) % links.length;
    window.location.assign(links[next].href);
  }

  const KEYS = {
    r: () => document.getElementById("reply-text")?.focus(),
    n: () => document.getElementById("note-text")?.focus(),
    j: () => moveInMine(1),
    k: () => moveInMine(-1),
    g: () => document.querySelector("#queue .chat-link")?.click(),
    "?": () => document.getElementById("help")?.showModal(),
  };

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target instanceof HTMLTextAreaElement && target.form?.classList.contains("js-compose")) {
      if (onComposeKey(event)) return;
    }
    if (event.key === "Escape" && target instanceof HTMLElement) target.blur();
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement
      || target instanceof HTMLSelectElement;
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const action = KEYS[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.getElementById("help-toggle")?.addEventListener("click", KEYS["?"]);
  document.getElementById("flash")?.addEventListener("click", (event) => {
    event.currentTarget.textContent = "";
    event.currentTarget.className = "";
  });
  scrollToEnd();
  // The desk and the supervisors' page follow changes; the dashboard refreshes its board.
  if (!dashboard) window.setTimeout(poll, POLL_MS);
})();
