"""Physically plausible, seeded device models: one class per catalogue device type."""

from simulators.models.base import DeviceModel
from simulators.models.drainage import DrainageModel
from simulators.models.elevator import ElevatorModel
from simulators.models.fire import FireSystemModel
from simulators.models.water import WaterSupplyModel

MODELS: dict[str, type[DeviceModel]] = {
    "elevator": ElevatorModel,
    "fire_system": FireSystemModel,
    "water_supply": WaterSupplyModel,
    "drainage": DrainageModel,
}

__all__ = ["MODELS", "DeviceModel", "DrainageModel", "ElevatorModel", "FireSystemModel", "WaterSupplyModel"]
