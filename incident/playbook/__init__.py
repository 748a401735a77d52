"""`irready playbook`: this account's own incident playbook. `build` makes the model from
stored data only, `markdown` renders it (deterministically), `verify` compares a file's
facts sections with a fresh rendering."""
