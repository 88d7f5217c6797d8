package io.hayloft.store;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * One WriteNeedle call: gathers the needle's pieces into one buffer of its announced length,
 * checks it against the client's CRC32C, then writes it as the primary (sequence 0) or applies it
 * as a replica (a sequence given by the primary).
 *
 * <p>gRPC calls these methods one at a time, on the server's virtual threads, so the blocking
 * append and forward hold no platform thread. The buffer counts against {@link BytesInFlight}
 * from the header until the answer, forwarding included.
 */
final class NeedleReceiver implements StreamObserver<WriteNeedleRequest> {
    private final VolumeSet volumes;
    private final Replication replication;
    private final BytesInFlight bytesInFlight;
    private final StreamObserver<WriteNeedleResponse> out;

    private WriteHeader header;
    private Volume volume;
    private byte[] data;
    private int received;
    private boolean failed;
    private long reserved;

    NeedleReceiver(VolumeSet volumes, Replication replication, BytesInFlight bytesInFlight,
            StreamObserver<WriteNeedleResponse> out) {
        this.volumes = volumes;
        this.replication = replication;
        this.bytesInFlight = bytesInFlight;
        this.out = out;
    }

    @Override
    public void onNext(WriteNeedleRequest request) {
        if (failed) {
            return;
        }
        try {
            if (header == null) {
                start(request);
            } else {
                take(request);
            }
        } catch (VolumeException e) {
            fail(StoreErrors.toStatus(e));
        } catch (StatusRuntimeException e) {
            fail(e);
        } catch (RuntimeException e) {
            fail(WireErrors.toStatus(ErrorCode.BAD_REQUEST, e.getMessage()));
        }
    }

    private void start(WriteNeedleRequest request) throws VolumeException {
        if (!request.hasHeader()) {
            throw new IllegalArgumentException("the first message of a write must be its header");
        }
        header = request.getHeader();
        volume = volumes.get(header.getFid().getVolumeId());
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
        reserved = header.getLength();
        data = new byte[(int) header.getLength()];
    }

    private void take(WriteNeedleRequest request) {
        if (!request.hasData()) {
            throw new IllegalArgumentException("only data may follow a write's header");
        }
        ByteString piece = request.getData();
        if (piece.size() > data.length - received) {
            throw new IllegalArgumentException("more data than the " + data.length + " bytes announced");
        }
        piece.copyTo(data, received);
        received += piece.size();
    }

    @Override
    public void onError(Throwable t) {
        failed = true;
        release();
    }

    @Override
    public void onCompleted() {
        if (failed) {
            return;
        }
        if (header == null || received != data.length) {
            fail(WireErrors.toStatus(ErrorCode.BAD_REQUEST, "write ended after " + received + " of "
                    + (data == null ? 0 : data.length) + " bytes"));
            return;
        }
        CRC32C crc = new CRC32C();
        crc.update(data);
        if ((int) crc.getValue() != header.getCrc32C()) {
            fail(WireErrors.toStatus(ErrorCode.BAD_REQUEST, "data does not match its CRC32C"));
            return;
        }
        try {
            long sequence = header.getSequence();
            if (sequence == 0) {
                sequence = replication.writeAsPrimary(volume, header, data);
            } else {
                Fid fid = header.getFid();
                replication.applyFromPrimary(volume, new ReplicatedNeedle(fid.getNeedleId(), fid.getCookie(), false,
                        sequence, ByteBuffer.wrap(data)));
            }
            release();
            out.onNext(WriteNeedleResponse.newBuilder().setSequence(sequence).build());
            out.onCompleted();
        } catch (VolumeException e) {
            fail(StoreErrors.toStatus(e));
        } catch (StatusRuntimeException e) {
            fail(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(WireErrors.toStatus(ErrorCode.UNAVAILABLE, "the store is stopping"));
        }
    }

    private void release() {
        bytesInFlight.release(reserved);
        reserved = 0;
        data = null;
    }

    private void fail(RuntimeException status) {
        failed = true;
        release();
        out.onError(status);
    }
}
