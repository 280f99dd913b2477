"""SMS both ways: phones texting the app, and messages the app sends through REST.

Opt-out keywords are answered as Twilio does (default handling, or a Messaging Service's
Advanced Opt-Out); outbound messages wait in their sender's queue (throughput.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .faults import RestError
from .models import Message, TwinError
from .opt_out import DEFAULT_REPLIES, Keyword, MessagingService, keyword_of
from .throughput import LONG_CODE_RATE, QUEUE_FULL, QUEUE_LIMIT, Booking, Senders, Timers
from .twiml import TwimlError, parse_messaging
from .util import API_VERSION, country_of, is_e164, segments

if TYPE_CHECKING:
    from .ports import TwinState

OPTED_OUT = 21610


@dataclass
class InboundSms:
    """What happened to a text a phone sent to the line."""

    sid: str
    status: int  # the app's HTTP answer; 0 when Twilio did not forward the text
    replies: list[str] = field(default_factory=list)  # what the app's TwiML asked to send
    error: TwinError | None = None
    auto_reply: str | None = None  # what Twilio answered itself to an opt-out keyword


class SmsCenter:
    """Stores every message and delivers the app's messages to simulated phones."""

    def __init__(
        self,
        twin: TwinState,
        *,
        rate: float = LONG_CODE_RATE,
        forward_help: bool = True,
        service: MessagingService | None = None,
    ) -> None:
        self.twin, self.service, self.forward_help = twin, service, forward_help
        self.messages: dict[str, Message] = {}
        self.inboxes: dict[str, list[Message]] = {}
        self.opted_out: set[str] = set()  # per number, or per Messaging Service with one
        self.senders = Senders(twin.time_scale, rate)
        self.timers = Timers()

    @property
    def advanced(self) -> bool:
        """Whether Advanced Opt-Out answers the keywords (else default handling does)."""
        return self.service is not None and self.service.advanced_opt_out

    def receive(self, from_number: str, body: str, to: str | None = None) -> InboundSms:
        """A phone texts the line: Twilio's own keyword reply, then the app's sms_url."""
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
        keyword = keyword_of(body)
        with twin.cond:
            self.messages[msg.sid] = msg
            was_out = from_number in self.opted_out
            if keyword is Keyword.STOP:
                self.opted_out.add(from_number)
            elif keyword is Keyword.START:
                self.opted_out.discard(from_number)
        result = InboundSms(msg.sid, 0)
        if keyword is not None and not (keyword is Keyword.HELP and was_out):
            replies = self.service.replies if self.advanced else DEFAULT_REPLIES
            result.auto_reply = replies[keyword]
            self._deliver_now(self._outbound(to, from_number, result.auto_reply, "outbound-reply"))
        if keyword is Keyword.HELP and not self.advanced and not self.forward_help:
            return result  # the knob for the HELP that default handling keeps to itself
        return self._forward(msg, keyword, result)

    def _forward(self, msg: Message, keyword: Keyword | None, result: InboundSms) -> InboundSms:
        twin = self.twin
        params = {
            "MessageSid": msg.sid,
            "SmsMessageSid": msg.sid,
            "SmsSid": msg.sid,
            "AccountSid": twin.account_sid,
            "From": msg.from_,
            "To": msg.to,
            "Body": msg.body,
            "NumSegments": str(msg.num_segments),
            "NumMedia": "0",
            "ApiVersion": API_VERSION,
            "SmsStatus": "received",
            "FromCountry": country_of(msg.from_),
            "ToCountry": country_of(msg.to),
        }
        if self.service is not None:
            params["MessagingServiceSid"] = self.service.sid
        if self.advanced and keyword is not None:
            params["OptOutType"] = keyword.upper()
        record = twin.webhook_client.request(twin.sms_url or "", twin.sms_method, params, "sms")
        result.status = record.status
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
                sender, recipient = verb.get("from") or msg.to, verb.get("to") or msg.from_
                self._reply(self._outbound(sender, recipient, text, "outbound-reply"))
                result.replies.append(text)
        return result

    def _reply(self, reply: Message) -> None:
        """A TwiML reply: refused like any text to a number that opted out, else queued."""
        with self.twin.cond:
            refused = reply.to in self.opted_out
            if not refused:
                booking = self.senders.book(reply.from_, reply.num_segments, time.monotonic(), None)
        if refused:
            self._fail(reply, OPTED_OUT, "Attempt to send to unsubscribed recipient")
            self.twin.record_error(TwinError(OPTED_OUT, f"reply {reply.sid} refused: opted out"))
        else:
            self._schedule(reply, booking)

    def create(self, form: dict[str, str]) -> dict:
        """Handle REST Messages.json POST; returns the message as the API answers it."""
        to, body, service_sid, from_ = self._check(form)
        validity = _validity(form.get("ValidityPeriod"))
        if validity is None and service_sid:
            validity = self.service.validity_period
        with self.twin.cond:
            if to in self.opted_out:
                raise RestError(400, OPTED_OUT, "Attempt to send to unsubscribed recipient")
            now = time.monotonic()
            if service_sid:
                from_ = self.senders.least_busy(self.pool(), now)
            elif self.senders.backlog(from_, now) > QUEUE_LIMIT:
                raise RestError(400, QUEUE_FULL, "The 'From' number has too many queued messages")
            msg = self._outbound(from_, to, body, "outbound-api", form)
            answer = msg.to_json()
            if service_sid:  # Twilio answers before it assigns a sender
                answer.update(status="accepted", num_segments="0")
                answer["from"] = None
            booking = self.senders.book(from_, msg.num_segments, now, validity)
        if service_sid:  # the sender assigned: the first status with a callback
            self._callback(msg, "queued")
        self._schedule(msg, booking)
        return answer

    def _check(self, form: dict[str, str]) -> tuple[str, str, str | None, str]:
        """To, Body, MessagingServiceSid and From of a create request, or Twilio's 400."""
        to, body, service_sid = (
            form.get("To", ""),
            form.get("Body", ""),
            form.get("MessagingServiceSid"),
        )
        if not to:
            raise RestError(400, 21604, "A 'To' phone number is required.")
        if not is_e164(to):
            raise RestError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if service_sid and (self.service is None or service_sid != self.service.sid):
            raise RestError(400, 21701, "The Messaging Service does not exist")
        if not form.get("From") and not service_sid:
            raise RestError(400, 21603, "A 'From' phone number is required.")
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            raise RestError(400, 21602, "Message body is required.")
        return to, body, service_sid, form.get("From", "")

    def pool(self) -> tuple[str, ...]:
        """The numbers a Messaging Service sends from: the line's own, then the rest."""
        return (self.twin.phone_number, *(self.service.senders if self.service else ()))

    def _outbound(self, from_: str, to: str, body: str, direction: str, form=None) -> Message:
        form = form or {}
        msg = Message(
            self.twin.account_sid,
            from_,
            to,
            body,
            direction=direction,
            status_callback=form.get("StatusCallback"),
            messaging_service_sid=form.get("MessagingServiceSid"),
            num_segments=segments(body),
        )
        with self.twin.cond:
            self.messages[msg.sid] = msg
        return msg

    def _schedule(self, msg: Message, booking: Booking) -> None:
        if booking.leaves is None:
            self.timers.at(booking.fails, lambda: self._fail(msg, booking.error, "expired"))
        else:
            self.timers.at(booking.leaves, lambda: self._deliver_now(msg))

    def _fail(self, msg: Message, code: int, why: str) -> None:
        with self.twin.cond:
            msg.set_status("failed")  # final: deletable once Twilio has settled it
            msg.error_code, msg.error_message = code, why
            self.twin.cond.notify_all()
        self._callback(msg, "failed", code)

    def _deliver_now(self, msg: Message) -> None:
        """The message leaves its sender now: sent, then delivered, with status callbacks."""
        with self.twin.cond:
            msg.set_status("sent")
            msg.date_sent = msg.date_updated
            self.twin.cond.notify_all()

        def job() -> None:
            self._post_status(msg, "sent")
            with self.twin.cond:
                msg.set_status("delivered")  # final: deletable once Twilio has settled it
                self.inboxes.setdefault(msg.to, []).append(msg)
                self.twin.cond.notify_all()
            self._post_status(msg, "delivered")

        self.twin.dispatcher.submit(msg.sid, job)

    def _callback(self, msg: Message, status: str, code: int | None = None) -> None:
        self.twin.dispatcher.submit(msg.sid, lambda: self._post_status(msg, status, code))

    def _post_status(self, msg: Message, status: str, code: int | None = None) -> None:
        if not msg.status_callback:
            return
        params = {
            "MessageSid": msg.sid,
            "SmsSid": msg.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": msg.account_sid,
            "From": msg.from_,
            "To": msg.to,
            "ApiVersion": API_VERSION,
        }
        if msg.messaging_service_sid:
            params["MessagingServiceSid"] = msg.messaging_service_sid
        if code is not None:
            params["ErrorCode"] = str(code)
        self.twin.webhook_client.request(msg.status_callback, "POST", params, "sms-status")


def _validity(raw: str | None) -> int | None:
    """The ValidityPeriod of a REST request, or None; Twilio takes 1 to 36,000 seconds."""
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= QUEUE_LIMIT:
        raise RestError(400, 21624, "Invalid validity period value")
    return int(raw)
