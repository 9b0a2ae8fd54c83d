"""Prefect tasks: thin, one side effect each. Their bodies are plain functions (`.fn`) that the
tests call without Prefect."""
