"""Bodies (乡镇, departments) and the county's roster: names, aliases, kinds, name matching."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from nianbao.template import flat

KINDS = ("township", "department", "other")


@dataclass(frozen=True)
class Body:
    code: str
    name: str
    kind: str = "other"
    aliases: tuple[str, ...] = ()
    contacts: tuple[dict, ...] = field(default=(), compare=False, hash=False)
    active: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Roster:
    county: str
    bodies: tuple[Body, ...]
    parents: tuple[str, ...] = ()  # 邢台市, 河北省: places above the county

    def find(self, name: str | None) -> Body | None:
        """The roster body a written name refers to (巨鹿县官亭镇人民政府 → 官亭镇)."""
        if not name:
            return None
        key = canonical(name, self.county)
        for b in self.bodies:
            if any(canonical(n, self.county) == key for n in b.names):
                return b
        return None

    def by_code(self, code: str) -> Body | None:
        return next((b for b in self.bodies if b.code == code), None)


def canonical(name: str, county: str | None = None) -> str:
    """A name reduced for comparison: no whitespace, no county prefix (the given county's, or
    any "X县" when the county is not known), no 人民政府 after a township's name."""
    n = flat(name)
    if county:
        if n.startswith(county) and len(n) > len(county):
            n = n[len(county):]
    else:
        n = re.sub(r"^[\u4e00-\u9fff]{2,3}?县(?=[\u4e00-\u9fff]{2})", "", n)
    n = re.sub(r"(镇|乡|街道)(人民政府|政府|办事处)$", r"\1", n)
    return n


def infer_kind(name: str | None) -> str:
    """township · county (the county government itself) · department · city · other."""
    if not name:
        return "other"
    n = flat(name)
    if re.search(r"(镇|乡|街道)(人民政府|政府|办事处)?$", n):
        return "township"
    if re.search(r"(县|区|旗)(人民政府|政府)$", n):
        return "county"
    if re.search(r"市(人民政府|政府)$", n):
        return "city"
    if re.search(r"(局|委员会|委|办公室|办|中心|院|所|队|站|馆|厅|部|会|园区|开发区|管委会|公司)$", n):
        return "department"
    return "other"


def load_roster(path: str | Path) -> Roster:
    """A roster from YAML ({county, parents, bodies: [{code, name, kind, aliases}]}), CSV
    (code,name,kind,aliases with aliases separated by |) or plain text (one name per line)."""
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text) or {}
        bodies = tuple(
            Body(
                code=str(b.get("code") or b["name"]),
                name=str(b["name"]),
                kind=str(b.get("kind") or "other"),
                aliases=tuple(b.get("aliases") or ()),
                contacts=tuple(b.get("contacts") or ()),
                active=bool(b.get("active", True)),
            )
            for b in data.get("bodies") or []
        )
        return Roster(str(data.get("county") or ""), bodies, tuple(data.get("parents") or ()))
    if p.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        bodies = tuple(
            Body(code=r.get("code") or r["name"], name=r["name"], kind=r.get("kind") or "other",
                 aliases=tuple(a for a in (r.get("aliases") or "").split("|") if a))
            for r in rows
        )
        return Roster("", bodies)
    names = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return Roster("", tuple(Body(code=n, name=n) for n in names))
