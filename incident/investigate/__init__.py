"""`irready investigate`: what a leaked key did, and what it left behind, read from the
trail's own log files."""
