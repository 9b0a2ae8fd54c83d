"""The yearly cycle as Prefect flows: wiring only; the work is in tasks/."""
