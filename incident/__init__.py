"""The incident kit: what a team needs on the day a key leaks, built from what irready
already knows about the account (the latest audit's snapshot, the config, the drills)."""
