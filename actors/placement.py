"""Where device actors run: each asks Ray for the custom resource `device_<udid>`.

A node declares the devices plugged into it (`ray start --resources '{"device_sim-0": 1}'`);
a local Ray started by the service declares its own devices. A device that no live node
offers leaves its actor pending placement: it is reported, and the service serves anyway.
"""

from __future__ import annotations

from typing import Any

import ray

# Ray's own resource of the head node: the API, the queue and the projector stay there, so a
# device host that dies takes only its devices with it.
ON_HEAD = {"node:__internal_head__": 0.001}


def resource_name(udid: str) -> str:
    return f"device_{udid}"


def device_resource(device_caps: dict[str, Any]) -> dict[str, float]:
    """The resource that pins a device's actor to the node its device is attached to."""
    udid = device_caps.get("appium:udid")
    return {resource_name(udid): 1} if udid else {}


def actor_name(device_caps: dict[str, Any], index: int) -> str:
    return f"device-{device_caps.get('appium:udid') or index}"


def waiting_devices(udids: list[str]) -> list[str]:
    """The devices whose resource no live node offers now (their actors wait to be placed)."""
    offered = ray.cluster_resources()
    return [udid for udid in udids if offered.get(resource_name(udid), 0) < 1]


def placement_report(udids: list[str]) -> dict[str, Any]:
    """What /health says about the devices."""
    waiting = waiting_devices(udids)
    return {"devices": len(udids), "placed": len(udids) - len(waiting), "waiting": waiting}
