"""The KPI page says which period its figures cover: the period select shows the one in force
(30 days unless another is picked), and the sentences under the heading are punctuated as the
reader's language punctuates (no space between two Chinese sentences)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _kpi(client, world, language, query=None):
    client.force_login(world.supervisor)
    client.cookies["aftersales_language"] = language
    response = client.get(reverse("dashboard:kpi_home"), query or {})
    assert response.status_code == 200
    return response.content.decode()


def test_the_period_select_shows_the_default_period_the_figures_cover(client, world):
    plain = _kpi(client, world, "en")
    filtered = _kpi(client, world, "en", {"kind": "repair"})
    picked = _kpi(client, world, "en", {"period": "7"})

    assert '<option value="30" selected>Last 30 days</option>' in plain
    assert '<option value="30" selected>Last 30 days</option>' in filtered
    assert '<option value="7" selected>Last 7 days</option>' in picked
    assert '<option value="30" selected>' not in picked


def test_the_period_sentences_are_punctuated_for_each_language(client, world):
    zone = world.merchant.timezone

    chinese = _kpi(client, world, "zh-hans")
    english = _kpi(client, world, "en")

    assert f"按 {zone} 的整天计算。数据尚未计算；每十分钟刷新一次。</p>" in chinese
    assert (
        f", whole days in {zone}. The figures have not been computed yet; they are refreshed every ten minutes.</p>"
        in (english)
    )
