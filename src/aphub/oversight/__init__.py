"""Oversight for people: signing in (sessions), and the pages of /oversight."""
