"""The case hub imports no workflow app: a workflow app plugs its boxes into the hub's registries."""

import ast
from pathlib import Path

import pytest

from tickets import panels

WORKFLOW_APPS = ("returns", "repairs", "feedback")
TICKETS_DIR = Path(panels.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_hub_imports_no_workflow_app_outside_its_tests():
    offenders = sorted(
        f"{path.relative_to(TICKETS_DIR)}: {module}"
        for path in TICKETS_DIR.rglob("*.py")
        if "tests" not in path.relative_to(TICKETS_DIR).parts
        for module in _imported_modules(path)
        if module.split(".")[0] in WORKFLOW_APPS
    )
    assert offenders == []


def test_returns_registers_its_staff_and_portal_boxes():
    # The hub's own boxes (complaints, then the phone call) register first: tickets is installed first.
    assert panels.registered_staff_boxes() == ["complaints", "phone_call", "returns", "repairs", "feedback"]
    assert panels.registered_portal_boxes() == ["complaints", "returns", "repairs", "feedback"]
    assert panels._staff_boxes["returns"].template_name == "dashboard/returns/ticket_return_box.html"
    assert panels._portal_boxes["returns"].template_name == "portal/returns/_return_box.html"
    assert panels._staff_boxes["repairs"].template_name == "dashboard/repairs/ticket_repair_box.html"
    assert panels._portal_boxes["repairs"].template_name == "portal/repairs/_repair_box.html"


def test_registering_another_box_under_a_taken_name_is_refused():
    def other(*, ticket):
        return {}

    with pytest.raises(ValueError, match="'returns' is already registered"):
        panels.register_staff_box("returns", template_name="x.html", context=other)
    assert panels.registered_staff_boxes() == ["complaints", "phone_call", "returns", "repairs", "feedback"]
    assert panels._staff_boxes["returns"].context is not other


def test_two_boxes_may_not_set_the_same_variable():
    first = panels.Box(name="a", template_name="a.html", context=lambda **kw: {"box": 1})
    second = panels.Box(name="b", template_name="b.html", context=lambda **kw: {"box": 2})

    with pytest.raises(ValueError, match=r"box 'b' sets \['box'\]"):
        panels._merged([(first, {"box": 1}), (second, {"box": 2})])
    merged = panels._merged([(first, {"box": 1})])
    assert merged == panels.BoxesOnPage(template_names=["a.html"], context={"box": 1})
