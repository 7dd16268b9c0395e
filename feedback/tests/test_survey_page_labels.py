"""The survey's comment box says it is optional once: its label no longer carries "(optional)"
beside the field's own marker (the page read "还有什么想告诉我们的吗？（可选） （选填）")."""

from feedback.models import Survey
from feedback.services import survey_send
from feedback.tests.builders import link_path, open_case, resolve
from feedback.tests.factories import SurveySettingsFactory


def test_the_comment_box_says_optional_once_in_chinese(client, world):
    # Given a resolved case whose satisfaction survey was sent
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=0)
    ticket = open_case(world)
    resolve(world, ticket)
    survey = survey_send(survey_id=Survey.objects.get(ticket=ticket).pk)

    # When the customer opens it with a Chinese browser
    page = client.get(link_path(survey), HTTP_ACCEPT_LANGUAGE="zh-CN")

    # Then the comment's label says "optional" once, with the field's own marker
    html = page.content.decode()
    assert page.status_code == 200
    assert '还有什么想告诉我们的吗？ <span class="field__optional">（选填）</span>' in html
    assert "（可选）" not in html.split('id="id_comment"')[0].rsplit("<label", 1)[1]
