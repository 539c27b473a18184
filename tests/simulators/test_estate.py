"""The demo estate contract other packages seed their database from."""

from simulators.estate import demo_estate


def test_three_buildings_with_two_elevators_each_and_one_of_each_plant_device():
    estate = demo_estate("S001")
    ids = [d.id for d in estate.devices]
    assert [b.id for b in estate.buildings] == ["S001-B01", "S001-B02", "S001-B03"]
    assert [i for i in ids if "-EL" in i] == [f"S001-B0{b}-EL0{c}" for b in (1, 2, 3) for c in (1, 2)]
    assert {d.id: d.type for d in estate.devices if "-EL" not in d.id} == {
        "S001-FIRE01": "fire_system", "S001-PR01": "water_supply", "S001-SP01": "drainage"}


def test_devices_carry_the_name_plate_data_rules_need():
    required = {
        "elevator": {"rated_speed", "rated_load", "floors"},
        "fire_system": {"tank_height", "tank_low_level"},
        "water_supply": {"tank_height", "tank_low_level"},
        "drainage": {"pit_depth", "high_level", "overflow_level"},
    }
    for device in demo_estate("S002", buildings=2).devices:
        assert required[device.type] <= device.attributes.keys(), device.id


def test_building_count_and_site_id_are_parameters():
    estate = demo_estate("X9", buildings=5)
    assert estate.site_id == "X9"
    assert len([d for d in estate.devices if d.type == "elevator"]) == 10
    assert all(d.id.startswith("X9-") for d in estate.devices)
