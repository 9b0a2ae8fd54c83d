"""Deployments of the cycle's flows: schedules in the county's time zone, served from one process."""
