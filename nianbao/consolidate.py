"""The county's tables: tables 二, 三 and 四 summed cell by cell over the accepted reports."""

from __future__ import annotations

from typing import Any

from nianbao.model import Report, empty_table2
from nianbao.template import TABLE2_LIST_KEYS, TABLE3_KEYS


def _add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None  # an unknown figure makes the sum unknown, never silently smaller
    total = a + b
    return round(total, 4) if isinstance(total, float) else total


def sum_tables(reports: list[Report]) -> dict[str, Any]:
    """{"table2", "table3", "table4"} in the report's keys, each cell the sum over `reports`."""
    t2: dict[str, Any] = {k: ([0, 0, 0] if k in TABLE2_LIST_KEYS else 0) for k in empty_table2()}
    t3 = {k: [0] * 7 for k in TABLE3_KEYS}
    t4 = [0] * 15
    for r in reports:
        for k in t2:
            v = r.table2.get(k)
            if k in TABLE2_LIST_KEYS:
                v = v or [None] * 3
                t2[k] = [_add(a, b) for a, b in zip(t2[k], v, strict=True)]
            else:
                t2[k] = _add(t2[k], v)
        for k in TABLE3_KEYS:
            t3[k] = [_add(a, b) for a, b in zip(t3[k], r.table3.get(k) or [None] * 7, strict=True)]
        t4 = [_add(a, b) for a, b in zip(t4, r.table4, strict=True)]
    return {"table2": t2, "table3": t3, "table4": t4}


def headline(tables: dict[str, Any]) -> dict[str, Any]:
    """The figures a county office reads first."""
    t3, t4 = tables["table3"], tables["table4"]
    return {"new": t3["new"][6], "carried_over": t3["carried_over"][6], "total": t3["total"][6],
            "carried_forward": t3["carried_forward"][6], "review": t4[4],
            "litigation": None if t4[9] is None or t4[14] is None else t4[9] + t4[14]}
