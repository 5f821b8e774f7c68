"""What the archive answers: completeness, restatements (history) and typed views."""
