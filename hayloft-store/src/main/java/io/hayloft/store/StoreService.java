package io.hayloft.store;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CatchUpRequest;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.CreateVolumeResponse;
import io.hayloft.proto.v1.DeleteNeedleRequest;
import io.hayloft.proto.v1.DeleteNeedleResponse;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ReadHeader;
import io.hayloft.proto.v1.ReadNeedleRequest;
import io.hayloft.proto.v1.ReadNeedleResponse;
import io.hayloft.proto.v1.SetVolumeReadOnlyRequest;
import io.hayloft.proto.v1.SetVolumeReadOnlyResponse;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import io.hayloft.volume.NeedleStream;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * The Store gRPC service over one data directory: needle writes, reads, deletes, catch-up and
 * volume management on this node.
 *
 * <p>Implementation notes. A needle arriving in pieces is gathered in one buffer of its announced
 * length (at most the volume's needle size limit), checked against the client's CRC32C, then
 * appended; the bytes being gathered over all calls are bounded, and a write past the bound is
 * refused at its header. Reads stream from the volume in pieces of at most
 * 1 MiB, each already checked. Forwarding to secondaries is the primary's job and is not done
 * here yet: a write with a sequence number is a replica write.
 */
public final class StoreService extends StoreGrpc.StoreImplBase {
    static final int PIECE_BYTES = 1 << 20;
    private static final long CATCH_UP_BATCH_BYTES = 8 << 20;

    /** Default bound on the bytes of needles being received at once, over all calls. */
    public static final long BYTES_IN_FLIGHT_MAX_DEFAULT = 256L << 20;

    private final VolumeSet volumes;
    private final long bytesInFlightMax;
    private final AtomicLong bytesInFlight = new AtomicLong();

    /**
     * @param bytesInFlightMax bound on the bytes of needles being received at once; a write that
     *     would pass it is refused with UNAVAILABLE, to be retried
     */
    public StoreService(VolumeSet volumes, long bytesInFlightMax) {
        if (bytesInFlightMax < 1) {
            throw new IllegalArgumentException("bytesInFlightMax must be positive");
        }
        this.volumes = volumes;
        this.bytesInFlightMax = bytesInFlightMax;
    }

    @Override
    public StreamObserver<WriteNeedleRequest> writeNeedle(StreamObserver<WriteNeedleResponse> out) {
        return new StreamObserver<>() {
            private WriteHeader header;
            private Volume volume;
            private byte[] data;
            private int received;
            private boolean failed;
            private long reserved;

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
                } catch (io.grpc.StatusRuntimeException e) {
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
                long max = volume.config().needleSizeBytesMax();
                if (header.getLength() > max) {
                    throw new VolumeException(io.hayloft.volume.VolumeErrorCode.NEEDLE_TOO_LARGE,
                            "needle of " + header.getLength() + " bytes is over the limit of " + max);
                }
                reserve(header.getLength());
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

            private void reserve(long bytes) {
                if (bytesInFlight.addAndGet(bytes) > bytesInFlightMax && bytes > 0) {
                    bytesInFlight.addAndGet(-bytes);
                    throw WireErrors.toStatus(ErrorCode.UNAVAILABLE, "the store is receiving "
                            + bytesInFlightMax + " bytes of writes already; retry");
                }
                reserved = bytes;
            }

            private void release() {
                bytesInFlight.addAndGet(-reserved);
                reserved = 0;
                data = null;
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
                Fid fid = header.getFid();
                try {
                    long sequence;
                    if (header.getSequence() == 0) {
                        sequence = volume.append(fid.getNeedleId(), fid.getCookie(), data);
                    } else {
                        volume.applyReplicated(new ReplicatedNeedle(fid.getNeedleId(), fid.getCookie(), false,
                                header.getSequence(), ByteBuffer.wrap(data)));
                        sequence = header.getSequence();
                    }
                    release();
                    out.onNext(WriteNeedleResponse.newBuilder().setSequence(sequence).build());
                    out.onCompleted();
                } catch (VolumeException e) {
                    fail(StoreErrors.toStatus(e));
                }
            }

            private void fail(RuntimeException status) {
                failed = true;
                release();
                out.onError(status);
            }
        };
    }

    @Override
    public void readNeedle(ReadNeedleRequest request, StreamObserver<ReadNeedleResponse> out) {
        Fid fid = request.getFid();
        try (NeedleStream in = volumes.get(fid.getVolumeId()).openStream(fid.getNeedleId(), fid.getCookie())) {
            out.onNext(ReadNeedleResponse.newBuilder()
                    .setHeader(ReadHeader.newBuilder().setLength(in.length()).setCrc32C(in.crc32c())).build());
            byte[] piece = new byte[Math.min(PIECE_BYTES, Math.max(1, in.length()))];
            int n;
            while ((n = in.readNBytes(piece, 0, piece.length)) > 0) {
                out.onNext(ReadNeedleResponse.newBuilder().setData(ByteString.copyFrom(piece, 0, n)).build());
            }
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        } catch (IOException e) {
            out.onError(WireErrors.toStatus(ErrorCode.IO_ERROR, e.getMessage()));
        }
    }

    @Override
    public void deleteNeedle(DeleteNeedleRequest request, StreamObserver<DeleteNeedleResponse> out) {
        Fid fid = request.getFid();
        try {
            Volume volume = volumes.get(fid.getVolumeId());
            long sequence;
            if (request.getSequence() == 0) {
                sequence = volume.delete(fid.getNeedleId(), fid.getCookie());
            } else {
                volume.applyReplicated(new ReplicatedNeedle(fid.getNeedleId(), fid.getCookie(), true,
                        request.getSequence(), ByteBuffer.allocate(0)));
                sequence = request.getSequence();
            }
            out.onNext(DeleteNeedleResponse.newBuilder().setSequence(sequence).build());
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        }
    }

    @Override
    public void catchUp(CatchUpRequest request, StreamObserver<CatchUpRecord> out) {
        try {
            Volume volume = volumes.get(request.getVolumeId());
            long after = request.getAfterSequence();
            while (true) {
                List<ReplicatedNeedle> batch = volume.recordsAfter(after, CATCH_UP_BATCH_BYTES);
                if (batch.isEmpty()) {
                    break;
                }
                for (ReplicatedNeedle r : batch) {
                    CRC32C crc = new CRC32C();
                    crc.update(r.data().duplicate());
                    out.onNext(CatchUpRecord.newBuilder().setNeedleId(r.needleId()).setCookie(r.cookie())
                            .setTombstone(r.tombstone()).setSequence(r.sequence())
                            .setData(ByteString.copyFrom(r.data().duplicate())).setCrc32C((int) crc.getValue())
                            .build());
                    after = r.sequence();
                }
            }
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        }
    }

    @Override
    public void createVolume(CreateVolumeRequest request, StreamObserver<CreateVolumeResponse> out) {
        try {
            volumes.create(request.getVolumeId(), request.getSalt());
            out.onNext(CreateVolumeResponse.getDefaultInstance());
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        } catch (IllegalArgumentException e) {
            out.onError(WireErrors.toStatus(ErrorCode.BAD_REQUEST, e.getMessage()));
        }
    }

    @Override
    public void setVolumeReadOnly(SetVolumeReadOnlyRequest request, StreamObserver<SetVolumeReadOnlyResponse> out) {
        try {
            Volume volume = volumes.get(request.getVolumeId());
            if (request.getReadOnly()) {
                volume.seal();
            } else {
                volume.unseal();
            }
            out.onNext(SetVolumeReadOnlyResponse.getDefaultInstance());
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        }
    }
}
