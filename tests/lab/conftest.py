"""Fixtures the lab's tests share with the layers they measure."""

from tests.cloud.conftest import detector, local_matcher, no_network  # noqa: F401  (fixtures)
