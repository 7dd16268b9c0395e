"""What a routing rule does, said in one line of the page's language."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aftersales.templatetags.listing import listing
from tickets.models import RoutingRule

register = template.Library()


@register.filter
def routing_actions(rule: RoutingRule) -> str:
    """ "Team: Tents; Priority: High" ("小组：帐篷；优先级：高"): the separator only between clauses, so
    the line never ends on one (autoescaped like any value)."""
    clauses = []
    if rule.set_team:
        clauses.append(_("Team: %(team)s") % {"team": rule.set_team})
    if rule.set_priority:
        clauses.append(_("Priority: %(priority)s") % {"priority": rule.get_set_priority_display()})
    if rule.add_tags:
        clauses.append(_("Tags: %(tags)s") % {"tags": listing(rule.add_tags)})
    if rule.set_sla_policy:
        clauses.append(_("SLA: %(policy)s") % {"policy": rule.set_sla_policy.name})
    if rule.set_assignee:
        clauses.append(_("Assignee: %(assignee)s") % {"assignee": rule.set_assignee})
    return pgettext("clause separator", "; ").join(clauses)
