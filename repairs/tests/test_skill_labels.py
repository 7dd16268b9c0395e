"""Technicians' skills read as labels in the reader's language on the technicians' pages, the
profile form and the admin list; the form reads a label (either language) back as its key, and
the database and the API keep the keys."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.skills import skill_key, skill_label
from repairs.tests.dispatch_factories import TechnicianFactory

pytestmark = pytest.mark.django_db

SKILLS = {"aircon_install": 2, "cert:gas": 1, "electronics": 3, "kayak_paddles": 1}


@pytest.fixture
def shop(db):
    return MerchantFactory(slug="skills-shop", timezone="Asia/Shanghai", default_language="en")


@pytest.fixture
def supervisor(shop):
    user = UserFactory()
    MembershipFactory(merchant=shop, user=user, role=Membership.Role.SUPERVISOR)
    client = Client()
    client.force_login(user)
    return client


def _get(client, url, language):
    client.cookies["aftersales_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_each_skill_reads_as_its_label_and_an_unknown_key_as_written():
    with translation.override("en"):
        english = [skill_label(key) for key in SKILLS]
    with translation.override("zh-hans"):
        chinese = [skill_label(key) for key in SKILLS]

    assert english == ["Air conditioner installation", "Certified: gas", "Electronics", "kayak paddles"]
    assert chinese == ["空调安装", "持证：燃气", "电子产品", "kayak paddles"]


def test_a_label_in_either_language_reads_back_as_its_key():
    assert [
        skill_key(text) for text in ("空调安装", "air conditioner  installation", "持证：燃气", "kayak_paddles")
    ] == [
        "aircon_install",
        "aircon_install",
        "cert:gas",
        "kayak_paddles",
    ]


def test_the_technicians_list_shows_the_skills_by_label_in_each_language(supervisor, shop):
    technician = TechnicianFactory(merchant=shop, skills=SKILLS)
    url = reverse("dashboard:repair_technicians")

    english = _get(supervisor, url, "en")
    chinese = _get(supervisor, url, "zh-hans")

    assert (
        '<td data-label="Skills">Air conditioner installation (level 2), Certified: gas (level 1), '
        "Electronics (level 3), kayak paddles (level 1)</td>"
    ) in english
    assert (
        '<td data-label="技能">kayak paddles（1 级）、持证：燃气（1 级）、电子产品（3 级）、空调安装（2 级）</td>'
        in chinese
    )
    for html in (english, chinese):
        assert "aircon_install" not in html
        assert "cert:gas" not in html
    assert technician.skills == SKILLS


def test_the_profile_form_shows_labels_and_saves_them_as_keys(supervisor, shop):
    technician = TechnicianFactory(merchant=shop, skills={"aircon_install": 2, "cert:gas": 1})
    url = reverse("dashboard:repair_technician", args=[technician.pk])

    chinese = _get(supervisor, url, "zh-hans")
    assert ">\n空调安装 2\n持证：燃气 1</textarea>" in chinese
    assert "aircon_install" not in chinese

    saved = supervisor.post(
        url,
        {
            "phone": "",
            "skills": "空调安装 3\n持证：燃气 1\nElectronics 1\nkayak_paddles 2",
            "areas": "",
            "home_latitude": "31.230000",
            "home_longitude": "121.470000",
            "calendar": "",
            "daily_capacity": "6",
            "is_active": "on",
        },
    )

    assert saved.status_code == 302
    technician.refresh_from_db()
    assert technician.skills == {"aircon_install": 3, "cert:gas": 1, "electronics": 1, "kayak_paddles": 2}


def test_the_admin_list_shows_the_skills_by_label(shop):
    TechnicianFactory(merchant=shop, skills={"aircon_install": 2, "electronics": 1})
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = APIClient()
    client.force_login(admin)
    client.cookies["aftersales_language"] = "zh-hans"

    page = client.get(reverse("admin:repairs_technicianprofile_changelist"))

    assert page.status_code == 200
    assert '<td class="field-skills_shown">电子产品（1 级）、空调安装（2 级）</td>' in page.content.decode()


def test_the_technicians_changes_name_the_fields_in_the_readers_language(supervisor, shop):
    # Given a technician whose skills and capacity a supervisor changed
    technician = TechnicianFactory(merchant=shop, skills={"taps": 1}, daily_capacity=8)
    url = reverse("dashboard:repair_technician", args=[technician.pk])
    supervisor.post(
        url,
        {
            "phone": "",
            "skills": "taps 2",
            "areas": "",
            "home_latitude": str(technician.home_latitude),
            "home_longitude": str(technician.home_longitude),
            "calendar": technician.calendar_id or "",
            "daily_capacity": "6",
            "is_active": "on",
        },
    )

    # When the page is read in Chinese and in English
    chinese = _get(supervisor, url, "zh-hans")
    english = _get(supervisor, url, "en")

    # Then the change names its fields, never their stored keys
    assert "：服务区域（邮政编码、区县）、技能与等级、每天最多上门次数</li>" in chinese
    assert ": service areas (postal codes, districts), skills and levels, visits a day at most</li>" in english
    changes = chinese.split('id="changes-title"')[1] + english.split('id="changes-title"')[1]
    assert "daily_capacity" not in changes
    assert "skills," not in changes
