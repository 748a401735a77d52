"""The rotation drill: "rotate before you block", timed, journaled, reversible."""
