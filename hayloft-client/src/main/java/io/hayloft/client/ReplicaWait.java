package io.hayloft.client;

/**
 * What is left of a needle write once its primary has the needle durable: the answers of the
 * volume's other replicas, which the primary sent the record to before its own fsync.
 */
@FunctionalInterface
public interface ReplicaWait {
    /** Nothing left: every replica answered already. */
    ReplicaWait NONE = () -> { };

    /**
     * Returns once every other replica has the needle durable.
     *
     * @throws HayloftException with the store's error code (REPLICA_FAILED) when one did not take
     *     it; the primary keeps its copy, and its volume is read-only until repair gives it back
     *     its replicas
     */
    void await();
}
