/* Nudge web chat widget.
 *
 * Embed with one tag:  <script src="https://shop-bot.example/widget.js" async></script>
 * Optional attributes: data-title (panel title), data-lang ("en", "ru", "ro", "ko"),
 * data-position ("right" or "left").
 *
 * No dependencies, no build step. The UI lives in a shadow root with prefixed class names, so
 * the shop's CSS and ours never meet. The bot's replies are Telegram HTML; they are rebuilt
 * node by node from a small allow-list and never assigned to innerHTML.
 */
(function () {
  "use strict";
  if (window.__nudgeWebchat) return; // the tag was pasted twice
  window.__nudgeWebchat = true;

  var script = document.currentScript || (function () {
    var tags = document.querySelectorAll("script[src*='widget.js']");
    return tags[tags.length - 1];
  })();
  var base = new URL(script.src, location.href);
  // The socket lives next to the script, so the widget works wherever the bot is hosted.
  var socketUrl = new URL("webchat/ws", base);
  socketUrl.protocol = base.protocol === "https:" ? "wss:" : "ws:";

  var LANG_RE = /^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}$/;
  var TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;
  var rawLang = script.getAttribute("data-lang") || navigator.language || "";
  var lang = LANG_RE.test(rawLang) ? rawLang : null;
  var KEYS = ["open", "close", "title", "input", "placeholder", "send", "telegram", "offline",
    "unread", "intro"];
  var TEXTS = {
    en: ["Open chat", "Close chat", "Chat with us", "Message", "Type a message…", "Send",
      "Continue in Telegram", "Reconnecting…", "Open chat (new message)",
      "Hi! Ask us anything about orders, delivery, payment or returns."],
    ru: ["Открыть чат", "Закрыть чат", "Напишите нам", "Сообщение", "Введите сообщение…",
      "Отправить", "Продолжить в Telegram", "Переподключение…", "Открыть чат (новое сообщение)",
      "Здравствуйте! Спросите нас о заказе, доставке, оплате или возврате."],
    ro: ["Deschide chatul", "Închide chatul", "Scrie-ne", "Mesaj", "Scrie un mesaj…", "Trimite",
      "Continuă în Telegram", "Se reconectează…", "Deschide chatul (mesaj nou)",
      "Bună! Întreabă-ne orice despre comenzi, livrare, plată sau retururi."],
    ko: ["채팅 열기", "채팅 닫기", "문의하기", "메시지", "메시지를 입력하세요…", "보내기",
      "텔레그램에서 계속하기", "다시 연결 중…", "채팅 열기 (새 메시지)",
      "안녕하세요! 주문, 배송, 결제, 반품에 대해 무엇이든 물어보세요."]
  };
  var words = TEXTS[(lang || "en").slice(0, 2).toLowerCase()] || TEXTS.en, t = {};
  KEYS.forEach(function (key, i) { t[key] = words[i]; });
  var title = script.getAttribute("data-title") || t.title;
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";

  // --- storage: the visitor token and the messages not yet acknowledged survive a reload ---
  var KEY = "nudge-webchat:" + base.host + ":";
  function load(name, fallback) {
    try {
      var value = localStorage.getItem(KEY + name);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) { return fallback; } // storage blocked (privacy mode): keep going in memory
  }
  function save(name, value) {
    try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* ditto */ }
  }
  var token = load("token", null);
  if (typeof token !== "string" || !TOKEN_RE.test(token)) token = null;
  var pending = load("pending", []);
  if (!Array.isArray(pending)) pending = [];

  // --- the DOM ---
  // `all:initial` on the root too: the shop's CSS still reaches the host element and the
  // inherited properties (font, letter-spacing, ...) would flow into the shadow tree.
  var CSS = [
    ":host{all:initial}",
    ".nudge-wc-root{all:initial;position:fixed;bottom:20px;SIDE:20px;z-index:2147483000;",
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1a202c}",
    ".nudge-wc-bubble{width:56px;height:56px;border-radius:50%;border:0;background:#2b6cb0;",
    "color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative;",
    "display:flex;align-items:center;justify-content:center}",
    ".nudge-wc-root :focus-visible{outline:3px solid #f6ad55;outline-offset:2px}",
    ".nudge-wc-dot{position:absolute;top:4px;right:4px;width:12px;height:12px;border-radius:50%;",
    "background:#e53e3e}",
    ".nudge-wc-panel{position:absolute;bottom:70px;SIDE:0;width:340px;",
    "max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 110px);background:#fff;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;",
    "overflow:hidden}",
    "[hidden]{display:none!important}",
    ".nudge-wc-head{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#2b6cb0;",
    "color:#fff}",
    ".nudge-wc-title{flex:1;margin:0;font-size:15px}",
    ".nudge-wc-head button{background:transparent;color:#fff;",
    "border:1px solid rgba(255,255,255,.7);border-radius:6px;cursor:pointer;font:inherit;",
    "font-size:12px;padding:3px 7px}",
    ".nudge-wc-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;",
    "gap:6px;background:#f7fafc}",
    ".nudge-wc-msg{max-width:80%;padding:7px 10px;border-radius:10px;white-space:pre-wrap;",
    "overflow-wrap:anywhere}",
    ".nudge-wc-msg a{color:inherit}",
    ".nudge-wc-pending{opacity:.6}",
    ".nudge-wc-in{align-self:flex-end;background:#2b6cb0;color:#fff}",
    ".nudge-wc-out{align-self:flex-start;background:#fff;border:1px solid #e2e8f0}",
    ".nudge-wc-msg pre,.nudge-wc-msg code{font-family:ui-monospace,monospace;font-size:13px}",
    ".nudge-wc-intro{margin:4px 8px;color:#555;font-size:13px;text-align:center}",
    ".nudge-wc-msg pre{margin:4px 0;white-space:pre-wrap}",
    ".nudge-wc-chips{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}",
    ".nudge-wc-chip{border:1px solid #2b6cb0;color:#2b6cb0;background:#fff;cursor:pointer;",
    "border-radius:14px;padding:4px 10px;font:inherit;text-decoration:none}",
    ".nudge-wc-status{font-size:12px;color:#c53030;padding:2px 12px}",
    ".nudge-wc-form{display:flex;gap:6px;padding:8px;border-top:1px solid #e2e8f0}",
    ".nudge-wc-input{flex:1;resize:none;height:38px;font:inherit;padding:8px;",
    "border:1px solid #cbd5e0;border-radius:8px;box-sizing:border-box}",
    ".nudge-wc-send{border:0;border-radius:8px;background:#2b6cb0;color:#fff;cursor:pointer;",
    "font:inherit;padding:0 12px}"
  ].join("").replace(/SIDE/g, side);

  function el(tag, cls, attrs, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
    if (text) node.textContent = text;
    return node;
  }

  function chatIcon() { // SVG, not an emoji: many systems have no emoji font
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
    var path = svg.appendChild(document.createElementNS(ns, "path"));
    [["viewBox", "0 0 24 24"], ["width", "28"], ["height", "28"], ["aria-hidden", "true"]]
      .forEach(function (pair) { svg.setAttribute(pair[0], pair[1]); });
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 "
      + "2 0 0 1 2-2z");
    return svg;
  }

  // A custom element name, so the shop's `div {...}` rules do not even match our host.
  var host = el("nudge-webchat");
  var shadow = host.attachShadow({ mode: "open" });
  try { // a constructed sheet passes a shop's CSP that forbids inline <style>
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = el("style");
    style.textContent = CSS;
    shadow.appendChild(style);
  }
  var root = el("div", "nudge-wc-root");
  var bubble = el("button", "nudge-wc-bubble",
    { type: "button", "aria-label": t.open, "aria-expanded": "false",
      "aria-controls": "nudge-wc-panel" });
  bubble.appendChild(chatIcon());
  var dot = el("span", "nudge-wc-dot", { hidden: "", "aria-hidden": "true" });
  bubble.appendChild(dot);
  var panel = el("div", "nudge-wc-panel",
    { id: "nudge-wc-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "nudge-wc-title", hidden: "" });
  var head = el("div", "nudge-wc-head");
  var heading = el("h2", "nudge-wc-title", { id: "nudge-wc-title" }, title);
  var tgButton = el("button", "nudge-wc-tg", { type: "button", hidden: "" }, "Telegram");
  tgButton.setAttribute("aria-label", t.telegram);
  var closeButton = el("button", "nudge-wc-close", { type: "button", "aria-label": t.close }, "✕");
  var log = el("div", "nudge-wc-log", { role: "log", "aria-live": "polite" });
  var status = el("div", "nudge-wc-status", { role: "status" });
  var form = el("form", "nudge-wc-form");
  var input = el("textarea", "nudge-wc-input",
    { "aria-label": t.input, placeholder: t.placeholder, maxlength: "4000", rows: "1" });
  var sendButton = el("button", "nudge-wc-send", { type: "submit" }, t.send);
  head.append(heading, tgButton, closeButton);
  form.append(input, sendButton);
  panel.append(head, log, status, form);
  root.append(panel, bubble);
  shadow.appendChild(root);

  // --- the bot's HTML: Telegram's subset, rebuilt as DOM nodes; anything else is text ---
  var ALLOWED = { b: 1, strong: 1, i: 1, em: 1, u: 1, s: 1, code: 1, pre: 1, a: 1 };
  var TAG_RE = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>/g;
  var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: "\u00a0" };

  function decode(text) {
    return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos|nbsp);/g,
      function (whole, name) {
        if (name.charAt(0) !== "#") return ENTITIES[name];
        var hex = name.charAt(1) === "x" || name.charAt(1) === "X";
        try { return String.fromCodePoint(parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10)); }
        catch (e) { return whole; }
      });
  }

  function safeHref(attrs) {
    var m = /(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i.exec(attrs);
    if (!m) return null;
    try {
      var url = new URL(decode(m[1] || m[2] || m[3] || ""), location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }

  function renderHtml(html, target) {
    var stack = [{ name: "", node: target }];
    var top = function () { return stack[stack.length - 1].node; };
    var text = function (s) { if (s) top().appendChild(document.createTextNode(decode(s))); };
    var last = 0, match;
    TAG_RE.lastIndex = 0;
    while ((match = TAG_RE.exec(html)) !== null) {
      text(html.slice(last, match.index));
      last = TAG_RE.lastIndex;
      var name = match[2].toLowerCase();
      if (!ALLOWED[name]) { text(match[0]); continue; }
      if (match[1]) { // a closing tag closes its element and anything left open inside it
        var at = stack.length - 1;
        while (at > 0 && stack[at].name !== name) at--;
        if (at > 0) stack.length = at; else text(match[0]);
        continue;
      }
      var node = document.createElement(name);
      if (name === "a") {
        var href = safeHref(match[3]);
        if (href) { node.href = href; node.target = "_blank"; node.rel = "noopener noreferrer"; }
        else node = document.createElement("span"); // a link we won't follow: keep its text
      }
      top().appendChild(node);
      stack.push({ name: name, node: node });
    }
    text(html.slice(last));
  }

  // --- the conversation view ---
  var seen = {};

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function setUnread(flag) {
    dot.hidden = !flag;
    bubble.setAttribute("aria-label", flag ? t.unread : panel.hidden ? t.open : t.close);
  }

  function show(id, direction, html, buttons) {
    if (id) { if (seen[id]) return; seen[id] = true; }
    var node = el("div", "nudge-wc-msg nudge-wc-" + (direction === "in" ? "in" : "out"));
    renderHtml(html || "", node);
    log.appendChild(node);
    if (buttons && buttons.length) log.appendChild(chips(buttons));
    if (panel.hidden && direction !== "in") setUnread(true);
    scrollDown();
  }

  function showVisitor(item) {
    var node = el("div", "nudge-wc-msg nudge-wc-in nudge-wc-pending", { "data-client-id":
      item.client_id }, item.label);
    log.appendChild(node);
    scrollDown();
  }

  function chips(buttons) {
    var row = el("div", "nudge-wc-chips");
    buttons.forEach(function (line) {
      (line || []).forEach(function (b) {
        if (!b || typeof b.text !== "string") return;
        if (typeof b.url === "string") {
          var href = safeHref("href=\"" + b.url.replace(/"/g, "&quot;") + "\"");
          if (!href) return;
          row.appendChild(el("a", "nudge-wc-chip",
            { href: href, target: "_blank", rel: "noopener noreferrer" }, b.text));
        } else if (typeof b.data === "string") {
          var chip = el("button", "nudge-wc-chip", { type: "button" }, b.text);
          chip.addEventListener("click", function () {
            enqueue({ type: "button", data: b.data, label: b.text });
          });
          row.appendChild(chip);
        }
      });
    });
    return row;
  }

  function showHistory(history) {
    log.textContent = "";
    seen = {};
    (history || []).forEach(function (item) { show(item.id, item.direction, item.html, []); });
    pending.forEach(showVisitor);
    // A first-time visitor sees a hint of what to ask; it is the widget's, not a stored message.
    if (!log.firstChild) log.appendChild(el("p", "nudge-wc-intro", {}, t.intro));
    setUnread(false);
  }

  // --- the socket: reconnect with backoff; unacked frames go again with the same client id ---
  var ws = null, welcomed = false, attempts = 0, timer = null;

  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function transmit(frame) {
    if (ws && welcomed && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function sendPending(item) {
    item.sentAt = Date.now();
    var frame = { type: item.type, client_id: item.client_id };
    frame[item.type === "button" ? "data" : "text"] = item.type === "button" ? item.data
      : item.label;
    transmit(frame);
  }

  function enqueue(item) {
    item.client_id = randomId();
    pending.push(item);
    save("pending", pending);
    showVisitor(item);
    if (welcomed) sendPending(item); else connect();
  }

  function connect() {
    if (ws) return;
    clearTimeout(timer);
    try { ws = new WebSocket(socketUrl.href); } catch (e) { ws = null; retryLater(); return; }
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", visitor_token: token, language: lang }));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame.type === "string") handle(frame);
    };
    ws.onclose = function () { ws = null; welcomed = false; retryLater(); };
  }

  function retryLater() {
    clearTimeout(timer);
    var delay = Math.min(30000, 1000 * Math.pow(2, attempts++)) * (0.5 + Math.random() / 2);
    timer = setTimeout(connect, delay);
    if (attempts > 1) status.textContent = t.offline;
  }

  function handle(frame) {
    if (frame.type === "welcome") {
      token = frame.visitor_token;
      save("token", token);
      welcomed = true;
      attempts = 0;
      tgButton.hidden = !frame.telegram;  // no Telegram bot configured: nothing to continue in
      status.textContent = "";
      showHistory(frame.history);
      pending.forEach(sendPending);
    } else if (frame.type === "ack") {
      pending = pending.filter(function (p) { return p.client_id !== frame.client_id; });
      save("pending", pending);
      log.querySelectorAll(".nudge-wc-pending").forEach(function (node) {
        if (node.getAttribute("data-client-id") === frame.client_id) {
          node.classList.remove("nudge-wc-pending");
        }
      });
    } else if (frame.type === "message") {
      show(frame.id, "out", frame.html, frame.buttons);
    } else if (frame.type === "telegram_link") {
      if (typeof frame.url === "string" && /^https:\/\//.test(frame.url)) {
        var link = el("a", "nudge-wc-chip nudge-wc-tglink",
          { href: frame.url, target: "_blank", rel: "noopener noreferrer" }, t.telegram);
        log.appendChild(link);
        scrollDown();
        link.focus();
      } else {
        status.textContent = frame.reason || "";
      }
    } else if (frame.type === "error") {
      status.textContent = frame.message || "";
    }
  }

  // A frame refused for a while (storage down, rate limit) goes again; the server's
  // deduplication by client id makes a second copy harmless.
  setInterval(function () {
    var now = Date.now();
    pending.forEach(function (item) {
      if (welcomed && (!item.sentAt || now - item.sentAt > 8000)) sendPending(item);
    });
  }, 4000);

  // --- interaction ---
  function open() {
    panel.hidden = false;
    bubble.setAttribute("aria-expanded", "true");
    setUnread(false);
    connect();
    scrollDown();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    bubble.setAttribute("aria-expanded", "false");
    setUnread(false);
    bubble.focus();
  }

  bubble.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); }
  });
  tgButton.addEventListener("click", function () {
    if (!transmit({ type: "link_telegram" })) connect();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    enqueue({ type: "message", label: text });
    input.focus();
  });

  function mount() {
    document.body.appendChild(host);
    // A returning visitor connects at once so replies sent meanwhile light up the bubble;
    // a first-time visitor gets a token only when they open the chat.
    if (token || pending.length) connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
