"""The built-in readiness checks, one module per area. A check is a pure function of
Facts and Config, decorated with `@check`; this package never imports boto3.
`auditor.registry.discover()` finds every check defined here."""
