"""A hostile roster: nested YAML aliases ("billion laughs") are refused at once, in little memory;
a YAML error says where, in Chinese, and never quotes the file (a contact URL's token)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nianbao.bodies import MAX_ROSTER_BYTES, RosterError, load_roster
from notifications.urls import url_problem
from tests.conftest import ROSTER

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "SECRETTOKEN123456"
EXIT_USAGE = 2


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """~400 bytes that expand to width**levels strings (9**9: 387 million)."""
    lines = ["county: 巨鹿县", "county_code: julu", "l0: &l0 [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]")
    lines += ["bodies:", "  - code: guanting", f"    name: *l{levels - 1}", "    kind: township"]
    return "\n".join(lines) + "\n"


# (name, text, line of the error): YAML broken on a line that carries a token
BROKEN = [
    ("a colon in a plain value", "county: 巨鹿县\nbodies:\n  - code: dicun\n"
     f"    name: 堤村乡 url: dingtalk://{TOKEN}\n", 4),
    ("a tab", f"county: 巨鹿县\nbodies:\n  - code: dicun\n\turl: \"dingtalk://{TOKEN}\"\n", 4),
    ("an unknown escape", f"county: 巨鹿县\nbodies:\n  - code: dicun\n    name: \"dingtalk://{TOKEN}\\q\"\n", 4),
    ("an undefined alias", f"county: 巨鹿县\nbodies:\n  - code: dicun\n    name: *{TOKEN}\n", 4),
    ("an unclosed quote", f"county: 巨鹿县\nbodies:\n  - code: dicun\n    name: \"dingtalk://{TOKEN}\n", 5),
    ("a control character", "county: 巨鹿县\nbodies:\n  - code: dicun\n    name: x\n"
     f"    contacts: [{{name: a, urls: [dingtalk://{TOKEN}\x01]}}]\n", 5),
    ("in a mapping: an unclosed flow", "county: 巨鹿县\nbodies:\n"
     f"  - {{code: dicun, name: 堤村乡, contacts: [{{name: 张三, urls: [wecombot://{TOKEN}]}}\n"
     "  - {code: julu, name: 巨鹿镇}\n", 4),
    ("in a mapping: a bad indentation", "county: 巨鹿县\nbodies:\n  - code: dicun\n    contacts:\n"
     f"      - name: 张三\n        urls: [dingtalk://{TOKEN}]\n       role: 联络员\n", 7),
]


def _run_measured(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float, int]:
    """`python -m cli ARGS` in a child capped at 1 GB of address space (a regression must not take
    the test machine's memory); its wall time and its own peak RSS in MB."""
    code = ("import resource, runpy, sys\n"
            f"sys.argv = ['nianbao', *{args!r}]\n"
            "try:\n    runpy.run_module('cli', run_name='__main__')\n"
            "except SystemExit as e:\n    status = e.code\nelse:\n    status = 0\n"
            # VmHWM, not ru_maxrss: Linux keeps the forking process's peak (pytest's) across exec in ru_maxrss
            "hwm = next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))\n"
            "sys.stderr.write('\\nMAXRSS_KB=%d\\n' % int(hwm.split()[1]))\n"
            "sys.exit(status)\n")

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    started = time.monotonic()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=60, preexec_fn=cap)
    seconds = time.monotonic() - started
    rss = [int(ln.split("=")[1]) for ln in run.stderr.splitlines() if ln.startswith("MAXRSS_KB=")]
    return run, seconds, (rss[0] // 1024 if rss else -1)


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "NIANBAO_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1", "COLUMNS": "200"}


def test_billion_laughs_is_refused_at_once(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    assert path.stat().st_size < 1024
    started = time.monotonic()
    with pytest.raises(RosterError) as exc:
        load_roster(path, url_problem=url_problem)
    assert time.monotonic() - started < 2
    assert "名单文件使用了过多的 YAML 别名（&/*）" in str(exc.value)


@pytest.mark.parametrize("command", [["roster", "import"], ["check", "--year", "2024", "--roster"]])
def test_billion_laughs_through_the_cli_in_bounded_time_and_memory(tmp_path, env, command):
    path = tmp_path / "laughs.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    args = [*command, str(path)]
    if command[0] == "check":
        report = tmp_path / "r.txt"
        report.write_text("巨鹿县官亭镇人民政府2024年政府信息公开工作年度报告\n", encoding="utf-8")
        args.append(str(report))
    run, seconds, rss_mb = _run_measured(args, env)
    print(f"billion laughs via {' '.join(command)}: {seconds:.2f} s, peak RSS {rss_mb} MB")
    assert run.returncode == EXIT_USAGE, run.stderr
    assert "过多的 YAML 别名" in run.stderr and "Traceback" not in run.stderr + run.stdout
    assert seconds < 10  # the interpreter and the CLI's imports: ~1 s
    assert 0 < rss_mb < 300


def test_self_referencing_and_deep_yaml_are_refused(tmp_path):
    for name, text, words in [("self", "a: &a [*a]\nbodies: []\n", "引用了包含它自身"),
                              ("deep", "x: " + "[" * 500 + "]" * 500 + "\nbodies: []\n", "嵌套层次过深"),
                              ("wide", "bodies:\n" + "".join(f"  - {{code: b{i}, name: 单位{i}}}\n" for i in range(40_000)),
                               "内容过多")]:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        started = time.monotonic()
        with pytest.raises(RosterError) as exc:
            load_roster(path)
        assert words in str(exc.value), name
        assert time.monotonic() - started < 10, name


def test_a_roster_file_too_large_is_not_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * MAX_ROSTER_BYTES + b"\nbodies: []\n")
    with pytest.raises(RosterError) as exc:
        load_roster(path)
    assert "名单文件过大" in str(exc.value)


def test_a_few_aliases_still_load(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("county: 巨鹿县\ncounty_code: julu\n"
                    "x-contact: &office [{name: 王五, urls: ['mailto://user:pw@smtp.163.com?to=a@163.com']}]\n"
                    "bodies:\n  - {code: guanting, name: 官亭镇, kind: township, contacts: *office}\n"
                    "  - {code: dicun, name: 堤村乡, kind: township, contacts: *office}\n", encoding="utf-8")
    roster = load_roster(path, url_problem=url_problem)
    assert [b.contacts[0]["name"] for b in roster.bodies] == ["王五", "王五"]


@pytest.mark.parametrize(("name", "text", "line"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_yaml_error_gives_the_line_not_the_token(tmp_path, name, text, line):
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError) as exc:
        load_roster(path, url_problem=url_problem)
    message = str(exc.value)
    assert TOKEN not in message and "dingtalk" not in message and "wecombot" not in message
    assert message.startswith(f"第{line}行：YAML 格式错误（第") and "列" in message, message
    assert not any(w in message for w in ("found", "expected", "while", "line", "column")), message  # PyYAML's English


@pytest.mark.parametrize(("name", "text", "line"), BROKEN[:1] + BROKEN[-2:], ids=[b[0] for b in BROKEN[:1] + BROKEN[-2:]])
def test_the_cli_shows_the_line_not_the_token(tmp_path, env, name, text, line):
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    for args in (["roster", "import", str(path)], ["check", "--year", "2024", "--roster", str(path), str(path)]):
        run = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=ROOT,
                             env=env, timeout=120)
        both = run.stdout + run.stderr
        assert run.returncode == EXIT_USAGE, both
        assert f"第{line}行" in both and TOKEN not in both and "Traceback" not in both, both


def test_bad_values_never_echo_a_url(tmp_path):
    """A URL in the wrong field (a shifted CSV column, contacts written as bare URLs, a bad
    contact URL): the problem names the field and the contact, never the URL."""
    path = tmp_path / "roster.yaml"
    path.write_text("county: 巨鹿县\ncounty_code: julu\nbodies:\n"
                    f"  - {{code: dicun, name: 堤村乡, kind: dingtalk://{TOKEN}}}\n"
                    f"  - {{code: guanting, name: 官亭镇, kind: township, contacts: [dingtalk://{TOKEN}]}}\n"
                    f"  - {{code: 'dingtalk://{TOKEN}', name: 观寨乡, kind: township}}\n"
                    f"  - {{code: julu, name: 巨鹿镇, kind: township, contacts: [{{name: 李四, urls: [wecombot://{TOKEN}!!]}}]}}\n"
                    f"  - {{code: yantuan, name: 阎疃镇, kind: township, contacts: [{{name: 赵六, url: 'dingtalk:{TOKEN}'}}]}}\n",
                    encoding="utf-8")
    with pytest.raises(RosterError) as exc:
        load_roster(path, url_problem=url_problem)
    lines = {p.line for p in exc.value.problems}
    assert lines == {4, 5, 6, 7, 8}
    assert TOKEN not in str(exc.value)
    assert "李四" in str(exc.value) and "赵六" in str(exc.value)
    csv = tmp_path / "roster.csv"
    csv.write_text("code,name,kind,aliases,contact_name,contact_urls\n"
                   f"guanting,官亭镇,dingtalk://{TOKEN},,李四,\n", encoding="utf-8")
    with pytest.raises(RosterError) as exc:
        load_roster(csv, url_problem=url_problem)
    assert TOKEN not in str(exc.value) and [p.line for p in exc.value.problems] == [2]


def test_apprise_logs_nothing_of_a_bad_url(caplog):
    with caplog.at_level(1):
        assert url_problem(f"wecombot://{TOKEN}!!!") is not None
        assert url_problem(f"dingtalk://{TOKEN}!!@@") is not None
    assert TOKEN not in caplog.text


def test_a_roster_not_in_utf8(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("county: 巨鹿县\nbodies:\n  - {code: guanting, name: 官亭镇}\n".encode("gb18030"))
    with pytest.raises(RosterError) as exc:
        load_roster(path)
    assert "UTF-8" in str(exc.value) and exc.value.problems[0].line == 1


def test_the_county_roster_still_loads(env, tmp_path):
    roster = load_roster(ROSTER, url_problem=url_problem)
    assert roster.county == "巨鹿县" and roster.code == "julu" and len(roster.bodies) == 17
    assert roster.parents == ("邢台市", "河北省") and roster.office["body"] == "xianzhengfuban"
    packaged = load_roster(ROOT / "nianbao" / "data" / "julu-roster.yaml", url_problem=url_problem)
    assert [b.code for b in packaged.bodies] == [b.code for b in roster.bodies]
    run, seconds, rss_mb = _run_measured(["roster", "import", str(ROSTER)], env)
    assert run.returncode == 0, run.stderr
    print(f"julu roster import: {seconds:.2f} s, peak RSS {rss_mb} MB")
    listed = subprocess.run([sys.executable, "-m", "cli", "roster", "list", "--json"], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=120)
    assert len(json.loads(listed.stdout)["bodies"]) == 17
