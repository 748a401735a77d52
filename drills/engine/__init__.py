"""The drill engine: preflight (`preflight`), the forward steps and their table
(`steps`), rollback and resume (`recovery`), and the run that walks the table and
journals each step (`drill`). `drills.rotation` is the API the CLI, the scheduler and the
demo call."""
