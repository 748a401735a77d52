"""`python -m auditor` runs the same command line as the `irready` script."""

from auditor.cli import main

main()
