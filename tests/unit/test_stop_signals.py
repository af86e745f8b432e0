"""The launcher's and the driver's SIGINT / SIGTERM handling (launcher.stop_on_signals), in a process of its own."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from config.settings import REPO_ROOT

# A signal whose handler runs while the main thread holds `stopping`'s lock: what happens when a second SIGTERM
# (make passing on the one its process group got) lands while the first one's handler is inside Event.set.
SIGNAL_INSIDE_SET = """
    import os, signal, threading, launcher
    stopping = launcher.stop_on_signals(threading.Event())
    with stopping._cond:
        os.kill(os.getpid(), signal.{name})
        len([])  # a call: Python runs pending handlers here, with the lock held
    print("stopping" if stopping.wait(10) else "not stopping", flush=True)
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_stop_signal_handled_while_the_stop_event_is_locked_sets_it_once_unlocked(name):
    script = textwrap.dedent(SIGNAL_INSIDE_SET.format(name=name))
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout.strip()) == (0, "stopping"), done.stderr[-2000:]


def test_another_signal_does_not_stop():
    script = textwrap.dedent("""
        import os, signal, threading, launcher
        stopping = launcher.stop_on_signals(threading.Event())
        signal.signal(signal.SIGUSR1, lambda *_: None)  # Python writes its number to the wakeup fd too
        os.kill(os.getpid(), signal.SIGUSR1)
        print("stopping" if stopping.wait(0.5) else "not stopping", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout.strip()) == (0, "not stopping"), done.stderr[-2000:]
