"""How the launcher ends a process (supervision.terminate), on real processes: a stop must not outlast its graces."""

from __future__ import annotations

import subprocess
import sys

import psutil

from supervision import terminate, wait_dead

# Sets itself as the subreaper of its descendants, starts a child that starts a grandchild and exits, prints
# the grandchild's pid, and never reaps: the grandchild, an orphan, stays a zombie as long as this lives.
NEGLIGENT_REAPER = """
import ctypes, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
child = subprocess.run([sys.executable, "-c", "import subprocess; print(subprocess.Popen(['sleep', '0.2']).pid)"],
                       capture_output=True, text=True)
print(child.stdout.strip(), flush=True)
signal.pause()  # until the test kills it
"""


def test_an_exited_orphan_is_dead_before_its_reaper_collects_it():
    """The container's init reaps orphans every 2 s or so; psutil.wait_procs waited for that on each stop."""
    reaper = subprocess.Popen([sys.executable, "-c", NEGLIGENT_REAPER], stdout=subprocess.PIPE, text=True)
    try:
        orphan = psutil.Process(int(reaper.stdout.readline()))
        assert wait_dead([orphan], 60) == []
        assert orphan.status() == psutil.STATUS_ZOMBIE  # not reaped: its death alone was enough
    finally:
        reaper.kill()
        reaper.wait()


def test_a_dead_child_is_reaped():
    child = subprocess.Popen(["true"])
    process = psutil.Process(child.pid)
    assert wait_dead([process], 60) == []
    assert not psutil.pid_exists(child.pid)


def test_what_ignores_sigterm_is_killed_after_its_grace():
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal; signal.signal(signal.SIGTERM, "
                                 "signal.SIG_IGN); print('ready', flush=True); signal.pause()"],
                                stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline().strip() == "ready"
    process = psutil.Process(stubborn.pid)
    terminate([process], 0.5)
    assert wait_dead([process], 60) == []
