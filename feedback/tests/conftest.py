"""Fixtures of feedback's tests: a merchant with an order, its staff and a team."""

import pytest

from feedback.tests.builders import World, make_world


@pytest.fixture
def world(db) -> World:
    return make_world()
