"""The install is pinned: every declared dependency has an exact version in the lock file."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

from sim.experiments.pipeline import DEPENDENCIES

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"requirements.lock: not an exact pin: {line!r}"
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_declared_dependency_is_pinned():
    project = _pyproject()
    declared = project["project"]["dependencies"] + [
        r for extra in project["project"]["optional-dependencies"].values() for r in extra]
    declared += project["build-system"]["requires"]
    pins = _lock()
    missing = sorted({_name(r) for r in declared} - set(pins))
    assert not missing, f"not in requirements.lock (run `make lock`): {missing}"


def test_installed_versions_of_the_result_shaping_packages_are_the_locked_ones():
    pins = _lock()
    differ = {name: (pins[name], metadata.version(name)) for name in DEPENDENCIES
              if name in pins and metadata.version(name) != pins[name]}
    assert not differ, f"installed differs from requirements.lock (run `make`): {differ}"
    assert set(DEPENDENCIES) <= set(pins)


def test_licence_is_an_spdx_expression():
    # setuptools >= 77 deprecates the table form ({text = ...}) with a warning at every install.
    project = _pyproject()
    assert isinstance(project["project"]["license"], str)
    assert any(_name(r) == "setuptools" and ">=77" in r for r in project["build-system"]["requires"])
