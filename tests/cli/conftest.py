"""Fixtures the commands' tests share with the layers they drive."""

from pathlib import Path

import pytest

from tests.audit.conftest import clock  # noqa: F401  (fixtures, registered by import)
from tests.camera.conftest import sysfs  # noqa: F401
from tests.cloud.conftest import (  # noqa: F401
    _shared_client,
    aws_env,
    detector,
    faces,
    local_matcher,
    no_network,
    stubbed,
)


@pytest.fixture
def environ(tmp_path: Path, aws_env) -> dict[str, str]:  # noqa: F811 (aws_env: a fixture)
    """No settings file, no AWS: the defaults, and auto picks the local matcher."""
    return {"HOME": str(tmp_path)}
