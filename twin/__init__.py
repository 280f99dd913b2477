"""An offline stand-in for Twilio: REST API, call engine, conferences and SMS over real HTTP."""

from __future__ import annotations

from .callee import Callee, Pickup
from .faults import RestError, RestFaults
from .handle import Twin
from .models import TwinError
from .opt_out import MessagingService
from .phone import Caller
from .ports import EventOrder, VoiceKnobs
from .sms import InboundSms
from .webhooks import WebhookRecord

__all__ = [
    "Callee",
    "Caller",
    "EventOrder",
    "InboundSms",
    "MessagingService",
    "Pickup",
    "RestError",
    "RestFaults",
    "Twin",
    "TwinError",
    "VoiceKnobs",
    "WebhookRecord",
]
