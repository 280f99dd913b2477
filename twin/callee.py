"""Who answers a number the twin calls: a person, a machine, nobody, a busy line."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Pickup(StrEnum):
    """What happens at the far end when the twin rings a number."""

    HUMAN = "human"  # a person picks up
    MACHINE = "machine"  # voicemail picks up: it records, and presses nothing
    NO_ANSWER = "no-answer"  # it rings until the call's Timeout
    BUSY = "busy"  # a busy signal at once
    FAILED = "failed"  # the number cannot be reached


@dataclass
class Callee:
    """The far end of a number, as a test scripts it (times in simulated seconds).

    A person presses `press` once they hear something containing `cue` (any case; an empty
    cue: the first thing they hear); with no `press` they press nothing. Either hangs up
    `hang_up_after` seconds after answering unless the line ends the call first.
    `detected_as` is what answering machine detection concludes (None: it gets it right);
    Twilio's detection is a guess from the greeting, so a machine can pass for a person.
    """

    pickup: Pickup = Pickup.HUMAN
    ring_seconds: float = 5.0
    press: str = ""
    cue: str = ""
    hang_up_after: float | None = None
    detect_seconds: float = 3.0
    detected_as: str | None = None

    def answered_by(self) -> str:
        """The AnsweredBy value of MachineDetection=Enable for this far end."""
        if self.detected_as is not None:
            return self.detected_as
        return "machine_start" if self.pickup == Pickup.MACHINE else "human"

    def presses_on(self, heard: str) -> str:
        """The keys this person presses on hearing `heard` ('' for none)."""
        if not self.press or self.pickup != Pickup.HUMAN:
            return ""
        return self.press if self.cue.lower() in heard.lower() else ""
