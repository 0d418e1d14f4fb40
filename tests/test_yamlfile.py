"""engine.yamlfile: the project's one YAML loader reads like yaml.safe_load and re-reads a changed file."""

from __future__ import annotations

import os

import pytest
import yaml

from engine.paths import REPO_ROOT
from engine.yamlfile import parse_yaml, read_yaml_cached


def test_parse_yaml_reads_every_project_yaml_like_safe_load():
    files = sorted(REPO_ROOT.glob("configs/**/*.yaml"))
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert parse_yaml(text) == yaml.safe_load(text), path
    with pytest.raises(yaml.YAMLError):
        parse_yaml("a: [1, 2")
    with pytest.raises(yaml.YAMLError):  # still a safe loader: no Python objects
        parse_yaml("!!python/object/apply:os.system ['true']")


def test_read_yaml_cached_rereads_a_changed_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("broker: 甲\nvalid_from: 2024-01-01\n", encoding="utf-8")
    first = read_yaml_cached(path)
    assert first == {"broker": "甲", "valid_from": __import__("datetime").date(2024, 1, 1)}
    assert read_yaml_cached(path) is first  # unchanged: parsed once
    path.write_text("broker: 乙乙\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    assert read_yaml_cached(path) == {"broker": "乙乙"}
