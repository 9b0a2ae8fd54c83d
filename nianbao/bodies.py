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
    text = _read_text(p)
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
        problems.insert(0, RosterProblem(None, f"县代码 county_code“{_shown(code)}”无效：应为小写拼音字母、数字和连字符（如 julu）"))
    office_contacts, office_problems = _contacts(office.get("contacts") if isinstance(office, dict) else None,
                                                 url_problem, None)
    problems += office_problems
    if problems:
        raise RosterError(problems)
    office = ({"name": _text(office.get("name")) or "县政务公开办", "contacts": office_contacts,
               "body": _text(office.get("body"))} if office else {})
    return Roster(county, tuple(bodies), tuple(parents), code, office)


# a roster is a few KB; these bound what a hostile one costs (a "billion laughs" of nested aliases)
MAX_ROSTER_BYTES = 5 * 1024 * 1024
MAX_YAML_ALIASES = 100  # *name references (a roster needs none; a few for shared contacts)
MAX_YAML_NODES = 100_000  # nodes with every alias expanded (200 bodies: ~3,000)
MAX_YAML_DEPTH = 64


def _read_text(p: Path) -> str:
    with p.open("rb") as fh:
        data = fh.read(MAX_ROSTER_BYTES + 1)
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError([RosterProblem(None, f"名单文件过大（超过 {MAX_ROSTER_BYTES // 1048576} MB）：名单应只列出单位和联系人")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise RosterError([RosterProblem(line, "文件不是 UTF-8 编码：请用文本编辑器另存为 UTF-8 后再导入")]) from None


class _YamlTooBig(Exception):
    def __init__(self, reason: str, mark: Any) -> None:
        super().__init__(reason)
        self.reason, self.mark = reason, mark


def _loader(text: str) -> Any:
    """A yaml.SafeLoader that composes within MAX_YAML_ALIASES / MAX_YAML_NODES / MAX_YAML_DEPTH:
    each node's size counts its aliases expanded, so nested aliases are refused while they are
    composed (cheap: aliases share nodes), before anything is constructed or walked."""
    import yaml

    class Loader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.aliases = 0
            self.expanded = 0  # nodes so far, every alias counted as the nodes it stands for
            self.depth = 0
            self.sizes: dict[int, int] = {}  # id(node) → its expanded size, once composed

        def compose_node(self, parent: Any, index: Any) -> Any:
            mark = self.peek_event().start_mark
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                node = super().compose_node(parent, index)
                size = self.sizes.get(id(node))
                if size is None:  # an alias inside the node it names: a structure without end
                    raise _YamlTooBig("self", mark)
                self.expanded += size
                if self.aliases > MAX_YAML_ALIASES or self.expanded > MAX_YAML_NODES:
                    raise _YamlTooBig("alias", mark)
                return node
            self.depth += 1
            if self.depth > MAX_YAML_DEPTH:
                raise _YamlTooBig("depth", mark)
            before = self.expanded
            node = super().compose_node(parent, index)
            self.depth -= 1
            self.expanded += 1
            self.sizes[id(node)] = self.expanded - before
            if self.expanded > MAX_YAML_NODES:
                raise _YamlTooBig("alias" if self.aliases else "nodes", mark)
            return node

    return Loader(text)


_TOO_BIG = {
    "alias": f"名单文件使用了过多的 YAML 别名（&/*）或别名层层嵌套（展开后超过 {MAX_YAML_NODES:,} 项），已拒绝导入："
             "名单中每个单位请直接写出，不要用别名",
    "self": "名单文件中的 YAML 别名（*）引用了包含它自身的内容，无法展开：名单中每个单位请直接写出，不要用别名",
    "depth": f"名单文件嵌套层次过深（超过 {MAX_YAML_DEPTH} 层）",
    "nodes": f"名单文件内容过多（超过 {MAX_YAML_NODES:,} 项）：名单应只列出单位和联系人",
}

# PyYAML's problem texts → what the county office reads. Only these fixed words are shown, with
# the line and column: never the exception's text, which quotes the file (a contact URL's token).
_YAML_PROBLEMS = (
    ("'\\t'", "缩进或值中有制表符（Tab）：YAML 只能用空格缩进"),
    ("that cannot start any token", "出现了不能作为值开头的字符（如 @、`、%）：这样的值请加引号"),
    ("could not find expected ':'", "缺少冒号“:”（“键: 值”的冒号后要有空格），或引号没有配对"),
    ("mapping values are not allowed here", "此处不能出现“: ”：值里含冒号时请给整个值加引号，或检查缩进"),
    ("sequence entries are not allowed here", "此处不能出现列表项“- ”：请检查缩进"),
    ("mapping keys are not allowed here", "此处不能出现“? ”：请检查缩进"),
    ("invalid indentation or unclosed", "缩进不对，或方括号 [ 、花括号 { 没有闭合"),
    ("expected <block end>", "缩进不一致：同一层的各项要对齐"),
    ("expected ',' or ']'", "方括号 [ ] 中的列表没有正确分隔或闭合"),
    ("expected ',' or '}'", "花括号 { } 中的内容没有正确分隔或闭合"),
    ("expected the node content", "此处缺少值，或有多余的符号"),
    ("found unexpected end of stream", "引号没有闭合，文件就结束了"),
    ("found unexpected document separator", "引号没有闭合"),
    ("found unknown escape character", "双引号中有无法识别的转义符“\\”：请改用单引号，或写成“\\\\”"),
    ("expected escape sequence", "双引号中的转义符“\\”写法不对"),
    ("found undefined alias", "引用了没有定义的别名（*）"),
    ("found duplicate anchor", "同一个锚点（&）定义了两次"),
    ("found duplicate key", "同一层中有重复的键"),
    ("expected alphabetic or numeric character", "锚点或别名（&/*）后的名称无效"),
    ("expected a single document", "文件中有多个 YAML 文档（---）：名单只能有一个"),
    ("expected '<document start>'", "文件中有多个 YAML 文档（---）或多余的内容：名单只能有一个"),
    ("could not determine a constructor for the tag", "使用了不支持的 YAML 标签（!…）"),
    ("found unhashable key", "键不能是列表或映射"),
    ("for merging", "合并键“<<”后应是映射"),
    ("special characters are not allowed", "文件中含有不允许的控制字符"),
    ("tag", "YAML 标签（!…）写法不对"),
    ("block scalar", "多行文本（| 或 >）的写法不对"),
    ("directive", "YAML 指令（%…）写法不对"),
)


def _yaml_problem(exc: Exception, text: str) -> RosterProblem:
    """A YAMLError as a line, a column and fixed Chinese words."""
    problem = str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or "")
    context = str(getattr(exc, "context", None) or "")
    reason = next((zh for key, zh in _YAML_PROBLEMS if key in problem), None)
    if reason is None:
        reason = next((zh for key, zh in _YAML_PROBLEMS if key in context), "格式不正确")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
    elif isinstance(getattr(exc, "position", None), int):  # a ReaderError: a position in the text
        position = exc.position  # type: ignore[attr-defined]
        line, column = text.count("\n", 0, position) + 1, position - (text.rfind("\n", 0, position) + 1) + 1
    else:
        return RosterProblem(None, f"YAML 格式错误：{reason}")
    where = f"第{column}列"
    context_mark = getattr(exc, "context_mark", None)
    if context_mark is not None and context_mark.line + 1 != line:
        where += f"，相关内容从第{context_mark.line + 1}行开始"
    return RosterProblem(line, f"YAML 格式错误（{where}）：{reason}")


def _yaml_entries(text: str) -> tuple[str, tuple[str, ...], list[tuple[int | None, dict]], str, dict]:
    import yaml

    loader = None
    try:
        loader = _loader(text)  # the reader refuses control characters already here
        root = loader.get_single_node()  # composed once, within the limits; constructed from the node
        data = (loader.construct_document(root) if root is not None else None) or {}
    except _YamlTooBig as exc:
        raise RosterError([RosterProblem(exc.mark.line + 1 if exc.mark else None, _TOO_BIG[exc.reason])]) from None
    except yaml.YAMLError as exc:
        raise RosterError([_yaml_problem(exc, text)]) from None
    except RecursionError:
        raise RosterError([RosterProblem(None, _TOO_BIG["depth"])]) from None
    except (ValueError, TypeError, OverflowError):  # a value the constructor cannot make (a date 2024-13-45)
        raise RosterError([RosterProblem(None, "YAML 格式错误：有无法识别的值（如写法不对的日期、数字）")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict) or not isinstance(data.get("bodies"), list):
        raise RosterError([RosterProblem(None, "名单应为 {county, parents, bodies: [...]} 的结构，缺少 bodies 列表")])
    lines: list[int | None] = []
    for key, value in root.value:
        if getattr(key, "value", None) == "bodies" and isinstance(value.value, list):
            lines = [item.start_mark.line + 1 for item in value.value]
    entries = [(lines[i] if i < len(lines) else None, b) for i, b in enumerate(data["bodies"])]
    office = data.get("office") or {}
    return (_text(data.get("county")), tuple(_text(x) for x in _items(data.get("parents"))), entries,
            _text(data.get("county_code")), office if isinstance(office, dict) else {})


def _text(value: Any) -> str:
    """A name, code or kind as written; "" for nothing, and for a list or mapping where one word
    belongs (str() of a list would print, and for nested aliases build, all of it)."""
    if value is None or isinstance(value, (list, dict)):
        return ""
    return str(value)


def _items(value: Any) -> list:
    """A list as written; a single value as a list of one, nothing as none."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


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


def _shown(value: str) -> str:
    """A value from the file as a problem may quote it: not when it looks like a notification
    address (a URL in the wrong column carries its token), and never more than 40 characters."""
    if "://" in value or re.search(r"[A-Za-z0-9_-]{24,}", value):
        return "（疑似通知地址，不显示）"
    return value if len(value) <= 40 else value[:40] + "…"


def _contacts(raw, url_problem, line: int | None) -> tuple[list[dict], list[RosterProblem]]:
    """[{name, role, urls}] from the roster's contacts (a url or urls per person). Problems name
    the contact, never the URL."""
    contacts: list[dict] = []
    problems: list[RosterProblem] = []
    for c in _items(raw):
        if not isinstance(c, dict):
            if "://" in _text(c) or isinstance(c, (list, dict)):
                problems.append(RosterProblem(line, "联系人应写成 {name: 姓名, urls: [通知地址]} 的形式"))
                continue
            c = {"name": _text(c)}
        name = _text(c.get("name"))
        urls = [_text(u) for u in (_items(c.get("urls")) or _items(c.get("url")))]
        for u in urls:
            why = url_problem(u) if url_problem else None
            if why:
                problems.append(RosterProblem(line, f"联系人“{_shown(name)}”的通知地址无效（{why}）"))
        contacts.append({"name": name, "role": _text(c.get("role")), "urls": urls})
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
        code, name, kind = _text(b.get("code")).strip(), _text(b.get("name")).strip(), _text(b.get("kind")).strip()
        if not name:
            problems.append(RosterProblem(line, "缺少单位名称 name"))
            continue
        if strict_codes and not _CODE.match(code):
            problems.append(RosterProblem(line, f"单位代码“{_shown(code)}”无效：应为小写拼音字母、数字和连字符（如 guanting）"))
        elif code in codes:
            problems.append(RosterProblem(line, f"单位代码“{_shown(code)}”重复（第{codes[code]}行已使用）"))
        codes.setdefault(code, line)
        if kind not in KINDS:
            problems.append(RosterProblem(line, f"单位类型“{_shown(kind)}”未知：应为 township（乡镇）、department（部门）或 other（其他）"))
        aliases = tuple(_text(a).strip() for a in _items(b.get("aliases")) if _text(a).strip())
        for n in (name, *aliases):
            key = canonical(n)
            if key in names and names[key][0] != code:
                problems.append(RosterProblem(line, f"名称“{_shown(n)}”与第{names[key][1]}行的单位重复"))
            names.setdefault(key, (code, line))
        contacts, contact_problems = _contacts(b.get("contacts"), url_problem, line)
        problems += contact_problems
        bodies.append(Body(code=code, name=name, kind=kind if kind in KINDS else "other", aliases=aliases,
                           contacts=tuple(contacts), active=bool(b.get("active", True))))
    return bodies, problems
