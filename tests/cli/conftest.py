"""Fixtures the commands' tests share with the layers they drive."""

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
