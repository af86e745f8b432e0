"""What the service's own local Ray gets, in one place: the launcher's `start_ray` applies it.

Each Python process of Ray costs 45-100 MB, so the idle stack is mostly Ray's
processes (benchmarks/memory_bench.py prints them one by one). Here are the cuts
that need Ray's settings rather than our code.
"""

from __future__ import annotations

import os
import sys

# The environment of the local Ray's processes (the raylet reads its part when it starts, every worker
# inherits it), so set before ray.init:
# - no idle worker processes (about 45 MB each, 85 with the hook below) wait for tasks that never come:
#   Ray prestarts as many workers as CPUs for the first driver and keeps that many idle ones; the
#   service's work runs in actors, whose processes are started for them;
# - Serve kills an HTTP proxy whose worker is not ready within 5 s, and then serve.start fails: a worker
#   starts in 2-3 s, but in tens of seconds on a busy 2-core machine.
RAY_ENV = {"RAY_prestart_worker_first_driver": "false", "RAY_num_workers_soft_limit": "0",
           "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": "60"}

# The start-up hook of every worker process of the service's job (the actors,
# Serve's controller, proxy and replica), as Ray's runtime_env takes it.
RUNTIME_ENV = {"worker_process_setup_hook": "config.ray_workers.setup"}


# Ray registers serializers for pydantic and Starlette objects in every worker process at its first task,
# importing both (about 7 MiB). The device actors and the JobQueue pass neither (a device gets plain
# WorkerSettings), so their actors' runtime_env (bootstrap.py) tells `setup` to treat them as absent.
WITHOUT_WEB_STACK = {"env_vars": {"RUNSERVICE_WITHOUT_WEB_STACK": "1"}}


def setup() -> None:
    """Ray Serve imports pandas whenever it is installed (to encode DataFrame responses, which the API never
    sends): 25 MB in each of Serve's three processes; tenacity imports tornado whenever it is installed (3-10 MB
    in each of our processes). Both are in the environment for the notebook test only (pandas, Jupyter), so the
    service's workers treat them as absent; those of WITHOUT_WEB_STACK, pydantic and Starlette too."""
    for name in ("pandas", "tornado"):
        sys.modules.setdefault(name, None)
    if os.environ.get("RUNSERVICE_WITHOUT_WEB_STACK"):
        for name in ("pydantic", "starlette"):
            sys.modules.setdefault(name, None)


def drop_unused_ray_processes() -> None:
    """Ends the local Ray's autoscaler monitor and log monitor (45-50 MB each): a single node never scales,
    and the driver does not ask for the workers' logs (log_to_driver=False). `ray.init` has no switch for
    them (`ray start` has: --no-monitor, --include-log-monitor=false); Node's kill_* methods are what
    ray.shutdown itself uses (Ray is pinned in pyproject.toml)."""
    import ray

    node = ray._private.worker._global_node
    node.kill_monitor(check_alive=False)
    node.kill_log_monitor(check_alive=False)
