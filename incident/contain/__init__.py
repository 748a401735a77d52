"""`irready contain`: rotate before you block, on the day itself. The plan (`plan`), the
run and its journal (`run`), what a containment reverses (`undo`)."""
