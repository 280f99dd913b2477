"""SMS: reminders before the Fusing Hour, keywords and consent."""
