import factory

from aftersales.tests.factories import CustomerFactory, MerchantFactory, UserFactory
from tickets.models import (
    AgentProfile,
    AgentStatus,
    AssignmentStrategy,
    ImapSecurity,
    Macro,
    Mailbox,
    Message,
    RoutingRule,
    Tag,
    Team,
    TeamAssignment,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketKind,
    TicketPriority,
)


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"tag-{n}")


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    """A ticket row as it would stand; for behaviour, create tickets with ``ticket_create``."""

    class Meta:
        model = Ticket

    merchant = factory.SubFactory(MerchantFactory)
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    number = factory.Sequence(lambda n: f"SUP-{900000 + n:06d}")
    kind = TicketKind.SUPPORT
    priority = TicketPriority.NORMAL
    channel = TicketChannel.PORTAL
    subject = factory.Sequence(lambda n: f"Question {n}")


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    merchant = factory.SelfAttribute("ticket.merchant")
    kind = Message.Kind.CUSTOMER
    author_customer = factory.SelfAttribute("ticket.customer")
    body = "It does not switch on."


class TicketEventFactory(factory.django.DjangoModelFactory[TicketEvent]):
    class Meta:
        model = TicketEvent

    ticket = factory.SubFactory(TicketFactory)
    merchant = factory.SelfAttribute("ticket.merchant")
    verb = TicketEvent.Verb.CREATED
    is_public = True


class RoutingRuleFactory(factory.django.DjangoModelFactory[RoutingRule]):
    class Meta:
        model = RoutingRule

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    position = factory.Sequence(lambda n: (n + 1) * 10)


class TeamAssignmentFactory(factory.django.DjangoModelFactory[TeamAssignment]):
    class Meta:
        model = TeamAssignment

    team = factory.SubFactory(TeamFactory)
    merchant = factory.SelfAttribute("team.merchant")
    strategy = AssignmentStrategy.LEAST_LOADED


class AgentProfileFactory(factory.django.DjangoModelFactory[AgentProfile]):
    class Meta:
        model = AgentProfile

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    status = AgentStatus.AVAILABLE
    capacity = 5


class MacroFactory(factory.django.DjangoModelFactory[Macro]):
    class Meta:
        model = Macro

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Macro {n}")


class MailboxFactory(factory.django.DjangoModelFactory[Mailbox]):
    class Meta:
        model = Mailbox

    merchant = factory.SubFactory(MerchantFactory)
    name = "Support"
    address = factory.Sequence(lambda n: f"support{n}@shop.test")
    is_default = True
    imap_security = ImapSecurity.NONE
