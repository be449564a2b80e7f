"""How long the editor takes to scroll a finding into view and mark it (app.js, TextMarks),
measured in headless Chromium on texts up to the saving limit (200,000 characters).

Run: .venv/bin/python bench/editor_jump.py  — prints figures (median of 5 clicks on the last
finding of the text, at 1366 px and 390 px). The target is that a click answers at once, under
200 ms at the limit: the hidden copy of the textarea is laid out once per click.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SIZES = (20_000, 100_000, 200_000)
WIDTHS = (1366, 390)
PARAGRAPH = "各支部按照工作方案推进阶段任务，组织党员参加集中学习，明确责任人和完成时限。"

MEASURE = """([n, paragraph]) => {
  const box = document.querySelector('textarea');
  let text = '';
  for (let i = 0; text.length < n; i += 1) text += paragraph.repeat(1 + (i % 7)) + '\\n';
  box.value = text;
  const marks = window.marks || (window.marks = new TextMarks(box));
  const start = text.length - 30;
  const runs = [];
  for (let k = 0; k < 5; k += 1) {
    const t0 = performance.now();
    marks.show(start, start + 4, 'finding');
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  return [runs[2], box.scrollTop];
}"""


def main() -> None:
    css = (ROOT / "app/static/app.css").read_text(encoding="utf-8")
    page_html = (
        f"<style>{css}</style><main class=page><form>"
        "<textarea class=body-editor name=body rows=26></textarea></form></main>"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"]
        )
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_content(page_html)
            page.add_script_tag(path=str(ROOT / "app/static/app.js"))
            for size in SIZES:
                ms, scrolled = page.evaluate(MEASURE, [size, PARAGRAPH])
                print(
                    f"{width:>5} px  {size:>7,} characters: {ms:6.1f} ms "
                    f"(textarea scrolled to {scrolled:,.0f} px)"
                )
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
