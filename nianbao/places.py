"""Places in the template's own words, for messages: 第五部分“存在的主要问题及改进情况”第2段,
表三“（七）总计”行“自然人”列."""

from __future__ import annotations

from nianbao.model import Location
from nianbao.template import (
    SECTION_BY_KEY,
    TABLE2_BY_KEY,
    TABLE3_BY_KEY,
    TABLE3_COLUMNS,
    TABLE4_COLUMNS,
    TABLE_SHORT,
)


def section_name(key: str) -> str:
    s = SECTION_BY_KEY[key]
    return f"第{s.numeral}部分“{s.title}”"


def row_label(table: str, row: str | None) -> str:
    if table == "table2" and row in TABLE2_BY_KEY:
        return TABLE2_BY_KEY[row].label
    if table == "table3" and row in TABLE3_BY_KEY:
        return TABLE3_BY_KEY[row].label
    return row or ""


def column_label(table: str, row: str | None, column: str | None) -> str:
    if column is None:
        return ""
    if table == "table2" and row in TABLE2_BY_KEY:
        for c in TABLE2_BY_KEY[row].columns:
            if c.key == column:
                return c.label
    if table == "table3":
        for c in TABLE3_COLUMNS:
            if c.key == column:
                return c.label
    if table == "table4":
        for c in TABLE4_COLUMNS:
            if c.key == column:
                return c.label
    return column


def place(loc: Location) -> str:
    """The place a clerk can find in their own document."""
    parts: list[str] = []
    if loc.table:
        text = TABLE_SHORT[loc.table]
        if loc.row and loc.table != "table4":
            text += f"“{row_label(loc.table, loc.row)}”行"
        if loc.column:
            col = column_label(loc.table, loc.row, loc.column)
            text += f"“{col}”列"
        parts.append(text)
    elif loc.section:
        text = section_name(loc.section)
        if loc.paragraph:
            text += f"第{loc.paragraph}段"
        parts.append(text)
    elif loc.paragraph:
        parts.append(f"开头说明第{loc.paragraph}段")
    if loc.page:
        parts.append(f"（第{loc.page}页）" if parts else f"第{loc.page}页")
    return "".join(parts)
