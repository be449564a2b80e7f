"""Comparing two versions of a report, made for Chinese prose."""
