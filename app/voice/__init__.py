"""The voice webhook blueprint: thin views from Twilio's form to the domain and back as TwiML."""
