"""Talking to Amazon: the token, the report links, the download and its retries."""
