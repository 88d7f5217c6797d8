package io.hayloft.client;

import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.WriteHeader;

/**
 * Stores that run in the caller's own process, called without the network: the one-process
 * server's gateway reads its stores' needles and writes to their primaries directly, as HDFS
 * short-circuit reads do, instead of through gRPC on loopback; it deletes through them too.
 */
public interface LocalStores {
    /**
     * The needle's bytes, checked against their CRC32C, from the store serving {@code address} in
     * this process; null when no store here serves that address, and the read goes over the
     * network as usual.
     *
     * @throws HayloftException with the store's error code when it cannot return the needle (none
     *     such, deleted, another cookie, damaged), as the same read over the network would
     */
    byte[] read(String address, Fid fid);

    /**
     * Writes a needle of at most 1 MiB through the store serving {@code address} in this process,
     * as {@code WriteSmallNeedle} does (it answers once every replica has it durable); false when
     * no store here serves that address, and the write goes over the network as usual.
     *
     * @throws HayloftException with the store's error code when the write fails
     */
    boolean write(String address, WriteHeader header, byte[] data);

    /**
     * As {@link #write}, but returns as soon as the primary has the needle durable, with what
     * waits for its other replicas; null when no store here serves that address. The caller
     * awaits the result exactly once, and leaves {@code data} unchanged until then.
     *
     * @throws HayloftException with the store's error code when the primary's own write fails
     */
    default ReplicaWait writeOnPrimary(String address, WriteHeader header, byte[] data) {
        return write(address, header, data) ? ReplicaWait.NONE : null;
    }

    /**
     * Deletes a needle through the store serving {@code address} in this process, its primary,
     * as {@code DeleteNeedle} does (it answers once every replica has the tombstone durable);
     * false when no store here serves that address, and the delete goes over the network.
     *
     * @throws HayloftException with the store's error code when the delete fails
     */
    boolean delete(String address, Fid fid);

    /**
     * The name of the in-process gRPC server of the node serving {@code address} in this process
     * (a meta peer), which calls to that address then go through; null when none does.
     */
    default String inProcessName(String address) {
        return null;
    }
}
