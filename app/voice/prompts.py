"""What the line says, in one place."""

GREETING = (
    "Welcome to Mindfuse. In a moment you will talk to another real person who also called. "
    "No judgment, no history, no agenda. "
    "Press 1, or just stay on the line, to talk to someone now. "
    "Press 2 to hear about the Fusing Hour."
)
FUSING_HOUR_INFO = (
    "Every Sunday at 10 in the morning, Central European Time, the Fusing Hour connects "
    "many callers in rounds of short conversations. Just call during the hour to join. "
    "Press 1 to talk to someone now, or hang up."
)
UNKNOWN_KEY = "Sorry, that key does nothing here."
CONNECTING = "Someone is here for you. Connecting you now."
FINDING = "Finding someone for you. Please stay on the line."
HOLD = "Thanks for waiting. Someone will be with you soon."
NOBODY_FREE = (
    "Nobody is free right now. Press 1 to keep waiting, "
    "press 2 to hear about the Fusing Hour, or hang up and try again later."
)
WHY_ENDED = {
    "time_up": "Your time together is up. Thank you both for talking.",
    "partner_left": "The other person has left the conversation.",
    "you_left": "You have left the conversation.",
    "alone": "",
}
AFTER_MENU = (
    "Press 1 to talk to someone new. Press 2 to report the person you just talked to. Or hang up."
)
AGAIN_MENU = "Press 1 to talk to someone new, or hang up."
REPORTED = "Thank you for telling us. You will not be connected with this person again."
BLOCKED = (
    "Several people have reported conversations with you, so this line is closed to you "
    "for now. Goodbye."
)
ONE_MINUTE_LEFT = "One minute left in this conversation. Time to say goodbye soon."
PARTNER_GONE = "The other person left before you could talk. Let's find someone else."
GOODBYE = "Thank you for calling Mindfuse. Take care."
SLOW_DOWN = (
    "You have called many times in the last hour. Please take a break and call again later. "
    "Take care."
)
APOLOGY = (
    "We are sorry, the line is having trouble right now. Please call again in a few minutes. "
    "Goodbye."
)
