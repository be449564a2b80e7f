// Small enhancements only: every page works without JavaScript.
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
  // Ask before irreversible steps.
  document.querySelectorAll("form[data-event-form]").forEach((form) => {
    const event = form.dataset.eventForm;
    if (!["approve", "forward", "submit", "reopen"].includes(event)) return;
    form.addEventListener("submit", (e) => {
      const label = form.querySelector("button").textContent.trim();
      if (!window.confirm(`确定要${label}吗？`)) e.preventDefault();
    });
  });
});
