"""Short leases in Redis: "this is being done" marks that expire on their own.

A lease that its holder never ends (it was killed) frees itself after its time, so a crash
costs at most one lease of delay and never a lock held forever.
"""

from __future__ import annotations

import uuid

import redis
from redis.commands.core import Script

from services.storage import _keys as keys
from services.storage._codec import storage_errors

# Delete the lease only if it is still ours: after it expired someone else may hold it.
_END_OWN_LEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Extend the lease only if it is still ours.
_RENEW_OWN_LEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class LeaseMixin:
    """Store's leases (nam:lease:<name>)."""

    client: redis.Redis
    _end_own_lease: Script
    _renew_own_lease: Script

    def _init_leases(self) -> None:
        self._end_own_lease = self.client.register_script(_END_OWN_LEASE_LUA)
        self._renew_own_lease = self.client.register_script(_RENEW_OWN_LEASE_LUA)

    @storage_errors("taking a lease")
    def take_lease(self, name: str, ttl_seconds: float) -> str | None:
        """A token if nobody held the lease; None if someone does."""
        token = uuid.uuid4().hex
        taken = self.client.set(keys.lease(name), token, nx=True, px=int(ttl_seconds * 1000))
        return token if taken else None

    @storage_errors("ending a lease")
    def end_lease(self, name: str, token: str | None = None) -> None:
        """End the lease; with `token`, only if it is still the one that token took."""
        if token is None:
            self.client.delete(keys.lease(name))
        else:
            self._end_own_lease(keys=[keys.lease(name)], args=[token])

    @storage_errors("renewing a lease")
    def renew_lease(self, name: str, token: str, ttl_seconds: float) -> bool:
        """Give our lease `ttl_seconds` more from now; False if it is no longer ours."""
        ms = int(ttl_seconds * 1000)
        return bool(self._renew_own_lease(keys=[keys.lease(name)], args=[token, ms]))
