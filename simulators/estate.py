"""The estate a simulator runs: buildings and devices with the name-plate data the rules need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BuildingLayout:
    """One residential building (楼栋)."""

    id: str
    name: str
    floors: int


@dataclass(frozen=True)
class DeviceLayout:
    """One monitored device; ``type`` is a catalogue device type, ``attributes`` its name-plate data."""

    id: str
    type: str
    building_id: str | None
    name: str
    model: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EstateLayout:
    """A site (小区) with its buildings and devices."""

    site_id: str
    name: str
    name_en: str
    region: str
    buildings: list[BuildingLayout]
    devices: list[DeviceLayout]

    def device(self, device_id: str) -> DeviceLayout:
        """The device with ``device_id``; ``KeyError`` if the estate has none."""
        for device in self.devices:
            if device.id == device_id:
                return device
        raise KeyError(device_id)


# Name-plate values of a typical 18-storey residential building: 1.75 m/s, 1000 kg traction lifts;
# rooftop fire tank of 18 m³ for class-I high-rise housing (GB 50974 §5.2.1 via DOMAIN.md §2.3).
_FLOORS = 18
_ELEVATOR = {"rated_speed": 1.75, "rated_load": 1000, "manufacturer": "Hitachi", "model": "HGP-1000"}
_FIRE = {"tank_height": 3.0, "tank_low_level": 2.0, "tank_area": 6.0}
_WATER = {"tank_height": 3.0, "tank_low_level": 0.6, "tank_area": 20.0, "households": 600}
_DRAINAGE = {"pit_depth": 2.0, "high_level": 1.2, "overflow_level": 1.8, "pit_area": 4.0}


def demo_estate(site_id: str = "S001", buildings: int = 3) -> EstateLayout:
    """A demo estate: ``buildings`` 18-storey blocks with two elevators each, plus one fire system,
    one secondary-water pump room and one basement sump for the site."""
    blocks = [BuildingLayout(f"{site_id}-B{n:02d}", f"{n}号楼", _FLOORS) for n in range(1, buildings + 1)]
    devices: list[DeviceLayout] = []
    for block in blocks:
        for car in (1, 2):
            devices.append(
                DeviceLayout(
                    id=f"{block.id}-EL{car:02d}",
                    type="elevator",
                    building_id=block.id,
                    name=f"{block.name}{car}号电梯",
                    model=_ELEVATOR["model"],
                    attributes={"rated_speed": _ELEVATOR["rated_speed"], "rated_load": _ELEVATOR["rated_load"],
                                "floors": block.floors},
                )
            )
    devices.append(DeviceLayout(f"{site_id}-FIRE01", "fire_system", None, "消防控制室", "JB-QB-5000", dict(_FIRE)))
    devices.append(DeviceLayout(f"{site_id}-PR01", "water_supply", None, "二次供水泵房", "BPS-3x15", dict(_WATER)))
    devices.append(DeviceLayout(f"{site_id}-SP01", "drainage", None, "地下车库集水坑", "WQ-2x5.5", dict(_DRAINAGE)))
    return EstateLayout(
        site_id=site_id,
        name="锦绣花园",
        name_en="Jinxiu Garden",
        region="330106",
        buildings=blocks,
        devices=devices,
    )
