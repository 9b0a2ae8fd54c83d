"""Notices: apprise channels, Chinese message templates, the outbox that sends each notice once."""
