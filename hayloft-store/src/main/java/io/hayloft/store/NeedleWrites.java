package io.hayloft.store;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.util.zip.CRC32C;

/**
 * The checks and the write that every needle write goes through, whether its data came in
 * pieces (WriteNeedle) or in one message (WriteSmallNeedle): at the header, the volume, the
 * primary check for a client's write and the size limit, and room in the bytes in flight; with
 * the data, its CRC32C, then the write as primary (sequence 0) or the apply as a replica.
 */
final class NeedleWrites {
    private final VolumeSet volumes;
    private final Replication replication;
    private final BytesInFlight bytesInFlight;

    NeedleWrites(VolumeSet volumes, Replication replication, BytesInFlight bytesInFlight) {
        this.volumes = volumes;
        this.replication = replication;
        this.bytesInFlight = bytesInFlight;
    }

    /**
     * Admits a write at its header, before any data is taken, and reserves its announced length
     * in the bytes in flight; the caller {@link #release}s that once the write is answered.
     *
     * @throws StatusRuntimeException NOT_PRIMARY, or UNAVAILABLE when the store is receiving too much
     */
    Volume admit(WriteHeader header) throws VolumeException {
        Volume volume = volumes.get(header.getFid().getVolumeId());
        if (header.getSequence() == 0) {
            // Before any byte is received: the client should go to the primary.
            replication.checkPrimary(volume.id());
        }
        long max = volume.config().needleSizeBytesMax();
        if (header.getLength() > max) {
            throw new VolumeException(VolumeErrorCode.NEEDLE_TOO_LARGE,
                    "needle of " + header.getLength() + " bytes is over the limit of " + max);
        }
        bytesInFlight.reserve(header.getLength());
        return volume;
    }

    void release(long bytes) {
        bytesInFlight.release(bytes);
    }

    /**
     * Checks the whole data against the header's CRC32C and writes it: as the primary, appended
     * and forwarded, or as a replica, in sequence order. Returns the record's sequence once every
     * replica that had to take it made it durable. The data must stay unchanged until then.
     */
    long write(Volume volume, WriteHeader header, ByteString data) throws VolumeException, InterruptedException {
        check(header, data);
        long sequence = header.getSequence();
        if (sequence == 0) {
            return replication.writeAsPrimary(volume, header, data);
        }
        Fid fid = header.getFid();
        replication.applyFromPrimary(volume, new ReplicatedNeedle(fid.getNeedleId(), fid.getCookie(), false,
                sequence, data.asReadOnlyByteBuffer()), header.getPrimaryStoreId());
        return sequence;
    }

    /**
     * A client's write (sequence 0) on this primary, checked as {@link #write} does; returns once
     * this replica has it durable, and its {@link Replication.PrimaryWrite#finish} waits for the
     * secondaries. The data must stay unchanged until then.
     */
    Replication.PrimaryWrite startAsPrimary(Volume volume, WriteHeader header, ByteString data)
            throws VolumeException, InterruptedException {
        if (header.getSequence() != 0) {
            throw new IllegalArgumentException("a client's write has no sequence; got " + header.getSequence());
        }
        check(header, data);
        return replication.startAsPrimary(volume, header, data);
    }

    private static void check(WriteHeader header, ByteString data) {
        if (data.size() != header.getLength()) {
            throw WireErrors.toStatus(ErrorCode.BAD_REQUEST, "write ended after " + data.size() + " of "
                    + header.getLength() + " bytes");
        }
        CRC32C crc = new CRC32C();
        crc.update(data.asReadOnlyByteBuffer());
        if ((int) crc.getValue() != header.getCrc32C()) {
            throw WireErrors.toStatus(ErrorCode.BAD_REQUEST, "data does not match its CRC32C");
        }
    }

    /** The wire error of a failed write, for its call's {@code onError}. */
    static StatusRuntimeException toStatus(Exception e) {
        return switch (e) {
            case VolumeException v -> StoreErrors.toStatus(v);
            case StatusRuntimeException s -> s;
            case InterruptedException i -> {
                Thread.currentThread().interrupt();
                yield WireErrors.toStatus(ErrorCode.UNAVAILABLE, "the store is stopping");
            }
            case IllegalArgumentException a -> WireErrors.toStatus(ErrorCode.BAD_REQUEST, a.getMessage());
            default -> WireErrors.toStatus(ErrorCode.INTERNAL, String.valueOf(e));
        };
    }
}
