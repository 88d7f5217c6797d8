package io.hayloft.store;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ReplicateRequest;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * How a secondary takes one record from its primary, whichever way it came (a Replicate stream, or
 * a call in the process): the checks before it is taken, with its bytes reserved, then its CRC32C,
 * its turn in sequence order and its fsync.
 */
final class ReplicaRecords {
    private final VolumeSet volumes;
    private final Replication replication;
    private final BytesInFlight bytesInFlight;

    ReplicaRecords(VolumeSet volumes, Replication replication, BytesInFlight bytesInFlight) {
        this.volumes = volumes;
        this.replication = replication;
        this.bytesInFlight = bytesInFlight;
    }

    /** The checks before a record is taken; on success its bytes are reserved until {@link #apply} ends. */
    Volume admit(ReplicateRequest record) throws VolumeException {
        int size = record.getData().size();
        if (record.getSequence() <= 0) {
            throw new IllegalArgumentException("a replicated record needs a sequence");
        }
        if (size > StoreService.PIECE_BYTES) {
            throw new IllegalArgumentException("a replicated record carries at most " + StoreService.PIECE_BYTES
                    + " bytes, got " + size);
        }
        if (record.getTombstone() && size > 0) {
            throw new IllegalArgumentException("a tombstone carries no data");
        }
        Volume volume = volumes.get(record.getFid().getVolumeId());
        if (size > volume.config().needleSizeBytesMax()) {
            throw new VolumeException(VolumeErrorCode.NEEDLE_TOO_LARGE, "needle of " + size
                    + " bytes is over the limit of " + volume.config().needleSizeBytesMax());
        }
        bytesInFlight.reserve(size);
        return volume;
    }

    /** Releases an admitted record's bytes when it is not applied after all. */
    void abandon(ReplicateRequest record) {
        bytesInFlight.release(record.getData().size());
    }

    /** Applies an admitted record once its turn comes, and returns when it is durable; releases its bytes. */
    void apply(Volume volume, ReplicateRequest record) throws VolumeException, InterruptedException {
        ByteString data = record.getData();
        try {
            if (!crcMatches(record)) {
                throw crcMismatch(record);
            }
            replication.applyFromPrimary(volume, needle(record), record.getPrimaryStoreId());
        } finally {
            bytesInFlight.release(data.size());
        }
    }

    /** Whether an admitted record's data matches its CRC32C. */
    static boolean crcMatches(ReplicateRequest record) {
        CRC32C crc = new CRC32C();
        crc.update(record.getData().asReadOnlyByteBuffer());
        return (int) crc.getValue() == record.getCrc32C();
    }

    private static StatusRuntimeException crcMismatch(ReplicateRequest record) {
        return WireErrors.toStatus(ErrorCode.BAD_REQUEST, "record " + record.getSequence()
                + " does not match its CRC32C");
    }

    /**
     * Applies admitted records of consecutive sequences from one primary together, once the
     * first one's turn comes ({@link ReplicaOrder#applyAll}); their CRC32C must have been found
     * to match ({@link #crcMatches}) and each must be {@link Volume#appendsInGroup small}.
     * Returns when each is durable or failed: one outcome per record, null when it is durable,
     * else the status its answer carries. Releases their bytes.
     */
    List<StatusRuntimeException> applyTogether(Volume volume, List<ReplicateRequest> records) {
        List<StatusRuntimeException> outcomes = new ArrayList<>(records.size());
        try {
            List<ReplicatedNeedle> needles = new ArrayList<>(records.size());
            for (ReplicateRequest record : records) {
                needles.add(needle(record));
            }
            for (VolumeException e : replication.applyAllFromPrimary(volume, needles,
                    records.get(0).getPrimaryStoreId())) {
                outcomes.add(e == null ? null : NeedleWrites.toStatus(e));
            }
        } catch (VolumeException | InterruptedException | RuntimeException e) {
            StatusRuntimeException status = NeedleWrites.toStatus(e);
            outcomes.clear();
            for (int i = 0; i < records.size(); i++) {
                outcomes.add(status);
            }
        } finally {
            for (ReplicateRequest record : records) {
                bytesInFlight.release(record.getData().size());
            }
        }
        return outcomes;
    }

    private static ReplicatedNeedle needle(ReplicateRequest record) {
        Fid fid = record.getFid();
        return new ReplicatedNeedle(fid.getNeedleId(), fid.getCookie(), record.getTombstone(), record.getSequence(),
                record.getData().asReadOnlyByteBuffer());
    }
}
