// The browser client of the chat module (docs/chat.md): the HTTP API for users, rooms and history, the WebSocket for live
// frames. Ids are decimal strings compared as BigInt: 64-bit ids do not fit a JavaScript number.
"use strict";

(() => {
  const KEY_STORAGE = "blueprint-chat-key";
  const PAGE_SIZE = 50;             // messages per history page
  const TYPING_SEND_MS = 2000;      // at most one typing frame per this long
  const TYPING_SHOW_MS = 4000;      // how long "x is typing" stays after the last frame
  const PRESENCE_POLL_MS = 10000;   // how often a direct conversation's other user is looked up
  const ROOMS_POLL_MS = 5000;       // how often the room list is read again (rooms others opened with this user)
  const BACKOFF_FIRST_MS = 500;     // the first reconnect delay; doubles per failure
  const BACKOFF_MAX_MS = 15000;
  const NEAR_BOTTOM_PX = 60;        // how close to the bottom counts as "reading the newest"
  const NEAR_TOP_PX = 40;           // how close to the top loads the older page

  const $ = (id) => document.getElementById(id);
  const cmp = (a, b) => { const x = BigInt(a), y = BigInt(b); return x < y ? -1 : x > y ? 1 : 0; };

  const state = {
    key: null,
    me: null,
    socket: null,
    ready: false,
    backoffMs: BACKOFF_FIRST_MS,
    reconnectTimer: null,
    refs: 0,
    rooms: new Map(),   // id -> room state (below)
    open: null,         // the open room's id
    typingSentAt: 0,
    typers: new Map(),  // user -> timer of the open room's typing indicator
    presenceTimer: null,
  };

  // A room's state: its messages by id (for de-duplication), the newest id seen (the `since` of a resubscribe), the
  // cursor of the next older page (null: none left, undefined: history not loaded yet) and the members' read marks.
  const roomState = (room) => ({
    id: room.id, kind: room.kind, name: room.name,
    messages: new Map(), last: null, next: undefined, loading: false,
    subscribed: false, reads: new Map(), readSent: "0", unread: 0,
  });

  // ---- HTTP ----

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (state.key) headers["Authorization"] = `Bearer ${state.key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error(json && json.detail ? json.detail : `${method} ${path}: ${response.status}`);
      error.status = response.status;
      error.code = json && json.title;
      throw error;
    }
    return json;
  }

  function showError(error) {
    const box = $("error");
    box.textContent = error ? (error.message || String(error)) : "";
    box.hidden = !error;
  }

  function setStatus(kind, text) {
    const status = $("status");
    status.dataset.state = kind;
    status.textContent = text;
  }

  // ---- signing in ----

  async function signIn(key) {
    state.key = key;
    const me = await api("GET", "/api/chat/me");
    state.me = me.name;
    localStorage.setItem(KEY_STORAGE, key);
    $("me").textContent = me.name;
    $("my-key").textContent = key;
    $("whoami").hidden = false;
    $("login").hidden = true;
    $("app").hidden = false;
    document.body.dataset.user = me.name;
    await loadRooms();
    setInterval(() => loadRooms().catch(() => {}), ROOMS_POLL_MS);
    connect();
  }

  function signOut() {
    localStorage.removeItem(KEY_STORAGE);
    location.reload();
  }

  // ---- rooms ----

  function known(room) {
    let entry = state.rooms.get(room.id);
    if (!entry) {
      entry = roomState(room);
      state.rooms.set(room.id, entry);
    }
    return entry;
  }

  function titleOf(room) {
    return room.kind === "direct" ? `@ ${otherOf(room) || room.name}` : `# ${room.name}`;
  }

  function otherOf(room) {
    return room.kind === "direct" ? room.name.split(", ").find((name) => name !== state.me) : null;
  }

  async function loadRooms() {
    const { rooms } = await api("GET", "/api/chat/rooms");
    const before = state.rooms.size;
    rooms.forEach(known);
    if (state.rooms.size !== before || before === 0) renderRooms();
  }

  function renderRooms() {
    const list = $("room-list");
    list.replaceChildren();
    for (const room of state.rooms.values()) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.roomId = room.id;
      button.setAttribute("aria-current", String(room.id === state.open));
      const name = document.createElement("span");
      name.textContent = titleOf(room);
      button.append(name);
      if (room.unread > 0) {
        const badge = document.createElement("span");
        badge.className = "unread";
        badge.textContent = String(room.unread);
        badge.setAttribute("aria-label", `${room.unread} unread`);
        button.append(badge);
      }
      button.addEventListener("click", () => openRoom(room.id).catch(showError));
      item.append(button);
      list.append(item);
    }
  }

  async function openRoom(id) {
    const room = state.rooms.get(id);
    state.open = id;
    room.unread = 0;
    state.typers.forEach((timer) => clearTimeout(timer));
    state.typers.clear();
    renderTyping();
    $("room").dataset.roomId = id;
    $("room-title").textContent = titleOf(room);
    $("room-id").textContent = id;
    $("room-id-label").hidden = room.kind === "direct";
    $("message-input").disabled = false;
    $("send-button").disabled = false;
    $("messages").replaceChildren();
    renderRooms();
    watchPresence(room);
    if (room.next === undefined) {
      await loadOlder(room);
      await loadReceipts(room);
    }
    renderAll(room);
    scrollToBottom();
    subscribe(room);
    markRead(room);
  }

  async function loadReceipts(room) {
    const { receipts } = await api("GET", `/api/chat/rooms/${room.id}/receipts`);
    for (const receipt of receipts) {
      if (receipt.read !== "0") room.reads.set(receipt.user, receipt.read);
    }
  }

  // One more page of history below the oldest loaded (the newest page first).
  async function loadOlder(room) {
    if (room.loading || room.next === null) return;
    room.loading = true;
    try {
      const before = room.next === undefined ? "" : `&before=${room.next}`;
      const page = await api("GET", `/api/chat/rooms/${room.id}/messages?limit=${PAGE_SIZE}${before}`);
      const first = room.next === undefined;
      room.next = page.next;
      const history = $("history");
      const heightBefore = history.scrollHeight;
      for (const message of page.messages) add(room, message);
      if (first && room.last === null) room.last = "0"; // an empty room: subscribe from its beginning
      // Keep the message the reader was looking at in place while the older ones go in above it.
      if (!first && room.id === state.open) history.scrollTop += history.scrollHeight - heightBefore;
    } finally {
      room.loading = false;
      if (room.id === state.open) $("load-older").hidden = room.next === null;
    }
  }

  // ---- messages ----

  // Adds or updates a message; renders it when its room is open. Returns whether it was new.
  function add(room, message) {
    const fresh = !room.messages.has(message.id);
    room.messages.set(message.id, message);
    // `last` is the newest id seen: older pages and gap fills are below it, so only newer messages move it.
    if (room.last === null || cmp(message.id, room.last) > 0) room.last = message.id;
    if (room.id === state.open) render(room, message);
    return fresh;
  }

  function renderAll(room) {
    const ids = [...room.messages.keys()].sort(cmp);
    for (const id of ids) render(room, room.messages.get(id));
    renderReads(room);
    $("load-older").hidden = room.next === null;
  }

  function render(room, message) {
    const list = $("messages");
    let item = list.querySelector(`li[data-id="${message.id}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.id = message.id;
      // Most messages go at the end (live) or the start (older pages): walk from the end.
      let after = list.lastElementChild;
      while (after && cmp(after.dataset.id, message.id) > 0) after = after.previousElementSibling;
      if (after) after.after(item); else list.prepend(item);
    }
    item.dataset.user = message.user;
    item.classList.toggle("mine", message.user === state.me);
    item.classList.toggle("deleted", !!message.deleted);
    item.replaceChildren();

    const who = document.createElement("span");
    who.className = "who";
    who.textContent = message.user;
    const time = document.createElement("time");
    const sent = new Date(Number(message.sentAt));
    time.dateTime = sent.toISOString();
    time.textContent = sent.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.deleted ? "message deleted" : message.text;
    item.append(who, time);
    if (message.editedAt && !message.deleted) {
      const edited = document.createElement("span");
      edited.className = "edited";
      edited.textContent = "(edited)";
      item.append(edited);
    }
    if (message.user === state.me && !message.deleted) item.append(actions(room, message));
    const readBy = document.createElement("span");
    readBy.className = "read-by";
    item.append(text, readBy);
  }

  function actions(room, message) {
    const box = document.createElement("span");
    box.className = "actions";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "plain edit-button";
    edit.textContent = "Edit";
    edit.setAttribute("aria-label", "Edit message");
    edit.addEventListener("click", () => startEdit(room, message));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "plain delete-button";
    remove.textContent = "Delete";
    remove.setAttribute("aria-label", "Delete message");
    remove.addEventListener("click", () => rewrite(room, message.id, null).catch(showError));
    box.append(edit, remove);
    return box;
  }

  function startEdit(room, message) {
    const item = $("messages").querySelector(`li[data-id="${message.id}"]`);
    const form = document.createElement("form");
    form.className = "edit-form";
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `edit-${message.id}`;
    label.textContent = "Edited text";
    const input = document.createElement("input");
    input.id = `edit-${message.id}`;
    input.className = "edit-input";
    input.value = message.text;
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "save-button";
    save.textContent = "Save";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "plain";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => render(room, room.messages.get(message.id)));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (input.value) rewrite(room, message.id, input.value).catch(showError);
    });
    form.append(label, input, save, cancel);
    item.append(form);
    input.focus();
  }

  // Edits (text) or deletes (null) one's own message; the `edited`/`deleted` frame updates the view.
  async function rewrite(room, id, text) {
    const path = `/api/chat/rooms/${room.id}/messages/${id}`;
    const message = text === null ? await api("DELETE", path) : await api("PATCH", path, { text });
    add(room, message);
    renderReads(room);
  }

  // "Read by …" under the newest message each other member has read.
  function renderReads(room) {
    if (room.id !== state.open) return;
    const list = $("messages");
    list.querySelectorAll(".read-by").forEach((span) => { span.textContent = ""; });
    const readers = new Map(); // message id -> names
    const ids = [...list.children].map((item) => item.dataset.id);
    for (const [user, upTo] of room.reads) {
      if (user === state.me) continue;
      let at = null;
      for (let i = ids.length - 1; i >= 0; i--) {
        if (cmp(ids[i], upTo) <= 0) { at = ids[i]; break; }
      }
      if (at === null) continue;
      if (!readers.has(at)) readers.set(at, []);
      readers.get(at).push(user);
    }
    for (const [id, users] of readers) {
      const span = list.querySelector(`li[data-id="${id}"] .read-by`);
      if (span) span.textContent = `read by ${users.sort().join(", ")}`;
    }
  }

  function nearBottom() {
    const history = $("history");
    return history.scrollHeight - history.scrollTop - history.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    const history = $("history");
    history.scrollTop = history.scrollHeight;
  }

  // Tells the room the newest message shown has been read, once per new newest message.
  function markRead(room) {
    if (room.id !== state.open || document.visibilityState === "hidden" || room.messages.size === 0) return;
    const newest = [...room.messages.keys()].reduce((a, b) => (cmp(a, b) >= 0 ? a : b));
    if (cmp(newest, room.readSent) <= 0) return;
    room.readSent = newest;
    if (!sendFrame({ type: "read", room: room.id, id: newest })) {
      api("POST", `/api/chat/rooms/${room.id}/receipts`, { kind: "read", id: newest }).catch(showError);
    }
  }

  async function send(text) {
    const room = state.rooms.get(state.open);
    if (!room || !text) return;
    if (!sendFrame({ type: "send", room: room.id, text })) {
      // Offline: over HTTP; the reconnect's replay brings it too, and the id de-duplicates.
      add(room, await api("POST", `/api/chat/rooms/${room.id}/messages`, { text }));
      scrollToBottom();
    }
  }

  // ---- typing and presence ----

  function typed() {
    const now = Date.now();
    if (!state.open || now - state.typingSentAt < TYPING_SEND_MS) return;
    state.typingSentAt = now;
    sendFrame({ type: "typing", room: state.open });
  }

  function someoneTyping(user) {
    clearTimeout(state.typers.get(user));
    state.typers.set(user, setTimeout(() => { state.typers.delete(user); renderTyping(); }, TYPING_SHOW_MS));
    renderTyping();
  }

  function renderTyping() {
    const users = [...state.typers.keys()].sort();
    const typing = $("typing");
    typing.textContent = users.length === 0 ? "" : `${users.join(", ")} ${users.length === 1 ? "is" : "are"} typing…`;
    typing.dataset.users = users.join(",");
  }

  function watchPresence(room) {
    clearInterval(state.presenceTimer);
    const presence = $("presence");
    const other = otherOf(room);
    presence.hidden = !other;
    if (!other) return;
    const look = async () => {
      try {
        const { online } = await api("GET", `/api/chat/users/${encodeURIComponent(other)}/presence`);
        presence.dataset.online = String(online);
        presence.textContent = `${other} is ${online ? "online" : "offline"}`;
      } catch (error) {
        presence.textContent = "";
      }
    };
    look();
    state.presenceTimer = setInterval(look, PRESENCE_POLL_MS);
  }

  // ---- the WebSocket ----

  function connect() {
    clearTimeout(state.reconnectTimer);
    setStatus("connecting", "connecting…");
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/chat/ws`;
    const socket = new WebSocket(url);
    state.socket = socket;
    state.ready = false;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "auth", token: state.key, ref: "auth" })));
    socket.addEventListener("message", (event) => {
      try {
        onFrame(JSON.parse(event.data));
      } catch (error) {
        showError(error);
      }
    });
    socket.addEventListener("close", (event) => {
      if (state.socket !== socket) return;
      state.ready = false;
      for (const room of state.rooms.values()) room.subscribed = false;
      const delay = Math.round(state.backoffMs * (0.75 + Math.random() * 0.5));
      state.backoffMs = Math.min(state.backoffMs * 2, BACKOFF_MAX_MS);
      setStatus("reconnecting", `disconnected (${event.code}); reconnecting in ${(delay / 1000).toFixed(1)} s`);
      state.reconnectTimer = setTimeout(connect, delay);
    });
  }

  // Sends a frame when the socket is authenticated; false when it is not (the caller falls back to HTTP or waits).
  function sendFrame(frame) {
    if (!state.ready || state.socket.readyState !== WebSocket.OPEN) return false;
    state.socket.send(JSON.stringify({ ...frame, ref: `r${++state.refs}` }));
    return true;
  }

  // Subscribes with `since` = the newest id seen, so the server replays what was missed and nothing twice.
  function subscribe(room) {
    if (room.subscribed || room.next === undefined) return;
    if (sendFrame({ type: "subscribe", room: room.id, since: room.last ?? "0" })) room.subscribed = true;
  }

  function onFrame(frame) {
    const room = frame.room ? state.rooms.get(frame.room) : null;
    switch (frame.type) {
      case "ping":
        state.socket.send(JSON.stringify({ type: "pong" }));
        break;
      case "ready":
        state.ready = true;
        state.backoffMs = BACKOFF_FIRST_MS;
        setStatus("online", "online");
        // Every room with history loaded is resubscribed from the newest id seen.
        for (const known of state.rooms.values()) subscribe(known);
        break;
      case "message":
        if (!room) break;
        {
          const follow = room.id === state.open && nearBottom();
          if (add(room, frame) && room.id !== state.open) {
            room.unread++;
            renderRooms();
          }
          if (room.id === state.open) {
            if (follow || frame.user === state.me) scrollToBottom();
            state.typers.delete(frame.user);
            renderTyping();
            renderReads(room);
            markRead(room);
          }
        }
        break;
      case "edited":
      case "deleted":
        // A change has its own offset in the room (`seq`): the next resubscribe starts after it.
        if (room && frame.seq && (room.last === null || cmp(frame.seq, room.last) > 0)) room.last = frame.seq;
        if (room && room.messages.has(frame.id)) {
          const message = room.messages.get(frame.id);
          add(room, frame.type === "edited"
            ? { ...message, text: frame.text, editedAt: frame.at }
            : { ...message, text: null, deleted: true });
          renderReads(room);
        }
        break;
      case "receipt":
        if (room && frame.kind === "read") {
          room.reads.set(frame.user, frame.id);
          renderReads(room);
        }
        break;
      case "typing":
        if (room && room.id === state.open && frame.user !== state.me) someoneTyping(frame.user);
        break;
      case "gap":
        // More were missed than one replay holds: the range (after, before) comes from history.
        if (room) fillGap(room, frame.after, frame.before).catch(showError);
        break;
      case "subscribed":
        if (room && room.id === state.open) markRead(room);
        break;
      case "error":
        if (frame.ref !== "auth") {
          showError(new Error(`${frame.code}: ${frame.message}`));
        } else {
          // The key was refused: back to the sign-in form.
          state.socket.close();
          signOut();
        }
        break;
      default:
        break;
    }
  }

  async function fillGap(room, after, before) {
    let cursor = before;
    while (cursor !== null) {
      const page = await api("GET", `/api/chat/rooms/${room.id}/messages?limit=${PAGE_SIZE}&before=${cursor}`);
      let reached = page.next === null;
      for (const message of page.messages) {
        if (cmp(message.id, after) > 0) add(room, message); else reached = true;
      }
      cursor = reached ? null : page.next;
    }
    renderReads(room);
  }

  // ---- wiring ----

  function onSubmit(id, action) {
    $(id).addEventListener("submit", (event) => {
      event.preventDefault();
      showError(null);
      action().catch(showError);
    });
  }

  onSubmit("login-form", async () => {
    const name = $("login-name").value.trim();
    if (!name) throw new Error("a name is needed");
    const created = await api("POST", "/api/chat/users", { name });
    await signIn(created.key);
    $("key-details").open = true;
  });
  onSubmit("key-form", () => signIn($("login-key").value.trim()));
  onSubmit("new-room-form", async () => {
    const name = $("new-room-name").value.trim();
    if (!name) throw new Error("a room name is needed");
    const room = known(await api("POST", "/api/chat/rooms", { name }));
    $("new-room-name").value = "";
    await openRoom(room.id);
  });
  onSubmit("join-room-form", async () => {
    const id = $("join-room-id").value.trim();
    if (!/^[0-9]+$/.test(id)) throw new Error("a room id is a decimal number");
    const room = known(await api("POST", `/api/chat/rooms/${id}/join`));
    $("join-room-id").value = "";
    await openRoom(room.id);
  });
  onSubmit("dm-form", async () => {
    const user = $("dm-user").value.trim();
    if (!user) throw new Error("whom to write to?");
    const room = known(await api("POST", "/api/chat/direct", { user }));
    $("dm-user").value = "";
    await openRoom(room.id);
  });
  onSubmit("composer", async () => {
    const input = $("message-input");
    const text = input.value;
    input.value = "";
    await send(text);
  });
  $("message-input").addEventListener("input", typed);
  $("logout-button").addEventListener("click", signOut);
  $("load-older").addEventListener("click", () => {
    const room = state.rooms.get(state.open);
    if (room) loadOlder(room).then(() => renderReads(room)).catch(showError);
  });
  $("history").addEventListener("scroll", () => {
    const room = state.rooms.get(state.open);
    if (!room) return;
    if ($("history").scrollTop < NEAR_TOP_PX && room.next) loadOlder(room).then(() => renderReads(room)).catch(showError);
    if (nearBottom()) markRead(room);
  });
  document.addEventListener("visibilitychange", () => {
    const room = state.rooms.get(state.open);
    if (room) markRead(room);
  });

  // The test hook and a debugging aid: the live socket, to close it and watch the client recover.
  window.blueprintChat = { get socket() { return state.socket; }, state };

  const saved = localStorage.getItem(KEY_STORAGE);
  if (saved) signIn(saved).catch((error) => { localStorage.removeItem(KEY_STORAGE); showError(error); });
})();
