"""Test order for `pytest -n`: the modules holding a test marked ``long_running`` (minutes) come first.

pytest-xdist hands tests to the workers in collection order (with ``--dist loadgroup``, the tests of one
``xdist_group``, which share an expensive module fixture, go to one worker as one unit, the largest
groups first). A test that takes minutes and starts last keeps one worker busy while the other has
nothing left to do; started first, it runs beside everything else. Whole modules move, in their own
order, so a module fixture is still set up once. Loaded with ``-p`` from the ``addopts`` in
pyproject.toml; every worker computes the same order, as xdist requires.
"""

from __future__ import annotations

import pytest

MARKER = "long_running"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    early = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker(MARKER) is not None}
    items[:] = sorted(items, key=lambda item: item.nodeid.split("::")[0] not in early)  # a stable sort
