"""Webhooks: subscriptions an organisation manages, and the job that delivers its events
to them, signed, in order, through the feed's sharing filter and an SSRF guard."""
