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
CONVERSATION_ENDED = "Your conversation has ended. Press 1 to talk to someone new, or hang up."
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
