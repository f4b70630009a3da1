"""The adversarial suite (tests/test_adversarial.py) in the container: the same tests, the same goldens,
on the class graded by ``batch --docker``. A module of its own so that the two runs of the class can
go to two test workers."""
from __future__ import annotations

import pytest
from docker_support import docker_engine, image, offline_base  # noqa: F401 - the container run's image
from test_adversarial import *  # noqa: F403 - the tests themselves, run here on the container's class
from test_adversarial import grade_class

pytestmark = [pytest.mark.adversarial, pytest.mark.slow, pytest.mark.docker]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, dataset_dir, image):  # noqa: F811 - this module's class: graded in the container
    return grade_class(tmp_path_factory.mktemp("adversarial-container"), docker_image=image)
