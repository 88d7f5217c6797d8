package io.hayloft.client;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hayloft.proto.v1.AssignResponse;
import io.hayloft.proto.v1.DeleteNeedleRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ReadNeedleRequest;
import io.hayloft.proto.v1.ReadNeedleResponse;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.proto.v1.WriteNeedleRequest;
import io.hayloft.proto.v1.WriteNeedleResponse;
import io.hayloft.proto.v1.WriteSmallNeedleRequest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * The client of a Hayloft cluster: writes blobs (needles) through their volume's primary, reads
 * them from any replica with failover, deletes them, and reaches meta through {@link #meta()}.
 *
 * <p>Implementation notes. Writes cost meta nothing on the common path: the client leases
 * blocks of needle ids ({@code assignCount} at a time, in {@code leaseSlots} slots so that
 * concurrent writers spread over several volumes) and uses them until they run out or expire.
 * A write refused because its volume turned read-only, filled up, or lost a replica makes the
 * client drop that volume's leases, keep away from it for a while, and write again, with new
 * needle ids, on another volume. Reads look the volume's replicas up once (cached for
 * {@code locationTtl}), try the live ones in an order that spreads load, and move to the next
 * replica on a timeout, an error or data that fails its CRC32C; when every replica failed, the
 * location is looked up afresh and tried once more.
 */
public final class HayloftClient implements AutoCloseable {
    private static final int PIECE_BYTES = 1 << 20;
    private static final int WRITE_ATTEMPTS = 5;
    private static final long EXCLUDE_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final ClientOptions options;
    private final Channels channels;
    private final MetaClient meta;
    private final Lease[] leases;
    private final ReentrantLock[] leaseLocks;
    private final Map<Integer, Long> excluded = new ConcurrentHashMap<>();
    private final Cache<Integer, VolumeInfo> locations;
    private final SecureRandom cookies = new SecureRandom();
    private final AtomicLong assignments = new AtomicLong();
    /** Stores in this process, read and written without gRPC; null when there are none. */
    private final LocalStores local;

    /** A block of needle ids on one volume, used in order. */
    private static final class Lease {
        final VolumeInfo volume;
        final long end;
        final long expiresNanos;
        long next;

        Lease(AssignResponse a) {
            volume = a.getVolume();
            next = a.getFirstNeedleId();
            end = a.getFirstNeedleId() + a.getCount();
            // Stop a little before the lease ends, so a slow write does not outlive it.
            expiresNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(a.getLeaseMs()) * 9 / 10;
        }

        boolean usable() {
            return next < end && System.nanoTime() - expiresNanos < 0;
        }
    }

    private HayloftClient(ClientOptions options, LocalStores local) {
        this.options = options;
        this.local = local;
        this.channels = local == null ? new Channels() : new Channels(local::inProcessName);
        this.meta = new MetaClient(options.metaAddresses(), channels, options.metaCallTimeout(),
                options.metaRetryBudget());
        this.leases = new Lease[options.leaseSlots()];
        this.leaseLocks = new ReentrantLock[options.leaseSlots()];
        for (int i = 0; i < leaseLocks.length; i++) {
            leaseLocks[i] = new ReentrantLock();
        }
        this.locations = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(options.locationTtl()).build();
    }

    public static HayloftClient connect(ClientOptions options) {
        return new HayloftClient(options, null);
    }

    /**
     * A client that reads and writes the needles of stores in this process through {@code local},
     * and of every other store over the network.
     */
    public static HayloftClient connect(ClientOptions options, LocalStores local) {
        return new HayloftClient(options, local);
    }

    public static HayloftClient connect(List<String> metaAddresses) {
        return connect(ClientOptions.of(metaAddresses));
    }

    public MetaClient meta() {
        return meta;
    }

    /** How many assignments this client has asked meta for: a few, not one per write. */
    public long assignments() {
        return assignments.get();
    }

    // ---- writes

    /**
     * Writes the bytes as a new needle on rf replicas and returns its fid once all made it durable.
     * The bytes are sent as they are, not copied: the caller does not change them until this
     * returns. Up to 1 MiB they go in one message (WriteSmallNeedle), else in 1 MiB pieces.
     */
    public Fid write(byte[] data) {
        return write(data, false).fid();
    }

    /**
     * Writes the bytes as a new needle, as {@link #write} does, but returns as soon as its
     * volume's primary has it durable, so that the caller can do other work, such as naming it,
     * while the other replicas finish. The caller then calls {@link PrimaryWrite#awaitReplicas}
     * exactly once, and leaves the bytes unchanged until it returned. Only a primary in this
     * process answers this early; through the network the write returns when every replica has
     * the needle, and awaiting the replicas returns at once.
     */
    public PrimaryWrite writeOnPrimary(byte[] data) {
        return write(data, true);
    }

    /** A needle durable on its volume's primary, whose other replicas may still be writing it. */
    public final class PrimaryWrite {
        private final Fid fid;
        private final ReplicaWait replicas;

        private PrimaryWrite(Fid fid, ReplicaWait replicas) {
            this.fid = fid;
            this.replicas = replicas;
        }

        public Fid fid() {
            return fid;
        }

        /**
         * Returns once every replica has the needle durable.
         *
         * @throws HayloftException when one did not take it: the needle stays on its primary, and
         *     this client keeps away from its volume, which turned read-only, as after a failed write
         */
        public void awaitReplicas() {
            try {
                replicas.await();
            } catch (HayloftException e) {
                if (volumeFault(e.code())) {
                    exclude(fid.getVolumeId());
                }
                throw e;
            }
        }
    }

    private PrimaryWrite write(byte[] data, boolean early) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        int crc32c = (int) crc.getValue();
        HayloftException last = null;
        for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
            Placement p = place();
            Fid fid = Fid.newBuilder().setVolumeId(p.volume().getVolumeId()).setNeedleId(p.needleId())
                    .setCookie(cookies.nextInt()).build();
            try {
                return new PrimaryWrite(fid, writeTo(p.volume().getReplicas(0).getAddress(), fid, data, crc32c, early));
            } catch (HayloftException e) {
                if (!volumeFault(e.code())) {
                    throw e;
                }
                exclude(p.volume().getVolumeId());
                last = e;
            }
        }
        throw new HayloftException(last.code(), "write failed on " + WRITE_ATTEMPTS + " volumes; last: "
                + last.getMessage(), last);
    }

    /** A write failed for its volume's sake, not the request's: the same bytes go to another volume. */
    private static boolean volumeFault(ErrorCode code) {
        return switch (code) {
            case READ_ONLY, REPLICA_FAILED, VOLUME_FULL, NO_SUCH_VOLUME, NOT_PRIMARY, UNAVAILABLE,
                    DISK_FULL, IO_ERROR, SEQUENCE_REGRESSION, SEQUENCE_GAP -> true;
            default -> false;
        };
    }

    private record Placement(VolumeInfo volume, long needleId) {}

    private Placement place() {
        int slot = ThreadLocalRandom.current().nextInt(leases.length);
        ReentrantLock lock = leaseLocks[slot];
        lock.lock();
        try {
            Lease l = leases[slot];
            if (l == null || !l.usable() || isExcluded(l.volume.getVolumeId())) {
                l = new Lease(meta.assign(options.assignCount(), excludedVolumes()));
                assignments.incrementAndGet();
                leases[slot] = l;
            }
            return new Placement(l.volume, l.next++);
        } finally {
            lock.unlock();
        }
    }

    private boolean isExcluded(int volumeId) {
        Long until = excluded.get(volumeId);
        if (until == null) {
            return false;
        }
        if (System.nanoTime() - until > 0) {
            excluded.remove(volumeId, until);
            return false;
        }
        return true;
    }

    private List<Integer> excludedVolumes() {
        List<Integer> ids = new ArrayList<>();
        for (Integer id : excluded.keySet()) {
            if (isExcluded(id)) {
                ids.add(id);
            }
        }
        return ids;
    }

    private void exclude(int volumeId) {
        excluded.put(volumeId, System.nanoTime() + EXCLUDE_NANOS);
        locations.invalidate(volumeId);
    }

    /** Writes through the primary at {@code address}; returns what is left to await of the other replicas. */
    private ReplicaWait writeTo(String address, Fid fid, byte[] data, int crc32c, boolean early) {
        WriteHeader header = WriteHeader.newBuilder().setFid(fid).setLength(data.length).setCrc32C(crc32c).build();
        if (data.length > PIECE_BYTES) {
            writeInPieces(address, header, data);
            return ReplicaWait.NONE;
        }
        if (local != null) {
            if (early) {
                ReplicaWait rest = local.writeOnPrimary(address, header, data);
                if (rest != null) {
                    return rest;
                }
            } else if (local.write(address, header, data)) {
                return ReplicaWait.NONE;
            }
        }
        writeSmall(address, header, data);
        return ReplicaWait.NONE;
    }

    /**
     * A needle of at most 1 MiB, in one message and one unary call; in pieces to a store of an
     * older release, which does not know that call.
     */
    private void writeSmall(String address, WriteHeader header, byte[] data) {
        try {
            StoreGrpc.newBlockingStub(channels.get(address))
                    .withDeadlineAfter(options.writeTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .writeSmallNeedle(WriteSmallNeedleRequest.newBuilder().setHeader(header)
                            .setData(UnsafeByteOperations.unsafeWrap(data)).build());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
                writeInPieces(address, header, data);
                return;
            }
            throw HayloftException.from(e);
        }
    }

    private void writeInPieces(String address, WriteHeader header, byte[] data) {
        CompletableFuture<WriteNeedleResponse> done = new CompletableFuture<>();
        StreamObserver<WriteNeedleRequest> call;
        try {
            call = StoreGrpc.newStub(channels.get(address))
                    .withDeadlineAfter(options.writeTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .writeNeedle(new StreamObserver<>() {
                        @Override
                        public void onNext(WriteNeedleResponse r) {
                            done.complete(r);
                        }

                        @Override
                        public void onError(Throwable t) {
                            done.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                            done.completeExceptionally(new HayloftException(ErrorCode.INTERNAL,
                                    "the store ended the write without an answer"));
                        }
                    });
            call.onNext(WriteNeedleRequest.newBuilder().setHeader(header).build());
            for (int off = 0; off < data.length; off += PIECE_BYTES) {
                call.onNext(WriteNeedleRequest.newBuilder()
                        .setData(UnsafeByteOperations.unsafeWrap(data, off, Math.min(PIECE_BYTES, data.length - off)))
                        .build());
            }
            call.onCompleted();
        } catch (StatusRuntimeException e) {
            throw HayloftException.from(e);
        }
        await(done, options.writeTimeout().toMillis() + 1_000);
    }

    private static <T> T await(CompletableFuture<T> f, long ms) {
        try {
            return f.get(ms, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HayloftException(ErrorCode.UNAVAILABLE, "interrupted");
        } catch (TimeoutException e) {
            throw new HayloftException(ErrorCode.UNAVAILABLE, "no answer within " + ms + " ms");
        } catch (ExecutionException e) {
            throw HayloftException.from(e.getCause());
        }
    }

    // ---- reads

    /** Reads a needle, from the first replica that returns it whole and correct. */
    public byte[] read(Fid fid) {
        List<HayloftException> failures = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            if (round == 1) {
                locations.invalidate(fid.getVolumeId());
            }
            VolumeInfo v = location(fid.getVolumeId());
            for (StoreInfo replica : readOrder(v, fid)) {
                try {
                    return readFrom(replica.getAddress(), fid);
                } catch (HayloftException e) {
                    failures.add(e);
                }
            }
            if (!failures.isEmpty() && definitive(failures)) {
                break;
            }
        }
        throw readFailure(fid, failures);
    }

    private VolumeInfo location(int volumeId) {
        VolumeInfo v = locations.getIfPresent(volumeId);
        if (v == null) {
            v = meta.lookupVolume(volumeId);
            locations.put(volumeId, v);
        }
        return v;
    }

    /**
     * Live replicas first, starting at a place that depends on the needle, so reads spread; then
     * suspect ones, then dead ones (they may be back before meta knows).
     */
    private static List<StoreInfo> readOrder(VolumeInfo v, Fid fid) {
        List<StoreInfo> live = new ArrayList<>();
        List<StoreInfo> suspect = new ArrayList<>();
        List<StoreInfo> dead = new ArrayList<>();
        for (StoreInfo r : v.getReplicasList()) {
            switch (r.getState()) {
                case STORE_DEAD -> dead.add(r);
                case STORE_SUSPECT -> suspect.add(r);
                default -> live.add(r);
            }
        }
        if (!live.isEmpty()) {
            Collections.rotate(live, (int) Long.remainderUnsigned(fid.getNeedleId(), live.size()));
        }
        live.addAll(suspect);
        live.addAll(dead);
        return live;
    }

    /** Every replica answered about the needle itself (not a failure to answer): no point asking again. */
    private static boolean definitive(List<HayloftException> failures) {
        return failures.stream().allMatch(e -> switch (e.code()) {
            case NOT_FOUND, DELETED, WRONG_COOKIE, BAD_REQUEST -> true;
            default -> false;
        });
    }

    private static HayloftException readFailure(Fid fid, List<HayloftException> failures) {
        if (failures.isEmpty()) {
            return new HayloftException(ErrorCode.UNAVAILABLE, "volume " + fid.getVolumeId() + " has no replicas");
        }
        // A replica that knows the needle is deleted, or holds it under another cookie, knows
        // more than one that never saw it (it may lag).
        for (ErrorCode c : List.of(ErrorCode.DELETED, ErrorCode.WRONG_COOKIE, ErrorCode.NOT_FOUND)) {
            for (HayloftException e : failures) {
                if (e.code() == c && failures.stream().allMatch(f -> definitive(List.of(f)))) {
                    return e;
                }
            }
        }
        HayloftException last = failures.get(failures.size() - 1);
        return new HayloftException(last.code(), "no replica of volume " + fid.getVolumeId() + " returned needle "
                + Fids.format(fid) + "; last: " + last.getMessage(), last);
    }

    private byte[] readFrom(String address, Fid fid) {
        if (local != null) {
            byte[] data = local.read(address, fid);
            if (data != null) {
                return data;
            }
        }
        Iterator<ReadNeedleResponse> it;
        try {
            it = StoreGrpc.newBlockingStub(channels.get(address))
                    .withDeadlineAfter(options.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .readNeedle(ReadNeedleRequest.newBuilder().setFid(fid).build());
            if (!it.hasNext()) {
                throw new HayloftException(ErrorCode.INTERNAL, "empty answer from " + address);
            }
            ReadNeedleResponse first = it.next();
            if (!first.hasHeader()) {
                throw new HayloftException(ErrorCode.INTERNAL, "a read answer without a header from " + address);
            }
            long length = first.getHeader().getLength();
            if (length > Integer.MAX_VALUE - 16) {
                throw new HayloftException(ErrorCode.NEEDLE_TOO_LARGE, "needle of " + length + " bytes");
            }
            byte[] data = new byte[(int) length];
            int got = 0;
            while (it.hasNext()) {
                ByteString piece = it.next().getData();
                if (piece.size() > data.length - got) {
                    throw new HayloftException(ErrorCode.CORRUPT, address + " sent more than the " + length
                            + " bytes it announced");
                }
                piece.copyTo(data, got);
                got += piece.size();
            }
            if (got != data.length) {
                throw new HayloftException(ErrorCode.CORRUPT, address + " sent " + got + " of " + length + " bytes");
            }
            CRC32C crc = new CRC32C();
            crc.update(data);
            if ((int) crc.getValue() != first.getHeader().getCrc32C()) {
                throw new HayloftException(ErrorCode.CORRUPT, "needle " + Fids.format(fid) + " from " + address
                        + " fails its CRC32C");
            }
            return data;
        } catch (StatusRuntimeException e) {
            throw HayloftException.from(e);
        }
    }

    // ---- deletes

    /** Deletes a needle on every replica (through the primary). */
    public void delete(Fid fid) {
        for (int round = 0; ; round++) {
            VolumeInfo v = location(fid.getVolumeId());
            try {
                deleteOn(v.getReplicas(0).getAddress(), fid);
                return;
            } catch (HayloftException h) {
                if (round > 0 || (h.code() != ErrorCode.NOT_PRIMARY && h.code() != ErrorCode.UNAVAILABLE)) {
                    throw h;
                }
                locations.invalidate(fid.getVolumeId());
            }
        }
    }

    /** Deletes the needle through its primary: in this process when it runs here, else over gRPC. */
    private void deleteOn(String primary, Fid fid) {
        if (local != null && local.delete(primary, fid)) {
            return;
        }
        try {
            StoreGrpc.newBlockingStub(channels.get(primary))
                    .withDeadlineAfter(options.writeTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .deleteNeedle(DeleteNeedleRequest.newBuilder().setFid(fid).build());
        } catch (StatusRuntimeException e) {
            throw HayloftException.from(e);
        }
    }

    @Override
    public void close() {
        channels.close();
    }
}
