package io.hayloft.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.hayloft.proto.v1.CreateVolumeRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The format of a volume's replica set file, {@code N.replicas} beside {@code N.dat}: the
 * {@code CreateVolumeRequest} meta sent, framed and checked. Pure encode and decode, no I/O.
 *
 * <p>Format version 1, big-endian:
 * <pre>
 * offset  size  field
 *      0     4  magic 0x484C5253 ("HLRS")
 *      4     2  format version, 1
 *      6     2  reserved, 0
 *      8     4  volume id
 *     12     4  length n of the request
 *     16     n  CreateVolumeRequest, protocol hayloft.v1: volume id, salt, replicas
 *   16+n     4  CRC32C of bytes 0 to 15+n
 * </pre>
 * The request is kept whole rather than in fields of its own so that what the primary forwards to
 * is exactly what meta said; the volume id sits in the frame too, so that a file copied under
 * another volume's name is caught.
 */
final class ReplicaSetFile {
    static final int MAGIC = 0x484C5253;
    static final int VERSION = 1;
    static final int HEADER_BYTES = 16;
    static final int CRC_BYTES = 4;
    /** Far above any replica set: a handful of store ids and addresses. */
    static final int REQUEST_BYTES_MAX = 64 << 10;
    static final int FILE_BYTES_MAX = HEADER_BYTES + REQUEST_BYTES_MAX + CRC_BYTES;

    private ReplicaSetFile() {}

    static byte[] encode(CreateVolumeRequest request) {
        byte[] body = request.toByteArray();
        if (body.length > REQUEST_BYTES_MAX) {
            throw new IllegalArgumentException("replica set of " + body.length + " bytes is over the limit of "
                    + REQUEST_BYTES_MAX);
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + body.length + CRC_BYTES);
        b.putInt(MAGIC).putShort((short) VERSION).putShort((short) 0).putInt(request.getVolumeId())
                .putInt(body.length).put(body);
        b.putInt(crc(b.array(), HEADER_BYTES + body.length));
        return b.array();
    }

    /** Decodes and checks the file of volume {@code volumeId}; throws when any field is off. */
    static CreateVolumeRequest decode(int volumeId, byte[] file) throws IOException {
        String what = "replica set file of volume " + volumeId;
        if (file.length < HEADER_BYTES + CRC_BYTES) {
            throw new IOException(what + " is " + file.length + " bytes, shorter than any");
        }
        ByteBuffer b = ByteBuffer.wrap(file);
        if (b.getInt(0) != MAGIC) {
            throw new IOException(what + " has a bad magic");
        }
        if (b.getShort(4) != VERSION || b.getShort(6) != 0) {
            throw new IOException(what + " has version " + b.getShort(4) + ", reserved " + b.getShort(6)
                    + "; this store reads version " + VERSION);
        }
        int length = b.getInt(12);
        if (length < 0 || length > REQUEST_BYTES_MAX || HEADER_BYTES + length + CRC_BYTES != file.length) {
            throw new IOException(what + " announces " + length + " bytes of request in a file of " + file.length);
        }
        if (crc(file, HEADER_BYTES + length) != b.getInt(HEADER_BYTES + length)) {
            throw new IOException(what + " fails its CRC");
        }
        CreateVolumeRequest request;
        try {
            request = CreateVolumeRequest.parseFrom(ByteBuffer.wrap(file, HEADER_BYTES, length));
        } catch (InvalidProtocolBufferException e) {
            throw new IOException(what + " holds no request: " + e.getMessage(), e);
        }
        if (b.getInt(8) != volumeId || request.getVolumeId() != volumeId) {
            throw new IOException(what + " belongs to volume " + b.getInt(8) + " (request: " + request.getVolumeId()
                    + ")");
        }
        return request;
    }

    private static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
