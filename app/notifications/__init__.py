"""Reminders (催办), each user's inbox and the optional e-mail copies of notifications."""
