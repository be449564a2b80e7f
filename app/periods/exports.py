"""The dashboard as a spreadsheet: .xlsx (openpyxl) and .csv (UTF-8 with BOM, for Excel).

Both carry the rows and columns of the filtered table; the .xlsx, read by people, also says
on top which period it is, its due date and when it was exported. Names typed by people
(groups, units) are written so that a spreadsheet never runs them as formulas.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.core.times import to_local, utcnow
from app.periods.dashboard import STATE_FILTER_LABELS, Dashboard, Row

COLUMNS = [
    "指导组",
    "单位",
    "状态",
    "当前处理",
    "在当前状态天数",
    "截止日期",
    "到期提示",
    "最近催办",
]
# What Excel, LibreOffice and Google Sheets treat as the start of a formula (OWASP
# “CSV injection”): such a cell gets a leading apostrophe in CSV.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


def defuse(text: str) -> str:
    """A leading apostrophe for text a spreadsheet would read as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _local_naive(moment: datetime | None) -> datetime | None:
    # Spreadsheets have no time zones: write the Beijing wall-clock time the page shows.
    return None if moment is None else to_local(moment).replace(tzinfo=None)


def row_values(row: Row, due_date: date) -> list[str | int | date | datetime | None]:
    """One row in COLUMNS order, with real dates and numbers (the CSV writer formats them)."""
    return [
        row.group.name,
        row.unit.name,
        row.state_label,
        row.now_with,
        row.days_in_state,
        due_date,
        row.deadline_label,
        _local_naive(row.last_reminder),
    ]


def to_csv(dashboard: Dashboard) -> bytes:
    """CSV in UTF-8 with a BOM (so that Excel reads the Chinese), CRLF line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in dashboard.rows:
        writer.writerow([_csv_cell(value) for value in row_values(row, dashboard.period.due_date)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: object) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return value
    return defuse(str(value))


def _display_width(value: object) -> int:
    """Roughly how many Latin characters wide a value shows (CJK counts as two)."""
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def heading_lines(dashboard: Dashboard, exported_at: datetime) -> list[str]:
    """What the sheet is, above its table: the period, its due date, when it was exported
    and the filters that made it (a printed or forwarded sheet must say all that)."""
    period = dashboard.period
    lines = [f"{period.name} 填报进度"]
    about = (
        f"截止日期：{period.due_date:%Y年%m月%d日}"
        f"　导出时间：{exported_at:%Y年%m月%d日 %H:%M}（北京时间）"
    )
    chosen = [group.name for group in dashboard.groups if group.id == dashboard.group_id]
    if dashboard.state is not None:
        chosen.append(STATE_FILTER_LABELS[dashboard.state])
    if chosen:
        about += "　筛选：" + "、".join(chosen)
    lines.append(about)
    return lines


def to_xlsx(dashboard: Dashboard, *, exported_at: datetime | None = None) -> bytes:
    """One sheet: the period's name, due date and the export time on top, then a bold,
    frozen header row with a filter, then one row per unit."""
    exported_at = to_local(exported_at or utcnow())
    rows = [row_values(row, dashboard.period.due_date) for row in dashboard.rows]
    heading = heading_lines(dashboard, exported_at)
    top = len(heading) + 2  # the header row, after the heading and a blank line
    # Write-only (streamed) sheets are about twice as fast; widths must be known first.
    workbook = Workbook(write_only=True)
    workbook.properties.title = heading[0]
    workbook.properties.created = exported_at.replace(tzinfo=None)
    sheet = workbook.create_sheet("填报进度")
    for column in range(len(COLUMNS)):
        width = max(_display_width(values[column]) for values in [COLUMNS, *rows])
        sheet.column_dimensions[get_column_letter(column + 1)].width = min(width + 2, 60)
    sheet.freeze_panes = f"A{top + 1}"
    sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(COLUMNS))}{len(rows) + top}"
    sheet.append([_xlsx_cell(sheet, heading[0], font=TITLE)])
    for line in heading[1:]:
        sheet.append([_xlsx_cell(sheet, line)])
    sheet.append([])
    sheet.append([_xlsx_cell(sheet, title, font=BOLD) for title in COLUMNS])
    for values in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value: object, *, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # openpyxl makes any text starting with "=" a formula; keep it text.
        cell.data_type = "s"
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    if font is not None:
        cell.font = font
    return cell
