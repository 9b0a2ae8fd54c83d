"""A real `prefect server start` for tests, with its own PREFECT_HOME, on SQLite or PostgreSQL,
and helpers to read it back over its REST API (the way the UI does)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.loopback import HOST, free_port

PREFECT = [sys.executable, "-m", "prefect"]


def clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment without any PREFECT_* or NIANBAO_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NIANBAO_"))}
    env.update({"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


@dataclass
class Process:
    """A background command whose output goes to a file the test can read."""

    args: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Process:
        self._out = self.log.open("ab")
        self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.cwd, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def wait_for(self, text: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            out = self.output()
            if text in out:
                return out
            if self.proc and self.proc.poll() is not None:
                raise AssertionError(f"{self.args[:4]} exited {self.proc.returncode}:\n{out[-3000:]}")
            time.sleep(0.3)
        raise AssertionError(f"no {text!r} within {timeout} s from {self.args[:4]}:\n{self.output()[-3000:]}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._out.close()
        return self.proc.returncode


@dataclass
class PrefectServer:
    home: Path
    port: int
    env: dict[str, str]
    process: Process
    started_in: float = 0.0

    @property
    def api(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client_env(self, **extra: str) -> dict[str, str]:
        """The environment of a process that talks to this server (CLI, serve, worker)."""
        return clean_env(PREFECT_API_URL=self.api, PREFECT_HOME=str(self.home / "client"), **extra)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        r = httpx.post(f"{self.api}{path}", json=body or {}, timeout=60)
        r.raise_for_status()
        return r.json()

    def get(self, path: str) -> Any:
        r = httpx.get(f"{self.api}{path}", timeout=30)
        r.raise_for_status()
        return r.json()

    def deployments(self) -> dict[str, dict]:
        """'flow/deployment' → the deployment."""
        flows = {f["id"]: f["name"] for f in self.post("/flows/filter")}
        return {f"{flows[d['flow_id']]}/{d['name']}": d for d in self.post("/deployments/filter")}

    def flow_runs(self, deployment_id: str) -> list[dict]:
        return self.post("/flow_runs/filter", {"deployments": {"id": {"any_": [deployment_id]}},
                                               "sort": "EXPECTED_START_TIME_ASC"})

    def logs(self, flow_run_id: str) -> list[str]:
        return [entry["message"] for entry in self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}})]

    def artifacts(self, key: str) -> list[dict]:
        return self.post("/artifacts/filter", {"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC"})


def start_server(home: Path, database_url: str | None = None, timeout: float = 120) -> PrefectServer:
    """`prefect server start` on a free port: its own PREFECT_HOME, its scheduler looking every
    2 s (instead of 60) so a test sees a schedule fire within seconds."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = clean_env(PREFECT_HOME=str(home), PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
                    PREFECT_UI_API_URL=f"http://{HOST}:{port}/api", PREFECT_SERVER_LOGGING_LEVEL="WARNING")
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    process = Process([*PREFECT, "server", "start", "--host", HOST, "--port", str(port)], env,
                      home / "server.log").start()
    server = PrefectServer(home, port, env, process)
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if httpx.get(f"{server.api}/health", timeout=2).status_code == 200:
                server.started_in = time.monotonic() - began
                return server
        except httpx.HTTPError:
            pass
        if process.proc.poll() is not None:
            break
        time.sleep(0.3)
    process.stop()
    raise AssertionError(f"prefect server did not start:\n{process.output()[-3000:]}")
