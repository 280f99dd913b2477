"""SMS both ways: phones texting the app, and messages the app sends through REST."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .faults import RestError
from .models import Message, TwinError
from .twiml import TwimlError, parse_messaging
from .util import API_VERSION, country_of, is_e164, segments

if TYPE_CHECKING:
    from .ports import TwinState

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}


@dataclass
class InboundSms:
    """What happened to a text a phone sent to the line."""

    sid: str
    status: int
    replies: list[str] = field(default_factory=list)
    error: TwinError | None = None


class SmsCenter:
    """Stores every message and delivers the app's messages to simulated phones."""

    def __init__(self, twin: TwinState) -> None:
        self.twin = twin
        self.messages: dict[str, Message] = {}
        self.inboxes: dict[str, list[Message]] = {}
        self.opted_out: set[str] = set()

    def receive(self, from_number: str, body: str, to: str | None = None) -> InboundSms:
        """A phone texts the line: POST the app's sms_url and deliver its TwiML replies."""
        twin = self.twin
        to = to or twin.phone_number
        msg = Message(
            twin.account_sid,
            from_number,
            to,
            body,
            direction="inbound",
            num_segments=segments(body),
        )
        msg.set_status("received")  # final at once: deletable once Twilio has settled it
        msg.date_sent = msg.date_updated
        word = body.strip().upper()
        with twin.cond:
            self.messages[msg.sid] = msg
            if word in STOP_WORDS:
                self.opted_out.add(from_number)
            elif word in START_WORDS:
                self.opted_out.discard(from_number)
        params = {
            "MessageSid": msg.sid,
            "SmsMessageSid": msg.sid,
            "SmsSid": msg.sid,
            "AccountSid": twin.account_sid,
            "From": from_number,
            "To": to,
            "Body": body,
            "NumSegments": str(msg.num_segments),
            "NumMedia": "0",
            "ApiVersion": API_VERSION,
            "SmsStatus": "received",
            "FromCountry": country_of(from_number),
            "ToCountry": country_of(to),
        }
        record = twin.webhook_client.request(twin.sms_url or "", twin.sms_method, params, "sms")
        result = InboundSms(msg.sid, record.status)
        try:
            if record.error or not record.ok:
                raise TwimlError(f"HTTP retrieval failure: status {record.status}")
            verbs = parse_messaging(record.body) if record.body.strip() else []
        except TwimlError as exc:
            result.error = TwinError(11200 if not record.ok else exc.code, str(exc), twin.sms_url)
            twin.record_error(result.error)
            return result
        for verb in verbs:
            if verb.name == "Message":
                text = verb.text or " ".join(c.text for c in verb.children if c.name == "Body")
                reply = Message(
                    twin.account_sid,
                    verb.get("from") or to,
                    verb.get("to") or from_number,
                    text,
                    direction="outbound-reply",
                    num_segments=segments(text),
                )
                with twin.cond:
                    self.messages[reply.sid] = reply
                self._deliver(reply)
                result.replies.append(text)
        return result

    def create(self, form: dict[str, str]) -> Message:
        """Handle REST Messages.json POST."""
        to, body = form.get("To", ""), form.get("Body", "")
        from_ = form.get("From") or (
            self.twin.phone_number if form.get("MessagingServiceSid") else ""
        )
        if not to:
            raise RestError(400, 21604, "A 'To' phone number is required.")
        if not is_e164(to):
            raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_:
            raise RestError(400, 21603, "A 'From' phone number is required.")
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            raise RestError(400, 21602, "Message body is required.")
        with self.twin.cond:
            if to in self.opted_out:
                raise RestError(400, 21610, "Attempt to send to unsubscribed recipient")
            msg = Message(
                self.twin.account_sid,
                from_,
                to,
                body,
                status_callback=form.get("StatusCallback"),
                messaging_service_sid=form.get("MessagingServiceSid"),
                num_segments=segments(body),
            )
            self.messages[msg.sid] = msg
        self._deliver(msg)
        return msg

    def _deliver(self, msg: Message) -> None:
        """Move a message queued -> sent -> delivered, with status callbacks."""

        def job() -> None:
            for status in ("sent", "delivered"):
                with self.twin.cond:
                    msg.set_status(status)
                    if status == "sent":
                        msg.date_sent = msg.date_updated
                    else:
                        self.inboxes.setdefault(msg.to, []).append(msg)
                    self.twin.cond.notify_all()
                if msg.status_callback:
                    self.twin.webhook_client.request(
                        msg.status_callback,
                        "POST",
                        {
                            "MessageSid": msg.sid,
                            "SmsSid": msg.sid,
                            "MessageStatus": status,
                            "SmsStatus": status,
                            "AccountSid": msg.account_sid,
                            "From": msg.from_,
                            "To": msg.to,
                            "ApiVersion": API_VERSION,
                        },
                        "sms-status",
                    )

        self.twin.dispatcher.submit(msg.sid, job)
