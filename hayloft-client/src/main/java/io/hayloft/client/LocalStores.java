package io.hayloft.client;

import io.hayloft.proto.v1.Fid;

/**
 * Stores that run in the caller's own process, read without the network: the one-process
 * server's gateway reads its stores' needles directly, as HDFS short-circuit reads do, instead of
 * through gRPC on loopback.
 */
@FunctionalInterface
public interface LocalNeedles {
    /**
     * The needle's bytes, checked against their CRC32C, from the store serving {@code address} in
     * this process; null when no store here serves that address, and the read goes over the
     * network as usual.
     *
     * @throws HayloftException with the store's error code when it cannot return the needle (none
     *     such, deleted, another cookie, damaged), as the same read over the network would
     */
    byte[] read(String address, Fid fid);
}
