"""Everything that knows Twilio: TwiML builders, webhook signatures, the REST client."""
