"""The detection drill (`irready drill detect`): give a canary user a temporary key,
replay the attacker's first minutes with it, delete it, then measure how long until the
calls can be seen where the team will look on the day (CloudTrail event history, the
trail's log files). The audit proves a trail exists; this proves its logs arrive."""
