"""Formula (CSV) injection: what we write into a sheet is shown, never evaluated.

A cell text that begins with ``= + - @``, a tab or a carriage return is taken as a formula by
Excel, WPS or LibreOffice (``=HYPERLINK("http://…")`` leaks data when clicked; DDE payloads run
programs). Every xlsx and csv writer of ours passes its cells through :func:`safe_cell`:

- an openpyxl cell holding such a text is typed as text (``t="s"``, with Excel's quote prefix
  so that editing it keeps it text): the text itself is unchanged and re-imports as written;
- a CSV value, which has no type, gets an apostrophe in front, as OWASP recommends; a text that
  is a plain number (``-12``, ``+3.5``) is left alone, the programs read it as that number.

Numbers, dates and booleans are never touched: a negative amount stays a number.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FORMULA_LEADS", "safe_cell"]

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def safe_cell(cell: Any) -> Any:
    """``cell`` made safe to write: an openpyxl cell (returned, retyped if need be) or a CSV value.

    >>> safe_cell('=HYPERLINK("http://x","y")'), safe_cell("-1+2"), safe_cell("-12"), safe_cell(-12)
    ('\\'=HYPERLINK("http://x","y")', "'-1+2", '-12', -12)
    """
    from openpyxl.cell.cell import Cell

    if isinstance(cell, Cell):
        value = cell.value
        if isinstance(value, str) and value.startswith(FORMULA_LEADS):
            cell.data_type = "s"  # openpyxl makes "=…" a formula; the others are text already
            cell.quotePrefix = True
        return cell
    if isinstance(cell, str) and cell.startswith(FORMULA_LEADS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell
