package io.hayloft.store;

import io.grpc.ConnectivityState;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.ReplicateRequest;
import io.hayloft.proto.v1.ReplicateResponse;
import io.hayloft.proto.v1.StoreGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A primary's Replicate stream to one secondary, opened on first use and shared by every volume
 * and every writer: records go out one at a time, and each answer completes the future of the
 * record with its id.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>Sends hold a lock: a gRPC {@link StreamObserver} is not thread-safe. A send does not
 *       block (gRPC queues the message), and what is queued is bounded by the writes being
 *       received, which hold their bytes in flight until they are answered.
 *   <li>Each opening of the stream is a {@link Call} with its own pending records. When the
 *       stream fails or the secondary ends it, the call is broken for good: every record pending
 *       on it fails, and the next send opens a new call. The broken flag is set under the send
 *       lock, so no record joins a call after its pending records were failed.
 *   <li>The stream has no deadline; each sender waits for its own record with the forward
 *       deadline, then gives up on it ({@link CompletableFuture#completeExceptionally}), which
 *       drops the record from the pending ones. A late answer finds nothing and is ignored.
 *   <li>A stream is opened once its channel has connected, or after a bounded wait
 *       ({@link #awaitConnection}), so that a secondary that restarted is not failed for the
 *       moment its connection takes to come back.
 *   <li>A secondary whose store does not know Replicate (UNIMPLEMENTED, an older release) is
 *       marked so for a while, and records go to it by the older calls meanwhile.
 * </ul>
 */
final class ReplicaStream {
    /** How long a secondary that did not know Replicate is sent records by the older calls. */
    private static final long OLDER_CALLS_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final String address;
    private final PeerChannels peers;
    private final long connectWaitNanos;
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Written under sendLock. */
    private volatile Call current;
    private long nextId = 1;
    private volatile long olderCallsUntilNanos;
    private volatile boolean olderCalls;

    /**
     * @param connectWaitMs how long a stream that is being opened waits for its channel to connect
     */
    ReplicaStream(String address, PeerChannels peers, long connectWaitMs) {
        this.address = address;
        this.peers = peers;
        this.connectWaitNanos = TimeUnit.MILLISECONDS.toNanos(connectWaitMs);
    }

    /** False while the secondary is known not to serve Replicate. */
    boolean usable() {
        if (olderCalls && System.nanoTime() - olderCallsUntilNanos > 0) {
            olderCalls = false;
        }
        return !olderCalls;
    }

    /**
     * Sends one record (its id is set here); the future holds the sequence the secondary
     * answered, or fails with the secondary's error or the stream's.
     */
    CompletableFuture<Long> send(ReplicateRequest.Builder record) {
        CompletableFuture<Long> answer = new CompletableFuture<>();
        try {
            Call open = current;
            if (open == null || open.broken) {
                // Outside the lock: the transport threads that deliver answers take it too.
                awaitConnection(peers.get(address));
            }
            sendLock.lock();
            try {
                Call call = current;
                if (call == null || call.broken) {
                    call = open();
                    current = call;
                }
                if (call.broken) {
                    // It failed as it started (the channel is closing): nothing is pending on it.
                    throw call.failure;
                }
                long id = nextId++;
                call.pending.put(id, answer);
                Call sentOn = call;
                answer.whenComplete((sequence, failure) -> sentOn.pending.remove(id));
                call.requests.onNext(record.setId(id).build());
            } finally {
                sendLock.unlock();
            }
        } catch (RuntimeException e) {
            answer.completeExceptionally(e);
        }
        return answer;
    }

    private Call open() {
        ManagedChannel channel = peers.get(address);
        Call call = new Call();
        // Outside the context of the client's call that happens to open it, which would cancel it at its end.
        Context previous = Context.ROOT.attach();
        try {
            call.requests = StoreGrpc.newStub(channel).replicate(call);
        } finally {
            Context.ROOT.detach(previous);
        }
        return call;
    }

    /**
     * Waits, bounded, for the channel to connect before a stream is opened on it: a stream opened
     * while the channel is connecting or backing off after a failure would fail at once, and a
     * secondary that just came back would fail a write (and seal a volume) for nothing. A channel
     * in backoff tries again at once. When the secondary is still down, the stream opened after
     * the wait fails and with it the records sent on it.
     */
    private void awaitConnection(ManagedChannel channel) {
        ConnectivityState state = channel.getState(true);
        if (state == ConnectivityState.READY) {
            return;
        }
        long deadline = System.nanoTime() + connectWaitNanos;
        boolean retried = false;
        try {
            while (state != ConnectivityState.READY && state != ConnectivityState.SHUTDOWN) {
                if (state == ConnectivityState.TRANSIENT_FAILURE) {
                    if (retried) {
                        return;
                    }
                    channel.resetConnectBackoff();
                    retried = true;
                }
                CountDownLatch changed = new CountDownLatch(1);
                channel.notifyWhenStateChanged(state, changed::countDown);
                long left = deadline - System.nanoTime();
                if (left <= 0 || !changed.await(left, TimeUnit.NANOSECONDS)) {
                    return;
                }
                state = channel.getState(true);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One opening of the stream and the records pending on it; it receives the answers. */
    private final class Call implements StreamObserver<ReplicateResponse> {
        final ConcurrentHashMap<Long, CompletableFuture<Long>> pending = new ConcurrentHashMap<>();
        StreamObserver<ReplicateRequest> requests;
        /** Written under sendLock. */
        volatile boolean broken;
        /** Why it broke; set with broken. */
        RuntimeException failure;

        @Override
        public void onNext(ReplicateResponse response) {
            CompletableFuture<Long> answer = pending.get(response.getId());
            if (answer == null) {
                return;
            }
            if (response.hasError()) {
                answer.completeExceptionally(WireErrors.toStatus(response.getError()));
            } else {
                answer.complete(response.getSequence());
            }
        }

        @Override
        public void onError(Throwable t) {
            if (Status.fromThrowable(t).getCode() == Status.Code.UNIMPLEMENTED) {
                olderCallsUntilNanos = System.nanoTime() + OLDER_CALLS_NANOS;
                olderCalls = true;
            }
            end(t);
        }

        @Override
        public void onCompleted() {
            end(new IllegalStateException("the secondary ended the replication stream"));
        }

        private void end(Throwable t) {
            sendLock.lock();
            try {
                failure = t instanceof RuntimeException r ? r : new IllegalStateException(t);
                broken = true;
                if (current == this) {
                    current = null;
                }
            } finally {
                sendLock.unlock();
            }
            List<CompletableFuture<Long>> failed = new ArrayList<>(pending.values());
            for (CompletableFuture<Long> answer : failed) {
                answer.completeExceptionally(t);
            }
        }
    }
}
