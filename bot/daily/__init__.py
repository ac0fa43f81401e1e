"""Daily quote posts: schedules, exactly-once claims, no-repeat cycles and the scheduler loop."""
