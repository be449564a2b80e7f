"""Checking a PDF someone holds: is it an approved version this system issued (genuine), one
whose bytes changed since (altered), or one it never signed (unknown)? Open to anyone with the
file: ``/verify`` and ``flask --app wsgi verify FILE``."""
