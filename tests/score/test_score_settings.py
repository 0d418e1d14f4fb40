"""The ``score:`` run-config section: defaults, conversion, and errors that name the key."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.score.settings import settings_from_mapping


def test_defaults_and_conversion():
    settings = settings_from_mapping({"excess_mode": "relative", "as_of": "2025-12-31"})
    config = settings.to_config()
    assert (config.excess_mode, config.range_leg, config.event_offsets) == ("relative", "long", 251)
    assert settings.as_of == dt.date(2025, 12, 31)
    assert settings_from_mapping(None).to_config().excess_mode == "absolute"


@pytest.mark.parametrize("section,key", [({"excess_mode": "log"}, "score.excess_mode"),
                                         ({"range_leg": "middle"}, "score.range_leg"),
                                         ({"horizon": 12}, "score.horizon"),
                                         ({"default_horizon_months": 0}, "score.default_horizon_months")])
def test_errors_name_the_key(section, key):
    with pytest.raises(ValueError, match=key) as info:
        settings_from_mapping(section, source="configs/seeds.yaml")
    assert "configs/seeds.yaml" in str(info.value)
