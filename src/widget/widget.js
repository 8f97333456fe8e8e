// Switchboard's website widget. One tag on a customer's page,
//   <script src="https://HUB/widget.js" data-widget-key="wk_..." async></script>,
// draws a launcher and a chat panel in an open Shadow DOM: the visitor's session is kept in
// localStorage (same chat on reload, other pages and tabs), replies arrive live over
// /ws/widget with polling when the socket is refused or cut, sends are retried with a
// client_message_id so nothing doubles. Visitors attach files of the types the channel takes;
// files in messages open by signed links from the hub. One global: window.SwitchboardWidget.
(function () {
  "use strict";
  if (window.SwitchboardWidget) return;
  var script = document.currentScript;
  var key = script && (script.getAttribute("data-widget-key") || script.getAttribute("data-key"));
  if (!key) {
    console.error("Switchboard widget: the script tag needs data-widget-key=\"<the channel's widget key>\".");
    return;
  }
  var hub = new URL(script.src, location.href).origin;
  var storeKey = "switchboard.widget." + key;
  var POLL_MS = 3000;

  var config = null;
  var session = load();
  var messages = new Map();
  var lastId = 0;
  var socket = null;
  var attempt = 0;
  var pollTimer = null;
  var unread = 0;
  var isOpen = false;
  var typingSentAt = 0;
  var handedOver = false;
  var staged = [];

  function load() {
    try {
      return JSON.parse(localStorage.getItem(storeKey) || "null");
    } catch (e) {
      return null;
    }
  }
  function save() {
    try {
      localStorage.setItem(storeKey, JSON.stringify(session));
    } catch (e) { /* private mode: the chat lasts for this page */ }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function call(method, path, body) {
    var headers = { Accept: "application/json" };
    if (session && session.token) headers.Authorization = "Bearer " + session.token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(hub + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!response.ok) {
            var error = new Error((data && data.error && data.error.message) || ("HTTP " + response.status));
            error.status = response.status;
            error.code = data && data.error && data.error.code;
            throw error;
          }
          return data;
        });
      });
  }

  // Links in message texts: only http and https, built as nodes (never HTML), opened in a new
  // tab that cannot reach back to this page.
  var URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
  function trimUrl(raw) {
    for (;;) {
      var end = raw.charAt(raw.length - 1);
      var unbalanced = (end === ")" && raw.split("(").length < raw.split(")").length) ||
        (end === "]" && raw.split("[").length < raw.split("]").length);
      if (".,;:!?'\"".indexOf(end) >= 0 || unbalanced) raw = raw.slice(0, -1);
      else return raw;
    }
  }
  function safeHref(raw) {
    try {
      var url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }
  function linked(text) {
    var nodes = [];
    var done = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var raw = trimUrl(match[0]);
      var href = safeHref(raw);
      if (!href) continue;
      if (match.index > done) nodes.push(text.slice(done, match.index));
      nodes.push(el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, [raw]));
      done = match.index + raw.length;
      URL_PATTERN.lastIndex = done;
    }
    if (done < text.length) nodes.push(text.slice(done));
    return nodes;
  }

  // --- the page ---------------------------------------------------------------------------
  var host = el("switchboard-widget", {});
  var root = host.attachShadow({ mode: "open" });
  var badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" }, []);
  var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("class", "icon");
  var bubble = document.createElementNS("http://www.w3.org/2000/svg", "path");
  bubble.setAttribute("d", "M4 5h16v11H9l-5 4z");
  icon.appendChild(bubble);
  var launcher = el("button", { type: "button", class: "launcher", "aria-label": "Open chat", "aria-expanded": "false", onclick: function () { toggle(); } }, [
    icon, badge]);
  var title = el("h2", { class: "title", id: "sb-title" }, ["Chat"]);
  var closeButton = el("button", { type: "button", class: "close", "aria-label": "Close chat", onclick: function () { close(); } }, ["\u00D7"]);
  var list = el("ol", { class: "messages", "aria-live": "polite", "aria-label": "Conversation" }, []);
  var note = el("p", { class: "note", role: "status" }, []);
  var typingLine = el("p", { class: "typing", "aria-live": "polite" }, []);
  var nameInput = el("input", { type: "text", id: "sb-name", autocomplete: "name", maxlength: 200 }, []);
  var emailInput = el("input", { type: "email", id: "sb-email", autocomplete: "email", maxlength: 200 }, []);
  var nameField = el("div", { class: "field" }, [el("label", { for: "sb-name" }, ["Your name"]), nameInput]);
  var emailField = el("div", { class: "field" }, [el("label", { for: "sb-email" }, ["Your email"]), emailInput]);
  var prechat = el("div", { class: "prechat", hidden: true }, [nameField, emailField]);
  var textarea = el("textarea", { id: "sb-text", rows: 2, maxlength: 2000, placeholder: "Write a message…",
    onkeydown: function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    },
    oninput: function () { typing(); } }, []);
  var sendButton = el("button", { type: "submit", class: "send" }, ["Send"]);
  var fileInput = el("input", { type: "file", multiple: true, class: "visually-hidden", tabindex: "-1", "aria-hidden": "true",
    onchange: function () { pick(Array.prototype.slice.call(fileInput.files)); fileInput.value = ""; } }, []);
  var clip = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  clip.setAttribute("viewBox", "0 0 24 24");
  clip.setAttribute("aria-hidden", "true");
  clip.setAttribute("class", "clip");
  var clipPath = document.createElementNS("http://www.w3.org/2000/svg", "path");
  clipPath.setAttribute("d", "M16 7l-7.5 7.5a2 2 0 0 0 3 3L19 10a4 4 0 0 0-6-6l-7.5 7.5a6 6 0 0 0 8.5 8.5L20 14");
  clip.appendChild(clipPath);
  var attachButton = el("button", { type: "button", class: "attach", "aria-label": "Attach a file", title: "Attach a file", hidden: true,
    onclick: function () { fileInput.click(); } }, [clip]);
  var stagedList = el("ul", { class: "staged", "aria-label": "Files to send", hidden: true }, []);
  var error = el("p", { class: "error", role: "alert", hidden: true }, []);
  var form = el("form", { class: "composer", onsubmit: function (event) { event.preventDefault(); send(); } }, [
    prechat, stagedList, attachButton, fileInput, el("label", { for: "sb-text", class: "visually-hidden" }, ["Message"]), textarea, sendButton]);
  var panel = el("div", { class: "panel", role: "dialog", "aria-labelledby": "sb-title", hidden: true,
    onkeydown: function (event) {
      if (event.key === "Escape") close();
      if (event.key === "Tab") trapFocus(event);
    } }, [
    el("header", {}, [title, closeButton]), list, typingLine, note, error, form]);

  var link = el("link", { rel: "stylesheet", href: hub + "/widget.css" }, []);
  root.appendChild(link);
  root.appendChild(panel);
  root.appendChild(launcher);

  function trapFocus(event) {
    var focusable = Array.prototype.filter.call(panel.querySelectorAll("button, textarea, input, a[href]"), function (n) {
      return !n.disabled && n.offsetParent !== null;
    });
    if (!focusable.length) return;
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    var active = root.activeElement;
    if (event.shiftKey && active === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function toggle() {
    if (isOpen) close();
    else open();
  }
  function open() {
    isOpen = true;
    panel.hidden = false;
    // On a phone the panel covers the screen: the launcher steps aside (the header's close
    // button closes), so it never sits on the composer.
    host.setAttribute("data-open", "");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat");
    unread = 0;
    drawBadge();
    list.scrollTop = list.scrollHeight;
    textarea.focus();
  }
  function close() {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    host.removeAttribute("data-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    launcher.focus();
  }
  function drawBadge() {
    badge.textContent = unread > 0 ? String(unread) : "";
    badge.hidden = unread === 0;
    launcher.setAttribute("aria-label", isOpen ? "Close chat" : (unread ? "Open chat, " + unread + " new" : "Open chat"));
  }

  // --- messages ---------------------------------------------------------------------------
  function add(message, fromLive) {
    if (!message || message.private) return;
    var known = messages.get(message.id);
    if (known && known.updated_at >= message.updated_at) return;
    messages.set(message.id, message);
    if (message.id > lastId) lastId = message.id;
    if (!known && fromLive && message.direction === "outbound" && !isOpen) {
      unread += 1;
      drawBadge();
    }
    if (message.direction === "outbound" && message.sender_kind === "agent" && hasBot()) handedOver = true;
    draw();
  }
  function hasBot() {
    var found = false;
    messages.forEach(function (m) { if (m.sender_kind === "bot") found = true; });
    return found;
  }
  function draw() {
    var items = [];
    if (config && config.greeting) items.push(el("li", { class: "msg team greeting" }, [el("p", {}, [config.greeting])]));
    var sorted = Array.from(messages.values()).sort(function (a, b) { return a.id - b.id; });
    var shownHandoff = false;
    sorted.forEach(function (m) {
      var mine = m.direction === "inbound";
      if (handedOver && !shownHandoff && m.sender_kind === "agent") {
        items.push(el("li", { class: "system" }, ["You are now chatting with a person."]));
        shownHandoff = true;
      }
      var who = mine ? null : (m.sender_kind === "bot" ? "Bot" : (m.agent_name || "Support team"));
      items.push(el("li", { class: "msg " + (mine ? "mine" : "team") + (m.sender_kind === "bot" ? " bot" : "") + (m.pending ? " pending" : ""), "data-id": m.id }, [
        who ? el("span", { class: "who" }, [who]) : null,
        m.text ? el("p", {}, linked(m.text)) : null,
        files(m),
        m.pending ? el("span", { class: "state" }, [m.failed ? "Not sent yet, retrying…" : "Sending…"]) : null]));
    });
    while (list.firstChild) list.removeChild(list.firstChild);
    items.forEach(function (item) { list.appendChild(item); });
    list.scrollTop = list.scrollHeight;
  }

  // --- files in messages ------------------------------------------------------------------
  function size(bytes) {
    if (!(bytes >= 0)) return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }
  function fromHub(path) {
    return path && path.charAt(0) === "/" ? hub + path : null;
  }
  function chip(name, bytes, href) {
    var label = [el("span", { class: "name" }, [name || "File"]), el("span", { class: "size" }, [size(bytes)])];
    return href
      ? el("a", { class: "file", href: href, download: name || true, target: "_blank", rel: "noopener noreferrer" }, label)
      : el("span", { class: "file" }, label);
  }
  function file(a) {
    if (a.state === "failed") return el("p", { class: "failed" }, ["Could not be kept: " + (a.reason || "unknown reason")]);
    if (a.state === "pending") return el("p", { class: "failed" }, [(a.name || "A file") + " is on its way…"]);
    var url = fromHub(a.url);
    if (!url) return null;
    if (a.type === "image") {
      return el("a", { class: "image", href: url, target: "_blank", rel: "noopener noreferrer", title: "Open the full image" }, [
        el("img", { src: fromHub(a.thumbnail_url) || url, alt: a.name || "Image",
          onload: function () { list.scrollTop = list.scrollHeight; } }, [])]);
    }
    if (a.type === "audio") return el("audio", { controls: true, preload: "none", src: url, "aria-label": a.name || "Voice note" }, []);
    if (a.type === "video") return el("video", { controls: true, preload: "metadata", src: url, "aria-label": a.name || "Video" }, []);
    return chip(a.name, a.size, url);
  }
  function files(m) {
    var items = (m.local || []).map(function (f) { return chip(f.name, f.size, null); });
    if (Array.isArray(m.attachments)) {
      m.attachments.forEach(function (a) { if (a && a.state) items.push(file(a)); });
    }
    items = items.filter(Boolean);
    return items.length ? el("div", { class: "files" }, items) : null;
  }

  function fetchAfter() {
    if (!session) return Promise.resolve();
    return call("GET", "/api/widget/messages?after=" + lastId).then(function (page) {
      page.forEach(function (m) { add(m, true); });
      if (page.length === 200) return fetchAfter();
      return undefined;
    }).catch(function (e) {
      if (e.status === 401) forget();
    });
  }

  function forget() {
    session = null;
    try { localStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
    messages.clear();
    lastId = 0;
    showPrechat();
    draw();
  }

  // --- live -------------------------------------------------------------------------------
  function connect() {
    if (!session || socket) return;
    // The token travels as the socket's protocol, never in the address proxies log.
    var url = hub.replace(/^http/, "ws") + "/ws/widget";
    var ws;
    try {
      ws = new WebSocket(url, ["bearer", session.token]);
    } catch (e) {
      poll();
      return;
    }
    socket = ws;
    ws.onopen = function () {
      attempt = 0;
      stopPolling();
      fetchAfter();
    };
    ws.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "message.created") add(frame.data, true);
      if (frame.type === "typing") {
        typingLine.textContent = frame.data && frame.data.on ? "Support is typing…" : "";
      }
    };
    ws.onclose = function () {
      socket = null;
      poll();
      var wait = Math.min(30000, 1000 * Math.pow(2, attempt));
      attempt += 1;
      setTimeout(connect, wait / 2 + Math.random() * wait / 2);
    };
  }
  function poll() {
    if (pollTimer) return;
    pollTimer = setInterval(fetchAfter, POLL_MS);
    fetchAfter();
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function typing() {
    if (!socket || socket.readyState !== 1) return;
    var now = Date.now();
    if (now - typingSentAt > 2500) {
      typingSentAt = now;
      socket.send(JSON.stringify({ type: "typing", on: true }));
    }
  }

  // --- sending ----------------------------------------------------------------------------
  var starting = null;
  function startSession() {
    if (session) return Promise.resolve(session);
    if (!starting) {
      starting = openSession();
      starting.then(function () { starting = null; }, function () { starting = null; });
    }
    return starting;
  }
  function openSession() {
    var name = nameInput.value.trim();
    var email = emailInput.value.trim();
    if (config.ask_name === "required" && !name) return Promise.reject(new Error("Please tell us your name."));
    if (config.ask_email === "required" && !email) return Promise.reject(new Error("Please give us your email."));
    return call("POST", "/api/widget/sessions", { widget_key: key, name: name || undefined, email: email || undefined,
      language: navigator.language || undefined })
      .then(function (created) {
        session = { token: created.token, session_id: created.session_id, email: email };
        save();
        prechat.hidden = true;
        updateNote();
        connect();
        return session;
      });
  }

  function deliver(pending, tries) {
    return call("POST", "/api/widget/messages", { text: pending.text, attachments: pending.ids, client_message_id: pending.client_id })
      .then(function (stored) {
        messages.delete(pending.id);
        add(stored, false);
      })
      .catch(function (e) {
        if (e.status && e.status < 500 && e.status !== 429) {
          // Refused for good: the visitor's words go back into the box, with the reason.
          messages.delete(pending.id);
          draw();
          if (!textarea.value) textarea.value = pending.text;
          showError(e.message);
          return;
        }
        pending.failed = true;
        draw();
        var wait = Math.min(30000, 1000 * Math.pow(2, tries));
        setTimeout(function () { deliver(pending, tries + 1); }, wait);
      });
  }

  var localId = 0;
  function send() {
    var text = textarea.value.trim();
    var sending = staged.slice();
    if (!text && !sending.length) return;
    var limit = (config && config.max_text) || 2000;
    var length = Array.from(text).length;
    if (length > limit) {
      showError("Your message is " + length + " characters long; the limit is " + limit + ". Please shorten it.");
      textarea.focus();
      return;
    }
    showError("");
    startSession().then(function () {
      localId -= 1;
      var pending = { id: Number.MAX_SAFE_INTEGER + localId, text: text, direction: "inbound", pending: true,
        updated_at: "", client_id: "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10),
        local: sending.map(function (s) { return { name: s.file.name, size: s.file.size }; }) };
      messages.set(pending.id, pending);
      textarea.value = "";
      staged = [];
      drawStaged();
      draw();
      if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "typing", on: false }));
      typingSentAt = 0;
      return Promise.all(sending.map(function (s) { return s.done; })).then(function (ids) {
        pending.ids = ids.filter(function (id) { return id !== null; });
        if (!pending.text && !pending.ids.length) {
          messages.delete(pending.id);
          draw();
          return undefined;
        }
        return deliver(pending, 0);
      });
    }).catch(function (e) {
      showError(e.message);
    });
  }

  // --- attaching files --------------------------------------------------------------------
  function allowed(type) {
    return (config.upload_types || []).some(function (pattern) {
      return pattern.slice(-2) === "/*" ? type.split("/")[0] === pattern.slice(0, -2) : type === pattern;
    });
  }
  function kinds() {
    return (config.upload_types || []).map(function (t) {
      return t === "image/*" ? "images" : t === "application/pdf" ? "PDF files" : t;
    }).join(", ");
  }
  function pick(list) {
    showError("");
    list.forEach(function (f) {
      var limit = config.max_upload_bytes;
      if (!f.type || !allowed(f.type)) {
        showError("\u201C" + f.name + "\u201D cannot be sent here: this chat takes " + kinds() + ".");
      } else if (limit && f.size > limit) {
        showError("\u201C" + f.name + "\u201D is " + size(f.size) + "; files may be at most " + size(limit) + ".");
      } else if (f.size === 0) {
        showError("\u201C" + f.name + "\u201D is empty.");
      } else {
        stage(f);
      }
    });
  }
  function stage(f) {
    var item = { file: f, progress: 0, preview: null, xhr: null };
    staged.push(item);
    if (f.type.indexOf("image/") === 0 && window.FileReader) {
      var reader = new FileReader();
      reader.onload = function () { item.preview = reader.result; drawStaged(); };
      reader.readAsDataURL(f);
    }
    item.done = startSession().then(function () { return upload(item); }).catch(function (e) {
      unstage(item);
      if (e && e.message) showError(e.message);
      return null;
    });
    drawStaged();
  }
  function upload(item) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      item.xhr = xhr;
      var body = new FormData();
      body.append("file", item.file, item.file.name);
      xhr.open("POST", hub + "/api/widget/attachments");
      xhr.setRequestHeader("Authorization", "Bearer " + session.token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          item.progress = Math.round(100 * event.loaded / event.total);
          drawStaged();
        }
      };
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        if (xhr.status === 201 && data && data.attachments && data.attachments[0]) {
          item.id = data.attachments[0].id;
          item.progress = 100;
          drawStaged();
          resolve(item.id);
        } else {
          reject(new Error("\u201C" + item.file.name + "\u201D could not be sent: " +
            ((data && data.error && data.error.message) || ("HTTP " + xhr.status))));
        }
      };
      xhr.onerror = function () { reject(new Error("\u201C" + item.file.name + "\u201D could not be sent: the connection failed.")); };
      xhr.onabort = function () { reject(new Error("")); };
      xhr.send(body);
    });
  }
  function unstage(item) {
    var at = staged.indexOf(item);
    if (at >= 0) staged.splice(at, 1);
    drawStaged();
  }
  function drawStaged() {
    while (stagedList.firstChild) stagedList.removeChild(stagedList.firstChild);
    staged.forEach(function (item) {
      var name = item.file.name;
      var uploading = item.id === undefined;
      stagedList.appendChild(el("li", { class: "chip" }, [
        item.preview ? el("img", { src: item.preview, alt: "" }, []) : null,
        el("span", { class: "about" }, [el("span", { class: "name" }, [name]), el("span", { class: "size" }, [
          uploading ? "Uploading\u2026 " + item.progress + "%" : size(item.file.size)])]),
        uploading ? el("progress", { max: 100, value: item.progress, "aria-label": "Uploading " + name }, []) : null,
        el("button", { type: "button", class: "remove", "aria-label": "Remove " + name, onclick: function () {
          if (item.xhr && uploading) item.xhr.abort();
          unstage(item);
          textarea.focus();
        } }, ["\u00D7"])]));
    });
    stagedList.hidden = !staged.length;
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function showPrechat() {
    var asks = config && !session && (config.ask_name !== "off" || config.ask_email !== "off");
    prechat.hidden = !asks;
    nameField.hidden = !config || config.ask_name === "off";
    emailField.hidden = !config || config.ask_email === "off";
    if (config) {
      nameField.querySelector("label").textContent = config.ask_name === "required" ? "Your name (required)" : "Your name";
      emailField.querySelector("label").textContent = config.ask_email === "required" ? "Your email (required)" : "Your email";
    }
  }

  function updateNote() {
    if (!config) return;
    if (!config.team_online && !config.ai_enabled) {
      note.textContent = session && session.email
        ? "Nobody is online right now. We'll reply by email."
        : "Nobody is online right now. Leave a message and we'll answer as soon as we can.";
    } else {
      note.textContent = "";
    }
    note.hidden = !note.textContent;
  }

  // --- start ------------------------------------------------------------------------------
  call("GET", "/api/widget/config?key=" + encodeURIComponent(key)).then(function (loaded) {
    config = loaded;
    title.textContent = config.title;
    if (config.max_text) textarea.setAttribute("maxlength", config.max_text);
    attachButton.hidden = !(config.upload_types && config.upload_types.length);
    fileInput.setAttribute("accept", (config.upload_types || []).join(","));
    host.style.setProperty("--sb-accent", config.color);
    host.setAttribute("data-position", config.position);
    showPrechat();
    updateNote();
    draw();
    document.body.appendChild(host);
    if (session) {
      fetchAfter().then(connect);
    }
  }).catch(function (e) {
    console.error("Switchboard widget: " + e.message + (e.code ? " (" + e.code + ")" : ""));
  });

  window.SwitchboardWidget = { open: open, close: close };
})();
