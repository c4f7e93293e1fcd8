//! Admin API client: typed calls, complete snapshot reads, safe retries and rate limiting.
