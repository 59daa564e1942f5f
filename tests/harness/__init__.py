"""Integration-test harness: a private Dovecot per test, mail generators, a Maildir
reader, and a runner for our binary and offlineimap3.

Standard library only (plus pytest for the fixtures in tests/integ/conftest.py).
"""
