"""Running several Nudge processes on one database: the shared rate limits (Redis), the leader
lease for jobs that run once per cluster, and the identity of a worker."""
