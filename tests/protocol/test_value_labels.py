"""The catalogue names, in zh-CN and English, every code an enumerated metric (a state code or an on/off flag)
may take, with where that meaning comes from."""

from gateway.protocol.catalog import catalog

ENUMERATED = ("code", "bool")


def test_every_code_of_an_enumerated_metric_has_a_label_in_both_languages_and_a_source() -> None:
    for kind in catalog().values():
        for spec in kind.metrics.values():
            if spec.unit not in ENUMERATED:
                continue
            codes = {label.code for label in spec.values}
            assert codes == set(range(int(spec.min), int(spec.max) + 1)), f"{kind.name}.{spec.name}: {codes}"
            assert all(label.zh and label.en for label in spec.values), f"{kind.name}.{spec.name}"
            assert spec.values_source, f"{kind.name}.{spec.name} has labels without a source"


def test_a_lift_moving_down_reads_as_down() -> None:
    direction = catalog()["elevator"].metrics["car_direction"]
    assert (direction.label(2.0, "zh-CN"), direction.label(2.0, "en")) == ("下行", "down")


def test_a_code_the_catalogue_does_not_name_has_no_label() -> None:
    assert catalog()["elevator"].metrics["car_direction"].label(9.0, "zh-CN") is None
    assert catalog()["elevator"].metrics["speed"].label(1.0, "zh-CN") is None
