package io.hayloft.store;

import com.google.protobuf.ByteString;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.RecordCheck;
import io.hayloft.volume.RecordSummary;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import java.util.zip.CRC32C;

/** A volume record on the wire ({@code CatchUp}, {@code ReadRecord}), with its CRC32C checked on arrival. */
final class CatchUpRecords {
    private CatchUpRecords() {}

    static CatchUpRecord toWire(ReplicatedNeedle r) {
        CRC32C crc = new CRC32C();
        crc.update(r.data().duplicate());
        return CatchUpRecord.newBuilder().setNeedleId(r.needleId()).setCookie(r.cookie()).setTombstone(r.tombstone())
                .setSequence(r.sequence()).setData(ByteString.copyFrom(r.data().duplicate()))
                .setCrc32C((int) crc.getValue()).build();
    }

    /** The record, or CORRUPT when its data does not match its CRC32C (damaged on the way from {@code from}). */
    static ReplicatedNeedle fromWire(CatchUpRecord r, int volumeId, String from) throws VolumeException {
        CRC32C crc = new CRC32C();
        crc.update(r.getData().asReadOnlyByteBuffer());
        if ((int) crc.getValue() != r.getCrc32C()) {
            throw new VolumeException(VolumeErrorCode.CORRUPT, "record " + r.getSequence() + " of volume " + volumeId
                    + " arrived damaged from store " + from);
        }
        return new ReplicatedNeedle(r.getNeedleId(), r.getCookie(), r.getTombstone(), r.getSequence(),
                r.getData().asReadOnlyByteBuffer());
    }

    static RecordCheck check(RecordSummary r) {
        return RecordCheck.newBuilder().setNeedleId(r.needleId()).setCookie(r.cookie()).setTombstone(r.tombstone())
                .setDataLength(r.dataLength()).setDataCrc32C(r.dataCrc()).build();
    }

    /** The record a check describes, at {@code sequence}. */
    static RecordSummary summary(RecordCheck c, long sequence) {
        return new RecordSummary(c.getNeedleId(), c.getCookie(), c.getTombstone(), c.getDataLength(),
                c.getDataCrc32C(), sequence);
    }
}
