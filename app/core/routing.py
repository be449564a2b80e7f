"""Ids in URLs and query strings stay within the range of the INTEGER id columns.

A larger number cannot name a row, and handing it to the database fails (SQLite: OverflowError;
PostgreSQL: out of range) instead of finding nothing. Out-of-range ids in a URL are therefore a
plain 404, and in a query string they count as absent.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every route: 0 … 2³¹−1, else the URL does not match (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ROW_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def is_row_id(value: int) -> bool:
    """Whether ``value`` can be a row's id (positive, within the INTEGER columns)."""
    return 0 < value <= MAX_ROW_ID


def row_id(text: str) -> int:
    """``request.args.get(name, type=row_id)``: None for anything that cannot be an id.
    Only ASCII digits: int() also reads ２ and ١, and str.isdigit() passes ², which int()
    refuses."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    value = int(text)
    if not is_row_id(value):
        raise ValueError(text)
    return value


def row_ids(texts: list[str]) -> list[int]:
    """The values of a repeated field (checkboxes) that can be ids; the others are ignored."""
    ids = []
    for text in texts:
        try:
            ids.append(row_id(text))
        except ValueError:
            continue
    return ids


def init_app(app: Flask) -> None:
    # Before any blueprint: rules pick their converter when they are added.
    app.url_map.converters["int"] = RowIdConverter
