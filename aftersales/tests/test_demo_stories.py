"""Each app tells its own part of the demo; the kernel's builder composes them in app order."""

import pytest

from aftersales import demo


def test_the_apps_register_their_stories_in_the_order_they_are_installed():
    assert demo.registered_stories() == ["tickets", "returns", "repairs", "feedback"]
    assert demo._stories == {
        "tickets": "tickets.demo.TicketsDemoStory",
        "returns": "returns.demo.ReturnsDemoStory",
        "repairs": "repairs.demo.RepairsDemoStory",
        "feedback": "feedback.demo.FeedbackDemoStory",
    }


def test_a_name_taken_by_another_story_is_refused():
    with pytest.raises(ValueError, match="'tickets' is already registered"):
        demo.register_story("tickets", "elsewhere.Story")
    assert demo._stories["tickets"] == "tickets.demo.TicketsDemoStory"
