// Module cache (see docs/cache.md).
