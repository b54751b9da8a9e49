"""A throw-away Ray cluster on this machine for tests and benchmarks: a head and a second node, each a
``ray start --block`` process in a session of its own.

It is stopped by signalling exactly the processes of those sessions (read from /proc), never with ``ray stop``,
which would stop every Ray on the machine. Token authentication is off (``RAY_AUTH_MODE=disabled``): the cluster
listens on this machine only and lives for one test module or benchmark.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["LocalCluster", "running_vspipes", "session_pids", "stop_session"]

RAY_BIN = Path(sys.executable).with_name("ray")


def session_pids(sid: int) -> list[int]:
    """The live processes of session ``sid`` (from /proc): what one ``ray start`` of ours started, nothing else."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(entry.name))
    return pids


def stop_session(sid: int, sig: int = signal.SIGTERM, wait_s: float = 10.0) -> None:
    """Signal every process of session ``sid``; what is still there after ``wait_s`` seconds gets SIGKILL."""
    for s in (sig, signal.SIGKILL):
        for pid in session_pids(sid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, s)
        deadline = time.time() + (wait_s if s != signal.SIGKILL else 5)
        while session_pids(sid) and time.time() < deadline:
            time.sleep(0.2)
        if not session_pids(sid):
            return


def running_vspipes(sid: int) -> int:
    """vspipe processes in session ``sid``: the segments that node renders right now."""
    n = 0
    for pid in session_pids(sid):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"vspipe"):
                n += 1
    return n


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalCluster:
    """A head node and a second node (custom resource ``second``), ``cpus`` CPUs each, object stores of
    ``store_mb`` MB; ``address`` is what ``--cluster`` takes and ``env`` the environment to run drivers with."""

    def __init__(self, cpus: int = 1, store_mb: int = 200) -> None:
        self.cpus, self.store_mb = cpus, store_mb
        self.temp = Path(tempfile.mkdtemp(prefix="rvs", dir="/tmp"))  # short: Ray's socket paths are limited
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
        self.env.pop("RAY_ADDRESS", None)
        t0 = time.perf_counter()
        # a dead node is noticed after about 3 s instead of Ray's default 15-30 s
        health = '{"health_check_period_ms": 1000, "health_check_failure_threshold": 3}'
        self.head = self._start(["--head", "--port", str(self.port), "--temp-dir", str(self.temp),
                                 "--include-dashboard=false", "--system-config", health], "head")
        self.worker = self.head
        try:
            self.worker = self.start_worker()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - t0

    def _start(self, extra: list[str], name: str) -> subprocess.Popen[bytes]:
        with open(self.temp.with_name(self.temp.name + f"-{name}.log"), "ab") as log:
            cmd = [str(RAY_BIN), "start", *extra, "--num-cpus", str(self.cpus), "--object-store-memory",
                   str(self.store_mb * 2**20), "--disable-usage-stats", "--block"]
            return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env)

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Start the second node and wait until the cluster counts two."""
        proc = self._start(["--address", self.address, "--resources", '{"second": 1}'], "worker")
        self.wait_nodes(2, proc)
        return proc

    def wait_nodes(self, n: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
        """Until the cluster has ``n`` live nodes (asked from another Python, so this one never joins)."""
        probe = (f"import ray, logging; ray.init(address={self.address!r}, logging_level=logging.ERROR); "
                 "print(sum(1 for x in ray.nodes() if x['Alive']))")
        deadline = time.time() + timeout
        while time.time() < deadline and proc.poll() is None and self.head.poll() is None:
            ask = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=self.env)
            if ask.returncode == 0 and ask.stdout.strip().splitlines()[-1:] == [str(n)]:
                return
            time.sleep(1)
        logs = "".join(p.read_text() for p in self.temp.parent.glob(self.temp.name + "-*.log"))
        raise RuntimeError(f"the local Ray cluster did not reach {n} nodes in {timeout} s:\n{logs[-3000:]}")

    def stop(self) -> None:
        """Stop both nodes (their sessions only) and remove the temporary folder and logs."""
        for proc in {self.worker, self.head}:
            stop_session(proc.pid)
            proc.wait()
        shutil.rmtree(self.temp, ignore_errors=True)
        for log in self.temp.parent.glob(self.temp.name + "-*.log"):
            log.unlink()
