package io.hayloft.store;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.DeleteNeedleRequest;
import io.hayloft.proto.v1.DeleteNeedleResponse;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ReplicateRequest;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToLongFunction;
import java.util.zip.CRC32C;

/**
 * Sends a primary's writes and deletes to the volume's secondaries, all at once, each with a
 * deadline, and reports which of them did not take the record.
 *
 * <p>Records of at most 1 MiB and deletes go over one long-lived {@link ReplicaStream} per
 * secondary, shared by all volumes and writers: one message each way per record, no call set-up.
 * Larger needles go by a WriteNeedle call each, in pieces of at most 1 MiB, as do records to a
 * secondary of an older release that does not serve Replicate. No thread is held per secondary:
 * a write is sent by {@link #startWrite}, which does not wait, and the caller (a virtual thread)
 * then waits for all the answers in {@link #await}. The needle's bytes are not copied: the caller
 * keeps them unchanged until {@code await} returns.
 */
final class Forwarder {
    /** Beyond the calls' own deadline, in case an answer is lost on the way. */
    private static final long GRACE_MS = 5_000;
    /** Longest wait for a secondary's connection when its stream is opened (at most the forward deadline). */
    private static final long CONNECT_WAIT_MS = 2_000;

    private final String storeId;
    private final PeerChannels peers;
    private final long timeoutMs;
    private final ConcurrentHashMap<String, ReplicaStream> streams = new ConcurrentHashMap<>();
    /** Secondaries in this process, reached by a call; null when there are none. */
    private volatile LocalPeers localPeers;

    /** Forwards records as the primary {@code storeId}, which every record names. */
    Forwarder(String storeId, PeerChannels peers, long timeoutMs) {
        this.storeId = storeId;
        this.peers = peers;
        this.timeoutMs = timeoutMs;
    }

    void localPeers(LocalPeers peers) {
        this.localPeers = peers;
    }

    /**
     * Sends a needle that has its sequence in {@code header} to every secondary, without waiting
     * for their answers: {@link #await} waits for them. Does not block.
     */
    Sent startWrite(List<StoreInfo> secondaries, WriteHeader sequenced, ByteString data) {
        WriteHeader header = sequenced.toBuilder().setPrimaryStoreId(storeId).build();
        ReplicateRequest.Builder record = data.size() > StoreService.PIECE_BYTES ? null
                : ReplicateRequest.newBuilder().setFid(header.getFid()).setSequence(header.getSequence())
                        .setData(data).setCrc32C(header.getCrc32C()).setPrimaryStoreId(storeId);
        return start(secondaries, header.getSequence(), record, peer -> writeNeedle(peer, header, data));
    }

    /** Forwards a delete that has its sequence and waits; returns the failures, as {@link #await} does. */
    List<String> delete(List<StoreInfo> secondaries, Fid fid, long sequence) throws InterruptedException {
        ReplicateRequest.Builder record = ReplicateRequest.newBuilder().setFid(fid).setSequence(sequence)
                .setTombstone(true).setCrc32C((int) new CRC32C().getValue()).setPrimaryStoreId(storeId);
        return await(start(secondaries, sequence, record, peer -> deleteNeedle(peer, fid, sequence)));
    }

    /** One record to one secondary by the older calls, WriteNeedle or DeleteNeedle. */
    private interface OlderCall {
        CompletableFuture<Long> send(StoreInfo peer);
    }

    /** A record sent to the secondaries, whose answers are still to be awaited. */
    static final class Sent {
        private final List<StoreInfo> secondaries;
        private final long sequence;
        private final OlderCall olderCall;
        private final List<CompletableFuture<Long>> calls;
        /** Per call, the stream it went over; null for a call in this process or an older call. */
        private final List<ReplicaStream> used;
        private final boolean anyOlder;

        private Sent(List<StoreInfo> secondaries, long sequence, OlderCall olderCall,
                List<CompletableFuture<Long>> calls, List<ReplicaStream> used, boolean anyOlder) {
            this.secondaries = secondaries;
            this.sequence = sequence;
            this.olderCall = olderCall;
            this.calls = calls;
            this.used = used;
            this.anyOlder = anyOlder;
        }
    }

    /**
     * Sends the record to every secondary, over its stream when {@code record} is not null and
     * the secondary serves Replicate, else by {@code olderCall}.
     */
    private Sent start(List<StoreInfo> secondaries, long sequence, ReplicateRequest.Builder record,
            OlderCall olderCall) {
        List<CompletableFuture<Long>> calls = new ArrayList<>(secondaries.size());
        List<ReplicaStream> used = new ArrayList<>(secondaries.size());
        boolean anyOlder = false;
        LocalPeers local = localPeers;
        for (StoreInfo peer : secondaries) {
            StoreServer inProcess = record == null || local == null ? null : local.find(peer.getAddress());
            if (inProcess != null) {
                calls.add(inProcess.service().replicateLocal(record.clone().build()));
                used.add(null);
                continue;
            }
            ReplicaStream stream = record == null ? null : stream(peer.getAddress());
            if (stream != null && stream.usable()) {
                calls.add(stream.send(record.clone()));
                used.add(stream);
            } else {
                calls.add(olderCall.send(peer));
                used.add(null);
                anyOlder = true;
            }
        }
        return new Sent(secondaries, sequence, olderCall, calls, used, anyOlder);
    }

    /** The failures of a record that could not be sent to any of {@code secondaries}. */
    static List<String> notSent(List<StoreInfo> secondaries) {
        List<String> failed = new ArrayList<>(secondaries.size());
        for (StoreInfo peer : secondaries) {
            failed.add("store " + peer.getStoreId() + " at " + peer.getAddress() + ": the record was not sent");
        }
        return failed;
    }

    /**
     * Waits for every answer to {@code sent}, bounded; returns one line per secondary that failed,
     * empty when every one answered with the record's sequence.
     */
    List<String> await(Sent sent) throws InterruptedException {
        List<CompletableFuture<Long>> calls = sent.calls;
        awaitAll(calls, sent.anyOlder ? timeoutMs + GRACE_MS : timeoutMs);
        // A secondary that turned out not to know Replicate gets the record by the older call.
        boolean retried = false;
        for (int i = 0; i < calls.size(); i++) {
            if (sent.used.get(i) != null && unimplemented(calls.get(i))) {
                calls.set(i, sent.olderCall.send(sent.secondaries.get(i)));
                retried = true;
            }
        }
        if (retried) {
            awaitAll(calls, timeoutMs + GRACE_MS);
        }
        return failures(sent.secondaries, calls, sent.sequence);
    }

    private ReplicaStream stream(String address) {
        ReplicaStream stream = streams.get(address);
        if (stream == null) {
            if (streams.size() >= PeerChannels.PEERS_MAX) {
                return null;
            }
            long connectWaitMs = Math.min(CONNECT_WAIT_MS, timeoutMs);
            stream = streams.computeIfAbsent(address, a -> new ReplicaStream(a, peers, connectWaitMs));
        }
        return stream;
    }

    private CompletableFuture<Long> writeNeedle(StoreInfo peer, WriteHeader header, ByteString data) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        try {
            StreamObserver<WriteNeedleRequest> out = stub(peer).writeNeedle(
                    answer(done, WriteNeedleResponse::getSequence));
            out.onNext(WriteNeedleRequest.newBuilder().setHeader(header).build());
            for (int at = 0; at < data.size(); at += StoreService.PIECE_BYTES) {
                int end = Math.min(at + StoreService.PIECE_BYTES, data.size());
                out.onNext(WriteNeedleRequest.newBuilder().setData(data.substring(at, end)).build());
            }
            out.onCompleted();
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private CompletableFuture<Long> deleteNeedle(StoreInfo peer, Fid fid, long sequence) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        try {
            stub(peer).deleteNeedle(DeleteNeedleRequest.newBuilder().setFid(fid).setSequence(sequence)
                    .setPrimaryStoreId(storeId).build(),
                    answer(done, DeleteNeedleResponse::getSequence));
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
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

    /** Waits for every call, at most {@code ms}; gives up on those not answered by then. */
    private static void awaitAll(List<CompletableFuture<Long>> calls, long ms) throws InterruptedException {
        try {
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(ms, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // Told apart per call below.
        }
        for (CompletableFuture<Long> call : calls) {
            if (!call.isDone()) {
                call.completeExceptionally(new TimeoutException("no answer in time"));
            }
        }
    }

    private static boolean unimplemented(CompletableFuture<Long> call) {
        if (!call.isCompletedExceptionally()) {
            return false;
        }
        try {
            call.join();
            return false;
        } catch (CompletionException e) {
            return Status.fromThrowable(e.getCause()).getCode() == Status.Code.UNIMPLEMENTED;
        }
    }

    /** Describes the calls that did not take {@code sequence}. */
    private static List<String> failures(List<StoreInfo> secondaries, List<CompletableFuture<Long>> calls,
            long sequence) {
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
        try {
            long answered = call.getNow(0L);
            return answered == sequence ? null : "answered sequence " + answered + " for " + sequence;
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TimeoutException) {
                return cause.getMessage();
            }
            if (!(cause instanceof StatusRuntimeException || cause instanceof StatusException)) {
                return String.valueOf(cause);
            }
            Error error = WireErrors.fromThrowable(cause).orElseThrow();
            return error.getCode() + ": " + error.getMessage();
        }
    }
}
