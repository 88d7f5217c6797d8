package io.hayloft.store;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hayloft.client.HayloftException;
import io.hayloft.client.ReplicaWait;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.CatchUpRecord;
import io.hayloft.proto.v1.CatchUpRequest;
import io.hayloft.proto.v1.CatchUpVolumeRequest;
import io.hayloft.proto.v1.CatchUpVolumeResponse;
import io.hayloft.proto.v1.CopyVolumeProgress;
import io.hayloft.proto.v1.CopyVolumeRequest;
import io.hayloft.proto.v1.CreateVolumeRequest;
import io.hayloft.proto.v1.DropVolumeRequest;
import io.hayloft.proto.v1.DropVolumeResponse;
import io.hayloft.proto.v1.ListNeedlesRequest;
import io.hayloft.proto.v1.ListNeedlesResponse;
import io.hayloft.proto.v1.ListedNeedle;
import io.hayloft.proto.v1.ReadRecordRequest;
import io.hayloft.proto.v1.SetReplicasRequest;
import io.hayloft.proto.v1.SetReplicasResponse;
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
import io.hayloft.proto.v1.ReplicateRequest;
import io.hayloft.proto.v1.ReplicateResponse;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteSmallNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import io.hayloft.volume.NeedleStream;
import io.hayloft.volume.RecordSummary;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeErrorCode;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.VolumeSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Store gRPC service over one data directory: needle writes, reads, deletes, catch-up and
 * volume management on this node, and its part in replication.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>Threads: handlers are called on gRPC's threads and hand any blocking work (a volume
 *       call, a primary's wait for its secondaries) to a thread of the executor, virtual threads,
 *       one per call or record ({@link #offload}).
 *   <li>Writes: a needle arriving in pieces is gathered in one buffer of its announced length (at
 *       most the volume's needle size limit, {@link NeedleReceiver}); one of at most 1 MiB may
 *       come whole in one message (WriteSmallNeedle). Either way it goes through the same checks
 *       and write ({@link NeedleWrites}): the client's CRC32C, and a bound on the bytes being
 *       received over all calls, past which a write is refused at its header. Reads stream from
 *       the volume in pieces of at most 1 MiB, each already checked.
 *   <li>Forwarding: a write or delete with sequence 0 comes from a client and is taken only by the
 *       volume's primary (the first of the replicas meta gave at creation), else NOT_PRIMARY. The
 *       primary appends it and forwards it with its sequence to every secondary at once (a write
 *       as soon as it is written, before the primary's fsync; a delete once durable), each with a
 *       deadline, and answers once it and all of them made it durable ({@link Replication}): over one
 *       long-lived Replicate stream per secondary ({@link ReplicaStream}), received here by a
 *       {@link ReplicaStreamReceiver} per stream; needles over 1 MiB by WriteNeedle calls.
 *   <li>Failure rule: when a secondary fails or does not answer in time, the primary makes its
 *       replica read-only, tells the {@link ReplicaFailureListener}, and answers REPLICA_FAILED.
 *       Nothing is acknowledged that a replica lacks.
 *   <li>Order on secondaries: a write or delete with a sequence is a replica's; forwards can
 *       arrive out of order, so each waits, bounded, until the lower sequences of its volume were
 *       handed to the volume ({@link ReplicaOrder}).
 *   <li>Replica sets: CreateVolume keeps the replicas beside the volume, durably, before creating
 *       it ({@link ReplicaSets}); a repeated CreateVolume for the same salt and stores succeeds.
 * </ul>
 */
public final class StoreService extends StoreGrpc.StoreImplBase implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StoreService.class);
    static final int PIECE_BYTES = 1 << 20;
    /**
     * The HTTP/2 flow-control window of every connection a store serves or opens to a peer: room
     * for a few pieces in flight. A fixed window, because gRPC's automatic tuning sends a ping for
     * every burst of data received, which costs as much as the small records themselves.
     */
    static final int FLOW_CONTROL_WINDOW_BYTES = 4 << 20;
    /** Bound on the length of a store id. */
    public static final int STORE_ID_CHARS_MAX = 256;
    private static final long CATCH_UP_BATCH_BYTES = 8 << 20;
    /** Needles in one page of ListNeedles. */
    static final int LIST_NEEDLES_MAX = 10_000;

    private final String storeId;
    private final VolumeSet volumes;
    private final ReplicaSets replicaSets;
    private final PeerChannels peers;
    private final Replication replication;
    private final BytesInFlight bytesInFlight;
    private final NeedleWrites writes;
    private final ReplicaRecords replicaRecords;
    private final ReplicaApplier replicaApplier;
    private final Executor executor;
    private final Set<ReplicaStreamReceiver> receivers = ConcurrentHashMap.newKeySet();
    private final Object creating = new Object();
    private final VolumeRepairs repairs;
    private final NeedleRepairs needleRepairs;

    /**
     * Serves {@code volumes} as the store {@code storeId}, loading the replica sets kept in their
     * directory.
     *
     * @param storeId this store's id, as meta knows it and lists it in replica sets
     * @param listener told when a secondary fails a write this store forwarded as primary
     * @param executor runs the records a secondary applies from its primaries ({@link
     *     ReplicaApplier}), and the tasks block (on a record's turn and its fsync): virtual threads
     * @throws IOException when the data directory's replica sets cannot be listed
     */
    public StoreService(String storeId, VolumeSet volumes, StoreConfig config, ReplicaFailureListener listener,
            Executor executor) throws IOException {
        if (storeId.isBlank() || storeId.length() > STORE_ID_CHARS_MAX) {
            throw new IllegalArgumentException("store id must be 1 to " + STORE_ID_CHARS_MAX
                    + " characters, not blank, got '" + storeId + "'");
        }
        this.storeId = storeId;
        this.volumes = volumes;
        this.peers = new PeerChannels(volumes.config().needleSizeBytesMax());
        this.replicaSets = ReplicaSets.load(volumes.directory());
        this.repairs = new VolumeRepairs(storeId, volumes, replicaSets, peers, executor, creating,
                config.pullStallMs());
        this.replication = new Replication(storeId, replicaSets, peers, config, listener, repairs::takeBack);
        this.bytesInFlight = new BytesInFlight(config.bytesInFlightMax());
        this.writes = new NeedleWrites(volumes, replication, bytesInFlight);
        this.replicaRecords = new ReplicaRecords(volumes, replication, bytesInFlight);
        this.replicaApplier = new ReplicaApplier(storeId, replicaRecords, replication.order(), executor);
        this.executor = executor;
        this.needleRepairs = new NeedleRepairs(storeId, volumes, replicaSets, peers, config);
    }

    public String storeId() {
        return storeId;
    }

    ReplicaOrder replicaOrder() {
        return replication.order();
    }

    /** How a secondary takes records from its primary, for tests. */
    ReplicaRecords replicaRecords() {
        return replicaRecords;
    }

    /** The bytes of needles being received, for tests. */
    long bytesInFlight() {
        return bytesInFlight.reserved();
    }

    /** Replicate streams that primaries have open to this store, for tests. */
    int replicaStreamsOpen() {
        return receivers.size();
    }

    @Override
    public StreamObserver<WriteNeedleRequest> writeNeedle(StreamObserver<WriteNeedleResponse> out) {
        return new NeedleReceiver(writes, this::offload, out);
    }

    @Override
    public void writeSmallNeedle(WriteSmallNeedleRequest request, StreamObserver<WriteNeedleResponse> out) {
        offload(out, () -> writeSmall(request, out));
    }

    private void writeSmall(WriteSmallNeedleRequest request, StreamObserver<WriteNeedleResponse> out) {
        long sequence;
        try {
            sequence = writeWhole(request.getHeader(), request.getData());
        } catch (VolumeException | InterruptedException | RuntimeException e) {
            out.onError(NeedleWrites.toStatus(e));
            return;
        }
        out.onNext(WriteNeedleResponse.newBuilder().setSequence(sequence).build());
        out.onCompleted();
    }

    /**
     * Writes a needle of at most 1 MiB for a caller in this process, without gRPC, as {@code
     * WriteSmallNeedle} does; returns its sequence once every replica has it durable.
     */
    long writeLocal(WriteHeader header, byte[] data) {
        try {
            return writeWhole(header, UnsafeByteOperations.unsafeWrap(data));
        } catch (VolumeException | InterruptedException | RuntimeException e) {
            throw HayloftException.from(NeedleWrites.toStatus(e));
        }
    }

    /**
     * Writes a needle of at most 1 MiB as its primary for a caller in this process, as {@link
     * #writeLocal} does, but returns once this replica has it durable, with what waits for the
     * secondaries (see {@link io.hayloft.client.LocalStores#writeOnPrimary}).
     */
    ReplicaWait writeLocalOnPrimary(WriteHeader header, byte[] data) {
        ByteString bytes = UnsafeByteOperations.unsafeWrap(data);
        Replication.PrimaryWrite written;
        try {
            checkWhole(header, bytes);
            Volume volume = writes.admit(header);
            try {
                written = writes.startAsPrimary(volume, header, bytes);
            } catch (VolumeException | InterruptedException | RuntimeException e) {
                writes.release(header.getLength());
                throw e;
            }
        } catch (VolumeException | InterruptedException | RuntimeException e) {
            throw HayloftException.from(NeedleWrites.toStatus(e));
        }
        AtomicBoolean awaited = new AtomicBoolean();
        return () -> {
            if (!awaited.compareAndSet(false, true)) {
                throw new IllegalStateException("the replicas of a write are awaited once");
            }
            try {
                written.finish();
            } catch (InterruptedException | RuntimeException e) {
                throw HayloftException.from(NeedleWrites.toStatus(e));
            } finally {
                writes.release(header.getLength());
            }
        };
    }

    private static void checkWhole(WriteHeader header, ByteString data) {
        if (data.size() > PIECE_BYTES || header.getLength() != data.size()) {
            throw new IllegalArgumentException("a write in one piece takes the whole needle, at most " + PIECE_BYTES
                    + " bytes; got " + data.size() + " bytes of " + header.getLength()
                    + " announced (use WriteNeedle for larger needles)");
        }
    }

    /** Writes a whole needle of at most 1 MiB, given in one piece, on every replica. */
    private long writeWhole(WriteHeader header, ByteString data) throws VolumeException, InterruptedException {
        checkWhole(header, data);
        Volume volume = writes.admit(header);
        try {
            return writes.write(volume, header, data);
        } finally {
            writes.release(header.getLength());
        }
    }

    @Override
    public StreamObserver<ReplicateRequest> replicate(StreamObserver<ReplicateResponse> out) {
        if (receivers.size() >= PeerChannels.PEERS_MAX) {
            out.onError(WireErrors.toStatus(ErrorCode.UNAVAILABLE, "store " + storeId + " has "
                    + PeerChannels.PEERS_MAX + " replication streams open already"));
            return new NoMoreRecords();
        }
        ReplicaStreamReceiver receiver = new ReplicaStreamReceiver(replicaRecords, replicaApplier, out, receivers::remove);
        receivers.add(receiver);
        return receiver;
    }

    /**
     * Takes a record from a primary in this process, without gRPC, as a Replicate stream would:
     * the future completes with its sequence once it is durable here, or fails with the status
     * the stream would have answered.
     */
    CompletableFuture<Long> replicateLocal(ReplicateRequest record) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        Volume volume;
        try {
            volume = replicaRecords.admit(record);
        } catch (VolumeException | RuntimeException e) {
            done.completeExceptionally(NeedleWrites.toStatus(e));
            return done;
        }
        replicaApplier.submit(volume, record, (r, error) -> {
            if (error == null) {
                done.complete(r.getSequence());
            } else {
                done.completeExceptionally(error);
            }
        });
        return done;
    }

    /** Secondaries in this process, which this store, as a primary, then reaches without gRPC. */
    void localPeers(LocalPeers peers) {
        replication.localPeers(peers);
    }

    /**
     * Runs a call's blocking work on a virtual thread of its own: the server calls the handlers
     * on its transport threads, which must not block. Answers UNAVAILABLE once the store stops.
     */
    private void offload(StreamObserver<?> out, Runnable work) {
        try {
            executor.execute(() -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    if (e instanceof StatusRuntimeException) {
                        // The call was cancelled under the work: a stream's onNext then throws.
                        log.debug("a call ended under its work: {}", e.getMessage());
                    } else {
                        log.error("a call's work failed", e);
                    }
                    try {
                        out.onError(NeedleWrites.toStatus(e));
                    } catch (RuntimeException ended) {
                        // The call has ended already.
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            out.onError(WireErrors.toStatus(ErrorCode.UNAVAILABLE, "store " + storeId + " is stopping"));
        }
    }

    /** Drops the records of a stream refused at its start. */
    private static final class NoMoreRecords implements StreamObserver<ReplicateRequest> {
        @Override
        public void onNext(ReplicateRequest value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
    }

    /**
     * Ends the Replicate streams that primaries opened to this store, which would otherwise stay
     * open: called when the store stops, after its server stopped taking new calls. The primaries
     * fail the records they have pending here.
     */
    void endReplicaStreams() {
        for (ReplicaStreamReceiver r : List.copyOf(receivers)) {
            r.end("store " + storeId + " is stopping");
        }
    }

    @Override
    public void readNeedle(ReadNeedleRequest request, StreamObserver<ReadNeedleResponse> out) {
        offload(out, () -> read(request, out));
    }

    private void read(ReadNeedleRequest request, StreamObserver<ReadNeedleResponse> out) {
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
            if (e.code() == VolumeErrorCode.CORRUPT) {
                needleRepairs.submit(fid.getVolumeId(), fid.getNeedleId());
            }
            out.onError(StoreErrors.toStatus(e));
        } catch (IOException e) {
            out.onError(WireErrors.toStatus(ErrorCode.IO_ERROR, e.getMessage()));
        }
    }

    /**
     * Reads a whole needle for a caller in this process, without gRPC: checked as {@code
     * ReadNeedle} checks it, a damaged one queued for repair; refusals are the wire's error codes.
     */
    byte[] readLocal(Fid fid) {
        try {
            ByteBuffer data = volumes.get(fid.getVolumeId()).read(fid.getNeedleId(), fid.getCookie());
            byte[] out = new byte[data.remaining()];
            data.get(out);
            return out;
        } catch (VolumeException e) {
            if (e.code() == VolumeErrorCode.CORRUPT) {
                needleRepairs.submit(fid.getVolumeId(), fid.getNeedleId());
            }
            throw new HayloftException(StoreErrors.code(e.code()), e.getMessage(), e);
        }
    }

    @Override
    public void readRecord(ReadRecordRequest request, StreamObserver<CatchUpRecord> out) {
        offload(out, () -> {
            try {
                out.onNext(CatchUpRecords.toWire(volumes.get(request.getVolumeId()).readRecord(request.getNeedleId())));
                out.onCompleted();
            } catch (VolumeException e) {
                if (e.code() == VolumeErrorCode.CORRUPT) {
                    needleRepairs.submit(request.getVolumeId(), request.getNeedleId());
                }
                out.onError(StoreErrors.toStatus(e));
            }
        });
    }

    @Override
    public void listNeedles(ListNeedlesRequest request, StreamObserver<ListNeedlesResponse> out) {
        repairCall(out, "list the needles of volume " + request.getVolumeId(), () -> {
            Volume volume = volumes.get(request.getVolumeId());
            int limit = Math.clamp(request.getLimit() == 0 ? LIST_NEEDLES_MAX : request.getLimit(), 1, LIST_NEEDLES_MAX);
            long[] ids = volume.liveNeedleIds();
            int from = java.util.Arrays.binarySearch(ids, request.getAfterNeedleId());
            from = from >= 0 ? from + 1 : -from - 1;
            ListNeedlesResponse.Builder page = ListNeedlesResponse.newBuilder();
            int i = from;
            for (; i < ids.length && page.getNeedlesCount() < limit; i++) {
                try {
                    Volume.LiveNeedle n = volume.liveNeedle(ids[i]);
                    if (n != null) {
                        page.addNeedles(ListedNeedle.newBuilder().setNeedleId(n.needleId()).setCookie(n.cookie())
                                .setLength(n.length()));
                    }
                } catch (VolumeException e) {
                    if (e.code() != VolumeErrorCode.CORRUPT) {
                        throw e;
                    }
                    needleRepairs.submit(volume.id(), ids[i]);
                }
            }
            return page.setMore(i < ids.length).build();
        });
    }

    /** Scrubs every volume now; returns the damaged needles found (queued for repair). */
    long scrubAll() throws InterruptedException {
        return needleRepairs.scrubAll();
    }

    /** Needles repaired from another replica since the store started. */
    long needlesRepaired() {
        return needleRepairs.repaired();
    }

    @Override
    public void deleteNeedle(DeleteNeedleRequest request, StreamObserver<DeleteNeedleResponse> out) {
        offload(out, () -> delete(request, out));
    }

    private void delete(DeleteNeedleRequest request, StreamObserver<DeleteNeedleResponse> out) {
        Fid fid = request.getFid();
        try {
            Volume volume = volumes.get(fid.getVolumeId());
            long sequence = request.getSequence();
            if (sequence == 0) {
                sequence = replication.deleteAsPrimary(volume, fid);
            } else {
                replication.applyFromPrimary(volume, new ReplicatedNeedle(fid.getNeedleId(), fid.getCookie(), true,
                        sequence, ByteBuffer.allocate(0)), request.getPrimaryStoreId());
            }
            out.onNext(DeleteNeedleResponse.newBuilder().setSequence(sequence).build());
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        } catch (StatusRuntimeException e) {
            out.onError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.onError(WireErrors.toStatus(ErrorCode.UNAVAILABLE, "the store is stopping"));
        }
    }

    /**
     * Deletes a needle as its volume's primary for a caller in this process, without gRPC, as
     * {@code DeleteNeedle} from a client does; refusals are the wire's error codes.
     */
    void deleteLocal(Fid fid) {
        try {
            replication.deleteAsPrimary(volumes.get(fid.getVolumeId()), fid);
        } catch (VolumeException | InterruptedException | RuntimeException e) {
            throw HayloftException.from(NeedleWrites.toStatus(e));
        }
    }

    @Override
    public void catchUp(CatchUpRequest request, StreamObserver<CatchUpRecord> out) {
        offload(out, () -> catchUpNow(request, out));
    }

    private void catchUpNow(CatchUpRequest request, StreamObserver<CatchUpRecord> out) {
        Volume volume = null;
        try {
            volume = volumes.get(request.getVolumeId());
            long after = request.getAfterSequence();
            if (request.hasAfterRecord()) {
                RecordSummary theirs = CatchUpRecords.summary(request.getAfterRecord(), after);
                RecordSummary mine = volume.recordAt(after);
                if (!theirs.equals(mine)) {
                    out.onError(WireErrors.toStatus(ErrorCode.REPLICA_DIVERGED, "volume " + volume.id()
                            + " on store " + storeId + " holds " + (mine == null ? "no record" : "another record")
                            + " at the asking replica's last sequence " + after + ": rebuild that replica"));
                    return;
                }
            }
            while (true) {
                List<ReplicatedNeedle> batch = volume.recordsAfter(after, CATCH_UP_BATCH_BYTES);
                if (batch.isEmpty()) {
                    break;
                }
                for (ReplicatedNeedle r : batch) {
                    out.onNext(CatchUpRecords.toWire(r));
                    after = r.sequence();
                }
            }
            out.onCompleted();
        } catch (VolumeException e) {
            if (volume != null && e.damagedNeedle() >= 0) {
                // The record the puller needs is damaged here: repaired now, not at the next scrub.
                needleRepairs.submit(volume.id(), e.damagedNeedle());
            }
            out.onError(StoreErrors.toStatus(e));
        }
    }

    @Override
    public void createVolume(CreateVolumeRequest request, StreamObserver<CreateVolumeResponse> out) {
        offload(out, () -> createVolumeNow(request, out));
    }

    private void createVolumeNow(CreateVolumeRequest request, StreamObserver<CreateVolumeResponse> out) {
        try {
            createVolume(ReplicaSets.normalize(request, storeId));
            out.onNext(CreateVolumeResponse.getDefaultInstance());
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        } catch (IOException e) {
            out.onError(StoreErrors.toStatus(VolumeException.fromIo("keep the replica set of volume "
                    + request.getVolumeId(), e)));
        } catch (IllegalArgumentException e) {
            out.onError(WireErrors.toStatus(ErrorCode.BAD_REQUEST, e.getMessage()));
        }
    }

    /**
     * Creates the volume after keeping its replica set, or, when it exists already for the same
     * salt and stores (meta retrying), succeeds and keeps the addresses given. An existing volume
     * without a usable replica set takes the one given: only meta can say what it was.
     */
    private void createVolume(CreateVolumeRequest request) throws IOException {
        int id = request.getVolumeId();
        synchronized (creating) {
            VolumeException unopened = volumes.failures().get(id);
            if (unopened != null) {
                throw new VolumeException(unopened.code(), "volume " + id + " exists but could not be opened: "
                        + unopened.getMessage());
            }
            if (exists(id)) {
                CreateVolumeRequest existing = replicaSets.get(id).orElse(null);
                if (existing != null && !ReplicaSets.sameVolume(existing, request)) {
                    throw new VolumeException(VolumeErrorCode.VOLUME_EXISTS, "volume " + id + " exists on store "
                            + storeId + " with replicas " + ReplicaSets.idsOf(existing)
                            + " and another salt or other replicas");
                }
                // Keeps new addresses; gives back its replica set to a volume whose file was unreadable.
                if (!request.equals(existing)) {
                    replicaSets.put(request);
                }
                return;
            }
            replicaSets.put(request);
            try {
                volumes.create(id, request.getSalt());
            } catch (VolumeException | RuntimeException e) {
                try {
                    replicaSets.remove(id);
                } catch (IOException removal) {
                    e.addSuppressed(removal);
                }
                throw e;
            }
        }
    }

    private boolean exists(int volumeId) throws VolumeException {
        try {
            volumes.get(volumeId);
            return true;
        } catch (VolumeException e) {
            if (e.code() == VolumeErrorCode.NO_SUCH_VOLUME) {
                return false;
            }
            throw e;
        }
    }

    @Override
    public void setVolumeReadOnly(SetVolumeReadOnlyRequest request, StreamObserver<SetVolumeReadOnlyResponse> out) {
        offload(out, () -> setVolumeReadOnlyNow(request, out));
    }

    private void setVolumeReadOnlyNow(SetVolumeReadOnlyRequest request, StreamObserver<SetVolumeReadOnlyResponse> out) {
        try {
            Volume volume = volumes.get(request.getVolumeId());
            if (request.getReadOnly()) {
                volume.seal();
            } else {
                volume.unseal();
            }
            out.onNext(SetVolumeReadOnlyResponse.newBuilder().setLastSequence(volume.lastSequence()).build());
            out.onCompleted();
        } catch (VolumeException e) {
            out.onError(StoreErrors.toStatus(e));
        }
    }

    @Override
    public void copyVolume(CopyVolumeRequest request, StreamObserver<CopyVolumeProgress> out) {
        repairCall(out, "copy volume " + request.getVolumeId(), () -> {
            repairs.copy(request, out::onNext);
            return null;
        });
    }

    @Override
    public void setReplicas(SetReplicasRequest request, StreamObserver<SetReplicasResponse> out) {
        repairCall(out, "set the replicas of volume " + request.getVolumeId(), () -> {
            repairs.setReplicas(CreateVolumeRequest.newBuilder().setVolumeId(request.getVolumeId())
                    .addAllReplicas(request.getReplicasList()).build());
            return SetReplicasResponse.getDefaultInstance();
        });
    }

    @Override
    public void catchUpVolume(CatchUpVolumeRequest request, StreamObserver<CatchUpVolumeResponse> out) {
        repairCall(out, "catch up volume " + request.getVolumeId(), () -> {
            long applied = repairs.catchUp(request.getVolumeId());
            return CatchUpVolumeResponse.newBuilder().setRecordsApplied(applied)
                    .setLastSequence(volumes.get(request.getVolumeId()).lastSequence()).build();
        });
    }

    @Override
    public void dropVolume(DropVolumeRequest request, StreamObserver<DropVolumeResponse> out) {
        repairCall(out, "drop volume " + request.getVolumeId(), () -> {
            repairs.drop(request.getVolumeId());
            return DropVolumeResponse.getDefaultInstance();
        });
    }

    /** A repair call's work, which answers with its result (null: it answered as it went). */
    @FunctionalInterface
    private interface RepairWork<T> {
        T run() throws IOException, InterruptedException;
    }

    /** Runs a repair call's work on its own thread, and answers with its result or its failure. */
    private <T> void repairCall(StreamObserver<T> out, String what, RepairWork<T> work) {
        offload(out, () -> {
            T result;
            try {
                result = work.run();
            } catch (IOException | InterruptedException | RuntimeException e) {
                out.onError(repairFailure(e, what));
                return;
            }
            if (result != null) {
                out.onNext(result);
            }
            out.onCompleted();
        });
    }

    private static StatusRuntimeException repairFailure(Exception e, String what) {
        if (e instanceof IOException io && !(e instanceof VolumeException)) {
            return StoreErrors.toStatus(VolumeException.fromIo(what, io));
        }
        if (e instanceof StatusRuntimeException s && s.getStatus().getCode() != io.grpc.Status.Code.UNKNOWN
                && WireErrors.fromThrowable(s).isEmpty()) {
            // A call to a peer failed without our trailer: the peer is down or did not answer.
            return WireErrors.toStatus(ErrorCode.UNAVAILABLE, what + ": " + s.getMessage());
        }
        return NeedleWrites.toStatus(e);
    }

    /** Brings this store's secondary replicas up to their primaries; returns the records applied. */
    public long catchUpWithPrimaries() {
        return repairs.catchUpWithPrimaries();
    }

    @Override
    public void close() {
        needleRepairs.close();
        peers.close();
    }
}
