"""The application a KubeRay RayService deploys: `import_path: rayservice_app:app` in
deploy/rayservice.yaml's serveConfigV2.

Serve imports this module on the cluster (in a task on the head). Importing it starts the
service's actors there, detached so that they outlive that task: the queue (with the projections) on
the head, one device actor per udid in DEVICE_UDIDS, each waiting for the worker node that
declares `device_<udid>`. Then it binds the API from the same settings (the environment of the
head's container). It needs DATABASE_URL reachable at that moment (tables are created and the
projections start before the API is bound); if it is not, the deploy fails and KubeRay
deploys again. The named actors are found again (get_if_exists), so redeploys start nothing twice.
"""

from __future__ import annotations

from bootstrap import start_actors
from config.settings import load_settings
from serve_app import build_app

settings = load_settings()
start_actors(settings, detached=True)
app = build_app(settings)
