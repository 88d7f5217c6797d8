package io.hayloft.store;

/**
 * The stores that run in this process, found by the address meta gives out for them: a primary
 * forwards records to such a secondary by a call instead of over gRPC on loopback (the
 * one-process server). The secondary takes them exactly as from its Replicate stream.
 */
@FunctionalInterface
public interface LocalPeers {
    /** The running store serving {@code address} in this process, or null when there is none. */
    StoreServer find(String address);
}
