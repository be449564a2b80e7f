// Small enhancements only: every page works without JavaScript.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// Character offsets from the server count code points; JavaScript strings count UTF-16 units.
function offsetOf(text, line, column) {
  const lines = text.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i += 1) offset += lines[i].length + 1;
  const current = lines[line - 1] || "";
  return offset + Array.from(current).slice(0, column - 1).join("").length;
}

function selectFinding(textarea, item) {
  const line = Number(item.dataset.line);
  const column = Number(item.dataset.column);
  const length = Number(item.dataset.length || 1);
  const text = textarea.value;
  const start = offsetOf(text, line, column);
  const rest = text.slice(start);
  const end = start + Array.from(rest).slice(0, length).join("").length;
  textarea.focus({ preventScroll: true });
  textarea.setSelectionRange(start, end);
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 24;
  const visualLine = text.slice(0, start).split("\n").length - 1;
  textarea.scrollTop = Math.max(0, visualLine * lineHeight - textarea.clientHeight / 3);
}

// Where a finding is in ``text``, as UTF-16 offsets: [start, end).
function spanOf(text, line, column, length) {
  const start = offsetOf(text, line, column);
  // A code point is at most two UTF-16 units: look no further than that.
  const covered = Array.from(text.slice(start, start + 2 * length)).slice(0, length);
  return [start, start + covered.join("").length];
}

// A finding with a suggestion (the wording check's) replaces its text with one click. The text
// it covered when checked is kept on the item: if the author has typed over it since, nothing is
// replaced and the text is checked again instead.
function applySuggestion(textarea, item) {
  const { line, column, wrong, suggestion } = item.dataset;
  const text = textarea.value;
  const [start, end] = spanOf(text, Number(line), Number(column), Array.from(wrong).length);
  if (text.slice(start, end) !== wrong) {
    item.classList.add("finding-stale");
    textarea.dispatchEvent(new Event("input"));
    return;
  }
  textarea.focus({ preventScroll: true });
  textarea.setRangeText(suggestion, start, end, "select");
  item.classList.add("finding-applied");
  item.querySelector(".finding-apply").disabled = true;
  textarea.dispatchEvent(new Event("input"));
}

function renderFindings(panel, data, textarea, checkedText) {
  const summary = panel.querySelector(".findings-summary");
  const list = panel.querySelector(".findings-list");
  summary.dataset.errors = data.errors;
  summary.dataset.warnings = data.warnings;
  summary.textContent = data.findings.length
    ? `${data.errors} 处错误（提交前必须改正）、${data.warnings} 处提醒`
    : "未发现问题。";
  list.replaceChildren();
  for (const f of data.findings) {
    const item = document.createElement("li");
    item.className = `finding finding-${f.severity}`;
    Object.assign(item.dataset, { rule: f.rule, line: f.line, column: f.column, length: f.length });
    const jump = document.createElement("button");
    jump.type = "button";
    jump.className = "link-button finding-jump";
    jump.textContent = `第${f.line}行第${f.column}列`;
    const severity = document.createElement("span");
    severity.className = "finding-severity";
    severity.textContent = f.severity === "error" ? "错误" : "提醒";
    const message = document.createElement("span");
    message.className = "finding-message";
    message.textContent = f.message;
    const excerpt = document.createElement("q");
    excerpt.className = "finding-excerpt";
    excerpt.textContent = f.excerpt;
    item.append(jump, " ", severity, " ", message, " ", excerpt);
    if (f.suggestion) {
      const [start, end] = spanOf(checkedText, f.line, f.column, f.length);
      Object.assign(item.dataset, { wrong: checkedText.slice(start, end), suggestion: f.suggestion });
      const apply = document.createElement("button");
      apply.type = "button";
      apply.className = "finding-apply";
      apply.textContent = `改为“${f.suggestion}”`;
      item.append(apply);
    }
    list.append(item);
  }
  panel.dataset.checkedLength = String(textarea.value.length);
}

function setUpEditor() {
  const textarea = document.querySelector("textarea[data-check-url]");
  const panel = document.getElementById("findings");
  if (!textarea || !panel) return;
  const title = document.querySelector('input[name="title"]');
  const suggestion = document.querySelector(".title-suggestion");
  let timer = null;
  let sequence = 0;

  panel.addEventListener("click", (event) => {
    const button = event.target.closest(".finding-jump");
    if (button) selectFinding(textarea, button.closest(".finding"));
    const apply = event.target.closest(".finding-apply");
    if (apply) applySuggestion(textarea, apply.closest(".finding"));
  });

  function offerTitle(text) {
    if (!suggestion || !title) return;
    const show = text && !title.value.trim();
    suggestion.hidden = !show;
    if (show) suggestion.querySelector("[data-title-text]").textContent = `“${text}”`;
    suggestion.dataset.title = text || "";
  }
  if (suggestion) {
    suggestion.querySelector("[data-use-title]").addEventListener("click", () => {
      title.value = suggestion.dataset.title;
      suggestion.hidden = true;
    });
  }

  async function runCheck() {
    const mine = ++sequence;
    const checked = textarea.value;
    try {
      const response = await fetch(textarea.dataset.checkUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ body: checked }),
        credentials: "same-origin",
      });
      if (!response.ok || mine !== sequence) return;
      const data = await response.json();
      renderFindings(panel, data, textarea, checked);
      offerTitle(data.title_suggestion);
    } catch (error) {
      // Offline or server busy: the checks run again on save.
    }
  }
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(runCheck, 500);
  });
  if (title) title.addEventListener("input", () => offerTitle(suggestion && suggestion.dataset.title));
  runCheck();
}

// A count shown as a badge (hidden from screen readers) and said in words (visually hidden).
function setBadge(holder, count, words) {
  holder.querySelectorAll(".badge, .badge-text").forEach((node) => node.remove());
  if (!count) return;
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.setAttribute("aria-hidden", "true");
  badge.textContent = String(count);
  const text = document.createElement("span");
  text.className = "visually-hidden badge-text";
  text.textContent = words;
  holder.append(badge, text);
}

function showUnread(link, count) {
  setBadge(link, count, `（${count}条未读）`);
  const menu = document.querySelector(".menu-button");
  if (menu) setBadge(menu, count, `（${count}条未读通知）`);
}

// Phones: the menu toggle is a checkbox (it works without JavaScript, with Space); Enter
// opens it as well, as on a button, and Escape closes it again from anywhere in the menu.
function setUpMenu() {
  const toggle = document.getElementById("menu-toggle");
  const menu = document.getElementById("topmenu");
  if (!toggle || !menu) return;
  toggle.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    toggle.click();
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !toggle.checked) return;
    toggle.checked = false;
    toggle.focus();
  });
}

// A table wider than the screen scrolls inside its region; a shade on the side where more
// columns wait says so (without JavaScript the hint and a right-hand shade stay on).
function setUpScrollRegions() {
  document.querySelectorAll("[data-scroll-region]").forEach((region) => {
    const scroller = region.querySelector(".table-scroll");
    if (!scroller) return;
    function update() {
      const more = scroller.scrollWidth - scroller.clientWidth;
      region.dataset.js = "";
      region.toggleAttribute("data-overflows", more > 1);
      region.toggleAttribute("data-more-left", scroller.scrollLeft > 1);
      region.toggleAttribute("data-more-right", scroller.scrollLeft < more - 1);
    }
    scroller.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  });
}

// The unread count in the header follows new notifications while a page stays open: asked
// for once a minute while the tab is visible, and at once when it becomes visible again.
const UNREAD_EVERY_MS = 60000;

function setUpUnreadBadge() {
  const link = document.querySelector(".nav-inbox[data-unread-url]");
  if (!link) return;
  let timer = null;
  let busy = false;
  async function refresh() {
    if (busy || document.visibilityState !== "visible") return;
    busy = true;
    try {
      const response = await fetch(link.dataset.unreadUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.status === 401) {
        // The session has ended: the next click shows the login page and says why.
        clearInterval(timer);
        document.removeEventListener("visibilitychange", refresh);
        return;
      }
      if (!response.ok) return; // e.g. the database is away for a moment (503)
      showUnread(link, (await response.json()).unread);
    } catch (error) {
      // The network is away for a moment, or the answer was not ours: try again next round.
    } finally {
      busy = false;
    }
  }
  timer = setInterval(refresh, UNREAD_EVERY_MS);
  document.addEventListener("visibilitychange", refresh);
}

document.addEventListener("DOMContentLoaded", () => {
  // Clicking a paragraph number selects it in the comment form.
  const select = document.querySelector("#comment-form select[name=paragraph]");
  document.querySelectorAll("[data-paragraph-link]").forEach((link) => {
    link.addEventListener("click", () => {
      if (!select) return;
      select.value = link.dataset.paragraphLink;
      const box = document.getElementById("comment-body");
      if (box) box.focus({ preventScroll: true });
    });
  });
  // Ask before irreversible steps (the workflow table marks them).
  document.querySelectorAll("form[data-event-form][data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      const label = form.querySelector("button").textContent.trim();
      if (!window.confirm(`确定要${label}吗？`)) e.preventDefault();
    });
  });
  setUpEditor();
  setUpUnreadBadge();
  setUpMenu();
  setUpScrollRegions();
});
