"""Fixtures of the kernel's tests."""

import pytest

from aftersales.tests.factories import MerchantFactory, StoreFactory


@pytest.fixture
def store(db):
    """A store of a merchant that sells in CNY."""
    return StoreFactory(merchant=MerchantFactory(currency="CNY"))
