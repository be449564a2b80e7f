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

// --- showing a place in the editor's textarea ---------------------------------------------
// A textarea scrolls by wrapped lines, which only the browser knows: a hidden copy of it (same
// width, font and wrapping) holds the text with the place in a <span>, and is measured.
const MIRRORED = [
  "fontFamily", "fontSize", "fontWeight", "fontStyle", "fontVariant", "letterSpacing",
  "wordSpacing", "lineHeight", "textIndent", "textTransform", "tabSize", "paddingTop",
  "paddingRight", "paddingBottom", "paddingLeft", "whiteSpace", "wordBreak", "overflowWrap",
  "lineBreak", "direction",
];

// The boxes of text[start, end) inside the textarea's content (scrollTop 0), in pixels.
function measureSpan(textarea, start, end) {
  const style = getComputedStyle(textarea);
  const mirror = document.createElement("div");
  for (const property of MIRRORED) mirror.style[property] = style[property];
  Object.assign(mirror.style, {
    position: "absolute", visibility: "hidden", top: "0", left: "-10000px", border: "0",
    boxSizing: "border-box", width: `${textarea.clientWidth}px`, height: "auto",
  });
  const text = textarea.value;
  const lineEnd = text.indexOf("\n", end);
  const span = document.createElement("span");
  span.textContent = text.slice(start, end) || "\u200b";
  // The rest of the line is there too: it decides where the span's last line breaks.
  mirror.append(text.slice(0, start), span, text.slice(end, lineEnd === -1 ? text.length : lineEnd));
  document.body.append(mirror);
  const origin = mirror.getBoundingClientRect();
  const boxes = Array.from(span.getClientRects(), (r) => ({
    top: r.top - origin.top, left: r.left - origin.left, width: Math.max(r.width, 2), height: r.height,
  }));
  mirror.remove();
  return boxes;
}

// The marks drawn over the textarea, in a layer that clips them to its visible box.
class TextMarks {
  constructor(textarea) {
    this.textarea = textarea;
    const wrap = document.createElement("div");
    wrap.className = "body-editor-wrap";
    textarea.before(wrap);
    wrap.append(textarea);
    this.layer = document.createElement("div");
    this.layer.className = "text-marks";
    this.layer.setAttribute("aria-hidden", "true");
    wrap.append(this.layer);
    this.span = null;
    this.boxes = [];
    textarea.addEventListener("scroll", () => this.draw());
    textarea.addEventListener("input", () => this.clear());
    new ResizeObserver(() => this.span && this.measure()).observe(textarea);
  }

  // Select text[start, end), scroll it to a third of the textarea's height, mark it and bring
  // the mark into the window.
  show(start, end, kind) {
    const { textarea } = this;
    textarea.focus({ preventScroll: true });
    textarea.setSelectionRange(start, end);
    this.span = [start, end];
    this.kind = kind;
    this.measure();
    const first = this.boxes[0] || { top: 0 };
    textarea.scrollTop = Math.max(0, first.top - textarea.clientHeight / 3);
    this.draw();
    const mark = this.layer.querySelector(".text-mark");
    if (!mark) return;
    const box = mark.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      window.scrollBy({ top: box.top - window.innerHeight / 3, behavior: "instant" });
    }
  }

  measure() {
    this.boxes = measureSpan(this.textarea, ...this.span);
    this.draw();
  }

  draw() {
    const { textarea, layer } = this;
    Object.assign(layer.style, {
      left: `${textarea.offsetLeft + textarea.clientLeft}px`,
      top: `${textarea.offsetTop + textarea.clientTop}px`,
      width: `${textarea.clientWidth}px`,
      height: `${textarea.clientHeight}px`,
    });
    layer.replaceChildren(
      ...this.boxes.map((b) => {
        const mark = document.createElement("div");
        mark.className = `text-mark text-mark-${this.kind || "finding"}`;
        Object.assign(mark.style, {
          top: `${b.top - textarea.scrollTop}px`,
          left: `${b.left - textarea.scrollLeft}px`,
          width: `${b.width}px`,
          height: `${b.height}px`,
        });
        return mark;
      }),
    );
  }

  clear() {
    this.span = null;
    this.boxes = [];
    this.layer.replaceChildren();
  }
}

function selectFinding(marks, item) {
  const text = marks.textarea.value;
  const { line, column, length } = item.dataset;
  const [start, end] = spanOf(text, Number(line), Number(column), Number(length || 1));
  marks.show(start, end, "finding");
}

// Paragraphs are the non-empty lines, numbered from 1 (as on the report page).
function paragraphSpans(text) {
  const spans = [];
  let offset = 0;
  for (const line of text.split("\n")) {
    if (line.trim()) spans.push({ start: offset, end: offset + line.length, text: line.trim() });
    offset += line.length + 1;
  }
  return spans;
}

function paragraphAt(text, offset) {
  const spans = paragraphSpans(text);
  const index = spans.findIndex((p) => offset >= p.start && offset <= p.end);
  return index + 1; // 0: a blank line
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
    Object.assign(item.dataset, {
      rule: f.rule, line: f.line, column: f.column, length: f.length, paragraph: f.paragraph,
    });
    const jump = document.createElement("button");
    jump.type = "button";
    jump.className = "link-button finding-jump";
    jump.title = "在正文中显示";
    jump.textContent = `第${f.paragraph}段`;
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

// --- the open comments beside the editor ----------------------------------------------------
// Each thread stays with its paragraph while the author edits: it is found again by the text
// the paragraph had the last time it was seen (new paragraphs above it shift its number).
function followParagraphs(textarea, notes) {
  const texts = paragraphSpans(textarea.value).map((p) => p.text);
  for (const note of notes) {
    const number = Number(note.dataset.paragraph);
    const seen = note.paragraphText;
    let found = seen === undefined ? number : texts.indexOf(seen) + 1;
    if (!found) found = Math.min(number, texts.length); // edited in place: same position
    note.paragraphText = texts[found - 1];
    if (found && found !== number) {
      note.dataset.paragraph = String(found);
      const jump = note.querySelector(".note-jump");
      jump.dataset.jumpParagraph = String(found);
      jump.textContent = `第${found}段`;
    }
  }
}

function showParagraph(marks, number, excerpt) {
  const text = marks.textarea.value;
  const paragraph = paragraphSpans(text)[number - 1];
  if (!paragraph) return;
  // The selected words when they are still there, else the whole paragraph.
  const at = excerpt ? text.slice(paragraph.start, paragraph.end).indexOf(excerpt) : -1;
  if (at >= 0) marks.show(paragraph.start + at, paragraph.start + at + excerpt.length, "comment");
  else marks.show(paragraph.start, paragraph.end, "comment");
}

async function resolveInPlace(form) {
  const note = form.closest(".note");
  const status = form.querySelector(".resolve-status");
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw response;
    const data = await response.json();
    note.classList.add("resolved");
    note.removeAttribute("data-paragraph");
    button.remove();
    status.textContent = `✓ ${data.message}`;
    const count = document.querySelector("[data-open-count]");
    const open = document.querySelectorAll(".note:not(.resolved)").length;
    if (count) count.textContent = `${open} 条`;
  } catch (error) {
    button.disabled = false;
    status.textContent =
      error && error.status === 409 ? "该意见已被处理，请刷新页面查看。" : "未能标记，请稍后再试。";
  }
}

function setUpRevisionNotes(textarea, marks) {
  const panel = document.getElementById("revision-notes");
  if (!panel) return;
  const notes = () => Array.from(panel.querySelectorAll(".note[data-paragraph]"));
  followParagraphs(textarea, notes());
  let current = 0;
  function highlight() {
    const number = paragraphAt(textarea.value, textarea.selectionStart);
    if (number === current) return;
    current = number;
    let first = null;
    for (const note of panel.querySelectorAll(".note")) {
      const here = number > 0 && note.dataset.paragraph === String(number);
      note.classList.toggle("note-current", here);
      if (here && !first) first = note;
    }
    // Inside the side column only: the page itself does not move while the author types.
    const side = panel.closest(".editor-side");
    if (first && side && side.scrollHeight > side.clientHeight) {
      side.scrollTop = first.offsetTop - side.offsetTop - 8;
    }
  }
  let timer = null;
  textarea.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      followParagraphs(textarea, notes());
      current = -1;
      highlight();
    }, 300);
  });
  for (const type of ["keyup", "mouseup", "focus"]) textarea.addEventListener(type, highlight);
  panel.addEventListener("click", (event) => {
    const jump = event.target.closest(".note-jump");
    if (!jump) return;
    const note = jump.closest(".note");
    showParagraph(marks, Number(note.dataset.paragraph), note.dataset.excerpt);
    highlight();
  });
  panel.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-resolve]");
    if (!form) return;
    event.preventDefault(); // the text being edited stays on the page, unsaved or not
    resolveInPlace(form);
  });
}

function setUpEditor() {
  const textarea = document.querySelector("textarea[data-check-url]");
  const panel = document.getElementById("findings");
  if (!textarea || !panel) return;
  const title = document.querySelector('input[name="title"]');
  const suggestion = document.querySelector(".title-suggestion");
  let timer = null;
  let sequence = 0;
  const marks = new TextMarks(textarea);
  setUpRevisionNotes(textarea, marks);

  panel.addEventListener("click", (event) => {
    const button = event.target.closest(".finding-jump");
    if (button) selectFinding(marks, button.closest(".finding"));
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

// --- commenting on the report page where one reads ------------------------------------------
// The comment form moves to the paragraph whose number was pressed, or in which words were
// selected (they become the comment's quoted words); 取消 puts it back under the comments.
const EXCERPT_MAX = 200;

function setUpInlineComments() {
  const form = document.getElementById("comment-form");
  if (!form || !document.querySelector("[data-comment-paragraph]")) return;
  const home = document.createComment("comment form");
  form.before(home);
  const select = form.querySelector("select[name=paragraph]");
  const excerptInput = form.querySelector("input[name=excerpt]");
  const quote = form.querySelector(".comment-form-quote");
  const cancel = form.querySelector("[data-comment-cancel]");
  const box = form.querySelector("textarea[name=body]");

  // The selected words stay marked while the comment on them is written (the selection
  // itself goes when the comment box takes the focus). Browsers without CSS highlights
  // show the quote in the form only.
  const marking = window.CSS && CSS.highlights && typeof Highlight === "function";
  function setExcerpt(text, range) {
    excerptInput.value = text;
    quote.querySelector("[data-excerpt-text]").textContent = text;
    quote.hidden = !text;
    if (!marking) return;
    if (text && range) CSS.highlights.set("comment-excerpt", new Highlight(range));
    else CSS.highlights.delete("comment-excerpt");
  }

  function openAt(row, excerpt, { focus, range = null }) {
    const number = row.querySelector("[data-comment-paragraph]").dataset.commentParagraph;
    select.value = number;
    setExcerpt(excerpt, range);
    const text = row.querySelector(".para-text, .doc-title");
    // Under the paragraph, before its comments: the form reads as an answer to that text.
    if (form.previousElementSibling !== text) text.after(form);
    form.classList.add("comment-form-inline");
    cancel.hidden = false;
    form.scrollIntoView({ block: "nearest" });
    if (focus) box.focus({ preventScroll: true });
  }

  function close() {
    home.after(form);
    form.classList.remove("comment-form-inline");
    cancel.hidden = true;
    setExcerpt("");
  }

  document.querySelectorAll("[data-comment-paragraph]").forEach((button) => {
    button.addEventListener("click", () => openAt(button.closest(".para-row"), "", { focus: true }));
  });
  cancel.addEventListener("click", () => {
    const row = form.closest(".para-row");
    close();
    const button = row && row.querySelector("[data-comment-paragraph]");
    if (button) button.focus();
  });
  select.addEventListener("change", () => setExcerpt(""));
  // Refused (an empty comment): shown again where it was being written.
  if (form.querySelector(".field-error") && select.value) {
    const button = document.querySelector(`[data-comment-paragraph="${select.value}"]`);
    if (button) openAt(button.closest(".para-row"), excerptInput.value, { focus: true });
  }

  // Words selected within one paragraph's text (by mouse, keyboard or touch) open the form.
  function selected() {
    const selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return;
    if (form.contains(selection.anchorNode)) return;
    const container = (node) => (node && node.nodeType === 1 ? node : node && node.parentElement);
    const from = container(selection.anchorNode)?.closest(".para-text, .doc-title");
    const to = container(selection.focusNode)?.closest(".para-text, .doc-title");
    const row = from && from === to ? from.closest(".para-row") : null;
    if (!row || !row.querySelector("[data-comment-paragraph]")) return;
    const words = selection.toString().replace(/\s+/g, " ").trim();
    if (!words) return;
    const excerpt = words.length > EXCERPT_MAX ? words.slice(0, EXCERPT_MAX) : words;
    openAt(row, excerpt, { focus: false, range: selection.getRangeAt(0).cloneRange() });
  }
  const article = document.querySelector("article.document");
  article.addEventListener("mouseup", () => setTimeout(selected, 0));
  article.addEventListener("keyup", (event) => event.shiftKey && selected());
  let touchTimer = null;
  document.addEventListener("selectionchange", () => {
    if (!matchMedia("(pointer: coarse)").matches) return; // touch: no mouseup to wait for
    clearTimeout(touchTimer);
    touchTimer = setTimeout(selected, 600);
  });
}

// After posting, the page opens at the new comment (beside its paragraph): say so there.
function markPostedComment() {
  const flash = document.querySelector(".flash-success");
  const match = /^#comment-(\d+)$/.exec(window.location.hash);
  if (!flash || !match) return;
  const comment = document.getElementById(`comment-${match[1]}`);
  if (!comment) return;
  comment.classList.add("comment-posted");
  const note = document.createElement("p");
  note.className = "comment-posted-note";
  note.setAttribute("role", "status");
  note.textContent = `✓ ${flash.textContent.trim()}`;
  comment.prepend(note);
  // The paragraph it is about above it, when both fit in the window; after the browser's own
  // jump to the #comment-… fragment, which comes once the page has loaded.
  function withItsParagraph() {
    const text = comment.closest(".para-row")?.querySelector(".para-text, .doc-title");
    const box = comment.getBoundingClientRect();
    const top = text ? text.getBoundingClientRect().top : box.top;
    const margin = 16;
    const fits = box.bottom - top + 2 * margin <= window.innerHeight;
    window.scrollBy({ top: (fits ? top : box.top) - margin, behavior: "instant" });
  }
  if (document.readyState === "complete") requestAnimationFrame(withItsParagraph);
  else window.addEventListener("load", () => requestAnimationFrame(withItsParagraph));
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
  setUpInlineComments();
  markPostedComment();
  // Ask before irreversible steps (the workflow table marks them).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
  // A page shown again after a refused POST (its text kept) names the page's own address,
  // so that the address bar does not stay on the action's URL.
  const pageUrl = document.body.dataset.pageUrl;
  if (pageUrl && window.location.pathname !== pageUrl) {
    window.history.replaceState(null, "", pageUrl);
  }
  setUpPhraseForm();
  setUpEditor();
  setUpUnreadBadge();
  setUpMenu();
  setUpScrollRegions();
});

// The new phrase book entry: the fields of a confusion only show for that kind.
function setUpPhraseForm() {
  const form = document.querySelector("form.phrase-form");
  if (!form) return;
  const kind = form.querySelector("select[name=kind]");
  const confusion = form.querySelector(".confusion-only");
  const show = () => { confusion.hidden = kind.value !== "confusion"; };
  kind.addEventListener("change", show);
  show();
}
