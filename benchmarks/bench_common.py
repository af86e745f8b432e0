"""What the benchmark scripts share: free loopback ports, waiting for a condition, percentiles, the stack's processes
by group (their CPU), py-spy profiles of one process, and the tables they print."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, TypeVar

import psutil

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
# A process's group: the first marker its command line holds; Ray's own processes otherwise.
GROUPS = (("ray::DeviceWorker", "devices"), ("ray::ServeReplica", "api"), ("ray::ProxyActor", "proxy"),
          ("ray::JobQueue", "queue"), ("appium", "appium"), ("postgres", "postgres"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], T], seconds: float, what: str, poll: float = 0.2) -> T:
    """`check()`'s first true answer, asked every `poll` seconds; TimeoutError after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {seconds} s")
        time.sleep(poll)
    return result


def pct(values: list[float], q: float) -> float:
    """The `q`th percentile (0-100) of `values`, the nearest of them; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def group_of(process: psutil.Process) -> str:
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return "gone"
    for marker, group in GROUPS:
        if marker in command:
            return group
    return "ray" if ("ray" in command or process.pid == os.getpid()) else "other"


def cpu_seconds(processes: list[psutil.Process]) -> dict[str, float]:
    """CPU seconds (user + system) used so far, summed by group."""
    seconds: dict[str, float] = defaultdict(float)
    for process in processes:
        try:
            times = process.cpu_times()
            seconds[group_of(process)] += times.user + times.system
        except psutil.Error:
            continue
    return seconds


def start_py_spy(pid: int, seconds: float, out: Path, rate: int = 50) -> subprocess.Popen:
    """py-spy sampling `pid` for `seconds` into `out` (collapsed stacks), without pausing it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                             "--duration", str(int(seconds)), "--rate", str(rate), "--format", "raw",
                             "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def read_profile(out: Path, top: int = 12) -> dict[str, Any]:
    """A py-spy profile's samples of work (a Ray process's main thread waiting in Ray's task loop is not work),
    the functions with the most samples of their own, and this repository's with the most samples in them."""
    own, total, samples = Counter(), Counter(), 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if not f.startswith(("thread", "process"))]
        if not frames or "main_loop" in frames[-1].split(" (")[0]:
            continue
        samples += int(count)
        own[_short(frames[-1])] += int(count)
        for frame in {_short(f) for f in frames}:
            total[frame] += int(count)
    ours = [(f, n) for f, n in total.most_common(400) if re.search(r"\((actors|domain|storage|api|config)/", f)]
    return {"samples": samples, "own": own.most_common(top), "ours": ours[:top]}


def _short(frame: str) -> str:
    """`name (path:line)` -> `name (file)`, with the repository's files relative."""
    match = re.match(r"(.*) \((.*?):\d+\)$", frame)
    if not match:
        return frame
    path = match[2].replace(str(REPO) + "/", "")
    path = re.sub(r".*site-packages/", "", path)
    return f"{match[1]} ({path})"


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))
