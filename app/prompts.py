"""What the line says, in one place."""

MENU_CHOICES = (
    "Press 1, or just stay on the line, to talk to someone now. "
    "Press 2 to hear about the Fusing Hour. "
    "Press 3 to be called back when someone is free. "
    "Press 0 for urgent help."
)
GREETING = (
    "Welcome to Mindfuse. In a moment you will talk to another real person who also called. "
    f"No judgment, no history, no agenda. {MENU_CHOICES}"
)
FUSING_HOUR_INFO = (
    "Once a week, the Fusing Hour connects many callers in rounds of short conversations. "
    "Just call during the hour to join."
)
UNKNOWN_KEY = "Sorry, that key does nothing here."
CONNECTING = "Someone is here for you. Connecting you now."
FINDING = "Finding someone for you. Please stay on the line."
HOLD = "Thanks for waiting. Someone will be with you soon."
NOBODY_FREE = (
    "Nobody is free right now. Press 1 to keep waiting, "
    "press 2 to hear about the Fusing Hour, press 3 to be called back when someone is free, "
    "or hang up and try again later. Press 0 for urgent help."
)
CALLBACK_NOTED = (
    "Thank you. We will call you back as soon as someone is free, within the next {window}. "
    "When we call, press 1 to talk. Take care."
)
CALLBACK_WITHHELD = "Sorry, we cannot call back a withheld number. Please call again later."
CALLBACK_ALREADY = "You have already asked to be called back. We will call you soon. Take care."
CALLBACK_LIMIT = (
    "You have asked to be called back several times today. Please call again later. Take care."
)
CALLBACK_CALLING = (
    "We are calling someone who asked to talk. Please stay on the line while we connect you."
)
CALLBACK_PROMPT = (
    "This is Mindfuse calling you back. Someone is free to talk with you now. Press 1 to talk now."
)
CALLBACK_CONNECTING = "Connecting you now. Say hello."
CALLBACK_PARTNER_LEFT = (
    "The person who was waiting has just been connected elsewhere. Let's find you someone else."
)
WHY_ENDED = {
    "time_up": "Your time together is up. Thank you both for talking.",
    "partner_left": "The other person has left the conversation.",
    "you_left": "You have left the conversation.",
    "alone": "",
}
AFTER_MENU = (
    "Press 1 to talk to someone new. Press 2 to report the person you just talked to. "
    "Or hang up. Press 0 for urgent help."
)
AGAIN_MENU = "Press 1 to talk to someone new, or hang up. Press 0 for urgent help."
REPORTED = "Thank you for telling us. You will not be connected with this person again."
BLOCKED = (
    "Several people have reported conversations with you, so this line is closed to you "
    "for now. Goodbye."
)
ONE_MINUTE_LEFT = "One minute left in this conversation. Time to say goodbye soon."
PARTNER_GONE = "The other person left before you could talk. Let's find someone else."
NOT_MEMBER = (
    "Your first conversation with Mindfuse was free. To keep talking, membership costs "
    "4 euros a month."
)
LINK_SENT = "We are sending you a text with a link to join. Thank you, and take care."
JOIN_OFFER = (
    "Press 1 to get texts from us: a link to join now, and reminders before the Fusing Hour. "
    "Or hang up. Press 0 for urgent help."
)
HOW_TO_JOIN = "To join, text JOIN to this number, then call again. Take care."
GOODBYE = "Thank you for calling Mindfuse. Take care."
SLOW_DOWN = (
    "You have called many times in the last hour. Please take a break and call again later. "
    "Take care."
)
APOLOGY = (
    "We are sorry, the line is having trouble right now. Please call again in a few minutes. "
    "Goodbye."
)
WAIT_APOLOGY = (  # said in a room or the lobby, where the line cannot hang up
    "We are sorry, the line is having trouble right now. Please stay on the line, "
    "we will be with you as soon as we can."
)

FUSING_WELCOME = (
    "Welcome to the Fusing Hour. You will talk with a new person every round. "
    "Relax for a moment; we will connect you soon."
)
FUSING_BACK_TO_LOBBY = "You are back in the lobby. We will connect you with someone new soon."
FUSING_NEW_ROUND = "A new round. Say hello to someone new."
FUSING_LATE_PAIR = "Someone is here for you. Say hello."
FUSING_ROUND_ENDING = "This round ends in a moment. Time to say goodbye."
FUSING_CLOSING = (
    "The Fusing Hour is over for this week. Thank you for being here, and take care. Goodbye."
)
FUSING_NEXT = "The next Fusing Hour is {when}."
FUSING_NONE_PLANNED = "No Fusing Hour is planned right now."
INFO_MENU = (
    "Press 1 to talk to someone now. "
    "Press 2 for a text message reminder before it starts. Or hang up. "
    "Press 0 for urgent help."
)
INFO_MENU_WITHHELD = "Press 1 to talk to someone now, or hang up. Press 0 for urgent help."
URGENT_SERVICE = "If you are in crisis, {name} is there for you, day and night, on {number}."
URGENT_OFFER = "Press 1 and we will connect you to them now."
URGENT_CALL_THEM = "Please hang up and call them now. Take care."
URGENT_NONE = (
    "If you are in danger or need urgent help, please hang up and call your local emergency "
    "number now. Take care."
)
URGENT_CONNECTING = "Connecting you now. Please stay on the line."
REMINDER_NOTED = (
    "Thank you. You will get a text to confirm, and reminders before each Fusing Hour. "
    "Reply STOP to that text to stop them."
)
FUSING_LAST_ROUND = "This is the last round of the Fusing Hour."


def window(minutes: int) -> str:
    """How a call-back window is said: "2 hours", "90 minutes"."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def countdown(seconds: float) -> str:
    """How the lobby says how long until the next round."""
    if seconds < 60:
        return "The next round starts in less than a minute."
    minutes = round(seconds / 60)
    return f"The next round starts in about {minutes} minute{'s' if minutes != 1 else ''}."
