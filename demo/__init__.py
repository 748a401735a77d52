"""`irready demo`: the whole tool on an embedded, simulated account. `account` seeds
the story into moto, `weeks` replays the weeks of fixes and audits, `drill` runs a real
rotation drill on it, and `run` is the command's orchestration."""
