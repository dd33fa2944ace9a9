// Blueprint.Cache: the client side of the distributed cache (see docs/cache.md).
