package io.hayloft.store;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.ReplicateRequest;
import io.hayloft.proto.v1.ReplicateResponse;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A secondary's end of one Replicate stream from a primary: checks each record, applies it in
 * sequence order, and answers it with its sequence or an {@link Error}.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>gRPC delivers the records one at a time. Each is checked there (sequence, sizes, volume)
 *       and its bytes reserved in {@link BytesInFlight}, then handed to the {@link
 *       ReplicaApplier}, which checks its CRC32C and applies it in sequence order, with the
 *       records of its volume that came with it, while the stream goes on receiving. A record
 *       refused for load is answered UNAVAILABLE at once.
 *   <li>Answers come from those threads, so they are sent under a lock. The bytes of a record are
 *       released before its answer is sent.
 *   <li>When the primary ends the stream, the records still being applied are answered, then the
 *       stream is completed; when the primary cancels it, they finish unanswered. When this store
 *       stops ({@link #end}), the stream ends at once with UNAVAILABLE: the primary fails every
 *       record it has pending here, as it would for a secondary that went away.
 * </ul>
 */
final class ReplicaStreamReceiver implements StreamObserver<ReplicateRequest> {
    private final ReplicaRecords records;
    private final ReplicaApplier applier;
    private final StreamObserver<ReplicateResponse> out;
    private final Consumer<ReplicaStreamReceiver> onEnded;
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Under sendLock: records handed to their thread and not answered yet. */
    private int applying;
    /** Under sendLock. */
    private boolean primaryDone;
    /** Under sendLock: nothing more is sent once the stream ended. */
    private boolean ended;

    ReplicaStreamReceiver(ReplicaRecords records, ReplicaApplier applier, StreamObserver<ReplicateResponse> out,
            Consumer<ReplicaStreamReceiver> onEnded) {
        this.records = records;
        this.applier = applier;
        this.out = out;
        this.onEnded = onEnded;
    }

    @Override
    public void onNext(ReplicateRequest record) {
        Volume volume;
        try {
            volume = records.admit(record);
        } catch (VolumeException | RuntimeException e) {
            answer(record.getId(), error(NeedleWrites.toStatus(e)), false);
            return;
        }
        sendLock.lock();
        try {
            applying++;
        } finally {
            sendLock.unlock();
        }
        applier.submit(volume, record, (r, error) -> answer(r.getId(),
                error == null ? ReplicateResponse.newBuilder().setSequence(r.getSequence()) : error(error), true));
    }

    private static ReplicateResponse.Builder error(StatusRuntimeException status) {
        Error error = WireErrors.fromThrowable(status).orElseThrow();
        return ReplicateResponse.newBuilder().setError(error);
    }

    /** Sends an answer, unless the stream ended; the last answer after the primary's end completes it. */
    private void answer(long id, ReplicateResponse.Builder answer, boolean wasApplying) {
        boolean complete = false;
        sendLock.lock();
        try {
            if (wasApplying) {
                applying--;
            }
            if (ended) {
                return;
            }
            out.onNext(answer.setId(id).build());
            if (primaryDone && applying == 0) {
                ended = true;
                complete = true;
                out.onCompleted();
            }
        } catch (RuntimeException e) {
            // The call was cancelled under us: the primary fails what it has pending.
            ended = true;
            complete = true;
        } finally {
            sendLock.unlock();
        }
        if (complete) {
            onEnded.accept(this);
        }
    }

    @Override
    public void onError(Throwable t) {
        sendLock.lock();
        try {
            ended = true;
        } finally {
            sendLock.unlock();
        }
        onEnded.accept(this);
    }

    @Override
    public void onCompleted() {
        boolean complete = false;
        sendLock.lock();
        try {
            primaryDone = true;
            if (!ended && applying == 0) {
                ended = true;
                complete = true;
                out.onCompleted();
            }
        } finally {
            sendLock.unlock();
        }
        if (complete) {
            onEnded.accept(this);
        }
    }

    /** Ends the stream at once with UNAVAILABLE: the store is stopping. */
    void end(String why) {
        sendLock.lock();
        try {
            if (ended) {
                return;
            }
            ended = true;
            out.onError(WireErrors.toStatus(ErrorCode.UNAVAILABLE, why));
        } catch (RuntimeException e) {
            // Already cancelled.
        } finally {
            sendLock.unlock();
        }
        onEnded.accept(this);
    }
}
