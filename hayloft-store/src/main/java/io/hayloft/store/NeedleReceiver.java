package io.hayloft.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeException;
import java.util.function.BiConsumer;

/**
 * One WriteNeedle call: gathers the needle's pieces into one buffer of its announced length,
 * then hands it to {@link NeedleWrites}, which checks its CRC32C and writes it as the primary
 * (sequence 0) or applies it as a replica (a sequence given by the primary).
 *
 * <p>gRPC calls these methods one at a time on its transport threads, which must not block: the
 * header's checks and the copying of pieces happen there, and the blocking write (the append, and
 * on a primary the forward) runs on a virtual thread of its own. The buffer counts against
 * {@link BytesInFlight} from the header until the answer, forwarding included.
 */
final class NeedleReceiver implements StreamObserver<WriteNeedleRequest> {
    private final NeedleWrites writes;
    private final BiConsumer<StreamObserver<?>, Runnable> offload;
    private final StreamObserver<WriteNeedleResponse> out;

    private WriteHeader header;
    private Volume volume;
    private byte[] data;
    private int received;
    private boolean failed;
    /** Set when the write went to its own thread, which then owns the buffer and its release. */
    private boolean handedOff;
    private long reserved;

    NeedleReceiver(NeedleWrites writes, BiConsumer<StreamObserver<?>, Runnable> offload,
            StreamObserver<WriteNeedleResponse> out) {
        this.writes = writes;
        this.offload = offload;
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
        } catch (VolumeException | RuntimeException e) {
            fail(NeedleWrites.toStatus(e));
        }
    }

    private void start(WriteNeedleRequest request) throws VolumeException {
        if (!request.hasHeader()) {
            throw new IllegalArgumentException("the first message of a write must be its header");
        }
        header = request.getHeader();
        volume = writes.admit(header);
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
        // The client went away. A write already handed off runs to its end and releases its bytes.
        failed = true;
        if (!handedOff) {
            release();
        }
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
        handedOff = true;
        offload.accept(out, this::write);
    }

    /** The blocking part, on a thread of its own: the append, and the forward on a primary. */
    private void write() {
        try {
            long sequence = writes.write(volume, header, UnsafeByteOperations.unsafeWrap(data));
            release();
            out.onNext(WriteNeedleResponse.newBuilder().setSequence(sequence).build());
            out.onCompleted();
        } catch (VolumeException | InterruptedException | RuntimeException e) {
            fail(NeedleWrites.toStatus(e));
        }
    }

    private void release() {
        writes.release(reserved);
        reserved = 0;
        data = null;
    }

    private void fail(StatusRuntimeException status) {
        failed = true;
        release();
        out.onError(status);
    }
}
