package io.hayloft.store;

import org.slf4j.LoggerFactory;

/**
 * Told by a primary when a secondary failed a forwarded write or delete, after the primary made
 * its own replica read-only. Meta should hear of it, so that the volume is no longer assigned.
 *
 * <p>Called on the failed write's thread before the client is answered, so it should not block
 * for long; it may be called more than once for a volume (several writes in flight can fail
 * together), so what it does should be idempotent.
 */
@FunctionalInterface
public interface ReplicaFailureListener {
    /** @param reason which replicas failed and how, for people */
    void onReplicaFailed(int volumeId, String reason);

    /** The listener that only logs, for a store that reports to no one. */
    static ReplicaFailureListener logging() {
        return (volumeId, reason) -> LoggerFactory.getLogger(ReplicaFailureListener.class)
                .error("volume {} is read-only because a replica failed a write: {}", volumeId, reason);
    }
}
