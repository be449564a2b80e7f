"""Full-text search over the reports a user may see."""
