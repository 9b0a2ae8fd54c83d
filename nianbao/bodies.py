"""Bodies (乡镇, departments) and the county's roster: names, aliases, kinds, name matching."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    code: str = ""  # the county's pinyin slug (julu): artifact keys and tags
    office: dict = field(default_factory=dict, compare=False, hash=False)  # {"name", "contacts"}

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


@dataclass(frozen=True)
class RosterProblem:
    line: int | None
    reason: str  # in Chinese, for the county office

    def __str__(self) -> str:
        return f"第{self.line}行：{self.reason}" if self.line else self.reason


class RosterError(ValueError):
    """A roster that cannot be imported as it is; nothing of it is."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        super().__init__("；".join(map(str, problems)))
        self.problems = problems


_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")  # artifact keys must match ^[a-z0-9-]*$


def load_roster(path: str | Path, url_problem: Callable[[str], str | None] | None = None) -> Roster:
    """A roster from YAML ({county, parents, bodies: [{code, name, kind, aliases, contacts}]}),
    CSV (code,name,kind,aliases,contact_name,contact_urls; lists separated by |) or plain text
    (one name per line: for checking only).

    Refused as a whole (RosterError, every problem with its line) for a duplicate code, an
    unknown kind, a body named twice, or a contact URL that `url_problem` finds malformed."""
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")
    suffix = p.suffix.lower()
    code: str = ""
    office: dict[str, Any] = {}
    if suffix in (".yaml", ".yml"):
        county, parents, entries, code, office = _yaml_entries(text)
    elif suffix == ".csv":
        county, parents, entries = "", (), _csv_entries(text)
    else:
        entries = [(no, {"code": ln.strip(), "name": ln.strip(), "kind": infer_kind(ln.strip())
                         if infer_kind(ln.strip()) in KINDS else "other"})
                   for no, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.startswith("#")]
        county, parents = "", ()
    bodies, problems = _validate(entries, url_problem, strict_codes=suffix in (".yaml", ".yml", ".csv"))
    if code and not _CODE.match(code):
        problems.insert(0, RosterProblem(None, f"县代码 county_code“{code}”无效：应为小写拼音字母、数字和连字符（如 julu）"))
    office_contacts, office_problems = _contacts(office.get("contacts") if isinstance(office, dict) else None,
                                                 url_problem, None)
    problems += office_problems
    if problems:
        raise RosterError(problems)
    office = ({"name": str(office.get("name") or "县政务公开办"), "contacts": office_contacts,
               "body": str(office.get("body") or "")} if office else {})
    return Roster(county, tuple(bodies), tuple(parents), code, office)


def _yaml_entries(text: str) -> tuple[str, tuple[str, ...], list[tuple[int | None, dict]], str, dict]:
    import yaml

    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RosterError([RosterProblem(mark.line + 1 if mark else None, f"YAML 格式错误：{exc}")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("bodies"), list):
        raise RosterError([RosterProblem(None, "名单应为 {county, parents, bodies: [...]} 的结构，缺少 bodies 列表")])
    lines: list[int | None] = []
    for key, value in (root.value if root is not None else []):
        if key.value == "bodies":
            lines = [item.start_mark.line + 1 for item in value.value]
    entries = [(lines[i] if i < len(lines) else None, b) for i, b in enumerate(data["bodies"])]
    office = data.get("office") or {}
    return (str(data.get("county") or ""), tuple(str(x) for x in data.get("parents") or ()), entries,
            str(data.get("county_code") or ""), office if isinstance(office, dict) else {})


def _csv_entries(text: str) -> list[tuple[int | None, dict]]:
    entries: list[tuple[int | None, dict]] = []
    for i, r in enumerate(csv.DictReader(text.splitlines()), 2):
        split = lambda v: [x.strip() for x in (v or "").split("|") if x.strip()]  # noqa: E731
        contacts = []
        if r.get("contact_name") or r.get("contact_urls"):
            contacts = [{"name": (r.get("contact_name") or "").strip(), "urls": split(r.get("contact_urls"))}]
        entries.append((i, {"code": (r.get("code") or "").strip(), "name": (r.get("name") or "").strip(),
                            "kind": (r.get("kind") or "").strip(), "aliases": split(r.get("aliases")),
                            "contacts": contacts,
                            "active": (r.get("active") or "true").strip().lower() not in ("false", "0", "no", "否")}))
    return entries


def _contacts(raw, url_problem, line: int | None) -> tuple[list[dict], list[RosterProblem]]:
    """[{name, role, urls}] from the roster's contacts (a url or urls per person)."""
    contacts, problems = [], []
    for c in raw or ():
        c = dict(c) if isinstance(c, dict) else {"name": str(c)}
        urls = [str(u) for u in (c.get("urls") or ([c["url"]] if c.get("url") else []))]
        for u in urls:
            why = url_problem(u) if url_problem else None
            if why:
                problems.append(RosterProblem(line, f"联系人“{c.get('name', '')}”的通知地址无效（{why}）"))
        contacts.append({"name": str(c.get("name") or ""), "role": str(c.get("role") or ""), "urls": urls})
    return contacts, problems


def _validate(entries, url_problem, strict_codes: bool) -> tuple[list[Body], list[RosterProblem]]:
    problems: list[RosterProblem] = []
    bodies: list[Body] = []
    codes: dict[str, int | None] = {}
    names: dict[str, tuple[str, int | None]] = {}
    for line, b in entries:
        if not isinstance(b, dict):
            problems.append(RosterProblem(line, "每个单位应写成 {code, name, kind} 的形式"))
            continue
        code, name, kind = str(b.get("code") or "").strip(), str(b.get("name") or "").strip(), str(b.get("kind") or "").strip()
        if not name:
            problems.append(RosterProblem(line, "缺少单位名称 name"))
            continue
        if strict_codes and not _CODE.match(code):
            problems.append(RosterProblem(line, f"单位代码“{code}”无效：应为小写拼音字母、数字和连字符（如 guanting）"))
        elif code in codes:
            problems.append(RosterProblem(line, f"单位代码“{code}”重复（第{codes[code]}行已使用）"))
        codes.setdefault(code, line)
        if kind not in KINDS:
            problems.append(RosterProblem(line, f"单位类型“{kind}”未知：应为 township（乡镇）、department（部门）或 other（其他）"))
        aliases = tuple(str(a).strip() for a in (b.get("aliases") or ()) if str(a).strip())
        for n in (name, *aliases):
            key = canonical(n)
            if key in names and names[key][0] != code:
                problems.append(RosterProblem(line, f"名称“{n}”与第{names[key][1]}行的单位重复"))
            names.setdefault(key, (code, line))
        contacts, contact_problems = _contacts(b.get("contacts"), url_problem, line)
        problems += contact_problems
        bodies.append(Body(code=code, name=name, kind=kind if kind in KINDS else "other", aliases=aliases,
                           contacts=tuple(contacts), active=bool(b.get("active", True))))
    return bodies, problems
