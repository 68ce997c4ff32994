"""The test world, loaded once per test session into the test database (DESIGN.md D13).

Every test sees it; tests run in transactions that roll back, so it stays as loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from xiezuo.pairings.models import Pairing
from xiezuo.synth import foundation


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        foundation.build_world()
    yield


class World:
    """Names for the objects of the test world, looked up fresh in each test."""

    def user(self, username: str) -> User:
        user = User.objects.get(username=username)
        return user

    @property
    def provincial(self) -> Pairing:
        return Pairing.objects.get(
            programme="east_west_2016", sides__region_code=foundation.full_code("1308")
        )

    def pairing(self, helper: str, helped: str) -> Pairing:
        return (
            Pairing.objects.filter(sides__side="helper", sides__region_code=foundation.full_code(helper))
            .filter(sides__side="helped", sides__region_code=foundation.full_code(helped))
            .get()
        )


@pytest.fixture
def world(db: Any) -> World:
    return World()
