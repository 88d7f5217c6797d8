package io.hayloft.store;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.DeleteNeedleRequest;
import io.hayloft.proto.v1.DeleteNeedleResponse;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToLongFunction;

/**
 * Sends a primary's writes and deletes to the volume's secondaries, all at once, each call with a
 * deadline, and reports which of them did not take the record.
 *
 * <p>Calls go out on gRPC's asynchronous stubs, so no thread is held per secondary; the caller (a
 * virtual thread) waits for all of them. The needle's bytes are wrapped, not copied, into pieces of
 * at most 1 MiB: the caller keeps them unchanged until the forward returns.
 */
final class Forwarder {
    /** Beyond the calls' own deadline, in case an answer is lost on the way. */
    private static final long GRACE_MS = 5_000;

    private final PeerChannels peers;
    private final long timeoutMs;

    Forwarder(PeerChannels peers, long timeoutMs) {
        this.peers = peers;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Forwards a needle that has its sequence in {@code header}; returns one line per secondary
     * that failed, empty when every one answered with that sequence.
     */
    List<String> write(List<StoreInfo> secondaries, WriteHeader header, byte[] data) throws InterruptedException {
        List<CompletableFuture<Long>> calls = new ArrayList<>();
        for (StoreInfo peer : secondaries) {
            CompletableFuture<Long> done = new CompletableFuture<>();
            try {
                StreamObserver<WriteNeedleRequest> out = stub(peer).writeNeedle(
                        answer(done, WriteNeedleResponse::getSequence));
                out.onNext(WriteNeedleRequest.newBuilder().setHeader(header).build());
                for (int at = 0; at < data.length; at += StoreService.PIECE_BYTES) {
                    int n = Math.min(StoreService.PIECE_BYTES, data.length - at);
                    out.onNext(WriteNeedleRequest.newBuilder().setData(UnsafeByteOperations.unsafeWrap(data, at, n))
                            .build());
                }
                out.onCompleted();
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
            calls.add(done);
        }
        return failures(secondaries, calls, header.getSequence());
    }

    /** Forwards a delete that has its sequence; returns the failures, as {@link #write} does. */
    List<String> delete(List<StoreInfo> secondaries, Fid fid, long sequence) throws InterruptedException {
        DeleteNeedleRequest request = DeleteNeedleRequest.newBuilder().setFid(fid).setSequence(sequence).build();
        List<CompletableFuture<Long>> calls = new ArrayList<>();
        for (StoreInfo peer : secondaries) {
            CompletableFuture<Long> done = new CompletableFuture<>();
            try {
                stub(peer).deleteNeedle(request, answer(done, DeleteNeedleResponse::getSequence));
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
            calls.add(done);
        }
        return failures(secondaries, calls, sequence);
    }

    private StoreGrpc.StoreStub stub(StoreInfo peer) {
        return StoreGrpc.newStub(peers.get(peer.getAddress())).withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }

    private static <T> StreamObserver<T> answer(CompletableFuture<Long> done, ToLongFunction<T> sequence) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T response) {
                done.complete(sequence.applyAsLong(response));
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.completeExceptionally(new IllegalStateException("the call ended without an answer"));
            }
        };
    }

    /** Waits for every call, bounded, and describes those that did not take {@code sequence}. */
    private List<String> failures(List<StoreInfo> secondaries, List<CompletableFuture<Long>> calls, long sequence)
            throws InterruptedException {
        try {
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                    .get(timeoutMs + GRACE_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // Told apart per call below.
        }
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            String problem = problem(calls.get(i), sequence);
            if (problem != null) {
                StoreInfo peer = secondaries.get(i);
                failed.add("store " + peer.getStoreId() + " at " + peer.getAddress() + ": " + problem);
            }
        }
        return failed;
    }

    private static String problem(CompletableFuture<Long> call, long sequence) {
        if (!call.isDone()) {
            return "no answer in time";
        }
        try {
            long answered = call.getNow(0L);
            return answered == sequence ? null : "answered sequence " + answered + " for " + sequence;
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (!(cause instanceof StatusRuntimeException || cause instanceof StatusException)) {
                return String.valueOf(cause);
            }
            Error error = WireErrors.fromThrowable(cause).orElseThrow();
            return error.getCode() + ": " + error.getMessage();
        }
    }
}
