// The playground's chat: posts what the user does to the local server, long-polls what the bot sent.
"use strict";
const chat = document.getElementById("chat");
const statusLine = document.getElementById("status");
let version = -1;

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// Emoji are drawn from the glyphs shipped in /static/emoji/ (Twemoji): a machine without a colour-emoji font
// would show empty boxes. One that has no file falls back to the character itself.
const EMOJI = /(\p{Emoji_Presentation}\uFE0F?)/u;

function withGlyphs(text) {
  return text.split(EMOJI).filter(Boolean).map(part => {
    if (!EMOJI.test(part)) return part;
    const glyph = el("img", {class: "emoji", alt: part, draggable: "false",
      src: "/static/emoji/" + part.codePointAt(0).toString(16) + ".svg"});
    glyph.addEventListener("error", () => glyph.replaceWith(part), {once: true});
    return glyph;
  });
}

function glyphed(tag, attrs, text) {
  const node = el(tag, attrs);
  node.append(...withGlyphs(text));
  return node;
}

// Text with its URLs as links, the way Telegram shows them.
function linkified(text) {
  const span = el("span");
  const parts = text.split(/(https?:\/\/[^\s]+)/g);
  parts.forEach((part, i) => {
    span.append(...(i % 2 ? [el("a", {href: part, target: "_blank", rel: "noopener", text: part})] : withGlyphs(part)));
  });
  return span;
}

function caption(text) {
  const [first, ...rest] = text.split("\n");
  const cap = el("div", {class: "cap"}, [glyphed("b", {}, first)]);
  if (rest.length) cap.append(linkified(rest.join("\n")));
  return cap;
}

function keyboard(message) {
  if (!message.buttons.length) return null;
  return el("div", {class: "keyboard"}, message.buttons.map(row => el("div", {class: "kb-row"}, row.map(button =>
    button.url
      ? glyphed("a", {class: "kb-url", href: button.url, target: "_blank", rel: "noopener"}, button.text)
      : buttonFor(message, button)))));
}

function buttonFor(message, button) {
  const node = glyphed("button", {class: "kb-action", type: "button", "aria-label": button.text}, button.text);
  node.addEventListener("click", () => post("/api/press", {data: button.data, message_id: message.id}));
  return node;
}

function messageRow(message) {
  const row = el("div", {class: "row " + (message.from_bot ? "bot" : "user"), "data-id": message.id});
  if (message.photo) {
    const bubble = el("div", {class: "bubble photo-msg"}, [el("img", {src: message.photo, alt: "photo"})]);
    if (message.text) bubble.append(caption(message.text));
    row.append(bubble);
  } else {
    const text = message.document ? "📄 " + message.document : message.text;
    const bubble = el("div", {class: "bubble"}, [linkified(text)]);
    if (message.edited) bubble.append(el("span", {class: "edited", text: "edited"}));
    row.append(bubble);
  }
  const kb = keyboard(message);
  if (kb) row.append(kb);
  return row;
}

function albumRow(messages) {
  const grid = el("div", {class: "album n" + messages.length}, messages.map(m =>
    el("div", {class: "tile"}, [el("img", {src: m.photo, alt: m.text.split("\n")[0], loading: "eager"}), caption(m.text)])));
  return el("div", {class: "row " + (messages[0].from_bot ? "bot" : "user")}, [el("div", {class: "bubble photo-msg"}, [grid])]);
}

function render(state) {
  const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
  const rows = [];
  for (let i = 0; i < state.messages.length; i++) {
    const message = state.messages[i];
    if (message.album) {
      const group = [message];
      while (i + 1 < state.messages.length && state.messages[i + 1].album === message.album) group.push(state.messages[++i]);
      rows.push(albumRow(group));
    } else rows.push(messageRow(message));
  }
  chat.replaceChildren(...(rows.length ? rows : [document.getElementById("hint") || el("div")]));
  statusLine.textContent = state.busy ? "sending photos…" : "bot · local playground";
  statusLine.classList.toggle("busy", state.busy);
  if (atBottom || rows.length) chat.scrollTop = chat.scrollHeight;
}

async function poll() {
  for (;;) {
    try {
      const response = await fetch("/api/messages?after=" + version);
      const state = await response.json();
      version = state.version;
      render(state);
    } catch (error) {
      await new Promise(resolve => setTimeout(resolve, 1000));
    }
  }
}

async function post(path, body) {
  const options = body instanceof FormData ? {method: "POST", body}
    : {method: "POST", body: JSON.stringify(body), headers: {"Content-Type": "application/json"}};
  const response = await fetch(path, options);
  if (!response.ok) chat.append(el("div", {class: "error", text: await response.text()}));
}

function sendFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  return post("/api/photo", form);
}

async function loadExamples() {
  const examples = await (await fetch("/api/examples")).json();
  const strip = document.getElementById("examples");
  for (const example of examples) {
    const chip = el("button", {class: "chip", type: "button", title: "Send " + example.name},
      [el("img", {src: example.url, alt: ""}), example.name.replace(/-\d+\.\w+$/, "").replace(/-/g, " ")]);
    chip.addEventListener("click", () => {
      const form = new FormData();
      form.append("example", example.name);
      post("/api/photo", form);
    });
    strip.append(chip);
  }
}

document.getElementById("file").addEventListener("change", event => {
  if (event.target.files[0]) sendFile(event.target.files[0]);
  event.target.value = "";
});
document.getElementById("composer").addEventListener("submit", event => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (input.value.trim()) post("/api/text", {text: input.value.trim()});
  input.value = "";
});
const app = document.getElementById("app");
app.addEventListener("dragover", event => { event.preventDefault(); app.classList.add("dragging"); });
app.addEventListener("dragleave", event => { if (event.target === app || event.target.id === "drop") app.classList.remove("dragging"); });
app.addEventListener("drop", event => {
  event.preventDefault();
  app.classList.remove("dragging");
  if (event.dataTransfer.files[0]) sendFile(event.dataTransfer.files[0]);
});
loadExamples();
poll();
