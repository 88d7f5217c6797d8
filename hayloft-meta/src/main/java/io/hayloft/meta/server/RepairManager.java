package io.hayloft.meta.server;

import io.grpc.StatusRuntimeException;
import io.hayloft.client.Channels;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.CatchUpVolumeRequest;
import io.hayloft.proto.v1.CopyVolumeProgress;
import io.hayloft.proto.v1.CopyVolumeRequest;
import io.hayloft.proto.v1.DropVolumeRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.RepairStatus;
import io.hayloft.proto.v1.RepairTaskInfo;
import io.hayloft.proto.v1.SetReplicasRequest;
import io.hayloft.proto.v1.SetVolumeReadOnlyRequest;
import io.hayloft.proto.v1.SetVolumeReplicasCommand;
import io.hayloft.proto.v1.StoreGrpc;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeReport;
import io.hayloft.proto.v1.VolumeState;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication manager: on the meta leader, brings every volume back to its replication
 * factor of healthy replicas after stores die, come back, or fail writes.
 *
 * <p>Each tick it looks at every volume and plans at most one task for it:
 * <ul>
 *   <li><b>copy</b>: a replica is on a dead store, or its file failed, or a live store has lost it
 *       (a new disk, a creation that never finished). A new replica is copied from the live
 *       replica with the most records to a store chosen by placement (the same store, rebuilt from
 *       scratch, when the replica is lost there and no other store may take it).
 *   <li><b>catch-up</b>: every replica is live but the volume is degraded (a store came back) or
 *       read-only without being full (a secondary failed a write, so the primary sealed it): the
 *       secondaries catch up with the primary by sequence and the volume is made writable again.
 *   <li><b>drop</b>: a store holds a replica that is no longer in the volume's set (it was
 *       replaced while the store was away): once the volume is healthy, the replica is deleted.
 * </ul>
 * Tasks wait in a priority queue (fewest live replicas first) and run a few at once, each copy
 * within the configured bandwidth. A volume with no live replica waits for a store to come back.
 *
 * <p>Safety. A copy first seals every surviving replica, and a catch-up the primary, so that
 * nothing is acknowledged on the volume while its replicas change (a primary that meta thinks dead
 * but that still runs then fails its writes, as its sealed secondaries refuse them). The new
 * replica set is written through Raft only if the volume still has the set the task started
 * from; then every replica is told its set, the secondaries catch up with the primary, and only
 * then is the volume unsealed and made writable.
 * Replicas are dropped only when the volume has its full set of live replicas elsewhere.
 * A failed task is retried with a growing pause (at most a minute), cut short when a store
 * comes back ({@link RepairRetries}).
 */
final class RepairManager {
    private static final Logger log = LoggerFactory.getLogger(RepairManager.class);
    private static final long STORE_CALL_MS = 30_000;
    private static final long COPY_CALL_HOURS = 24;
    private static final long RATE_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

    enum Kind {
        COPY("copy"), CATCH_UP("catch-up"), REJOIN("rejoin"), DROP("drop");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /** One planned or running repair of a volume. */
    private static final class Task {
        final Kind kind;
        final VolumeInfo volume;
        final int liveReplicas;
        /** COPY, REJOIN: the target; DROP: the store whose replica goes. */
        final String storeId;
        /**
         * COPY, REJOIN: the replica copied from (chosen again when the copy starts), and the ones
         * that leave the set (lost, or on the fullest store).
         */
        volatile String sourceId;
        final Set<String> lost;
        final long bytesTotal;
        final AtomicLong bytesCopied = new AtomicLong();
        volatile boolean running;
        /** Why a task not running waits: "queued" for a free slot, or "paused" after a failure. */
        volatile String waiting = "queued";

        Task(Kind kind, VolumeInfo volume, int liveReplicas, String storeId, String sourceId, Set<String> lost,
                long bytesTotal) {
            this.kind = kind;
            this.volume = volume;
            this.liveReplicas = liveReplicas;
            this.storeId = storeId;
            this.sourceId = sourceId;
            this.lost = lost;
            this.bytesTotal = bytesTotal;
        }

        /** The task as {@link RepairRetries} knows it across rounds: volume, kind and store. */
        String retryKey() {
            return volume.getVolumeId() + "/" + kind.label + "/" + (storeId == null ? "" : storeId);
        }

        RepairTaskInfo info() {
            return RepairTaskInfo.newBuilder().setVolumeId(volume.getVolumeId()).setKind(kind.label)
                    .setState(running ? "running" : waiting).setStoreId(storeId == null ? "" : storeId)
                    .setSourceStoreId(sourceId == null ? "" : sourceId).setLiveReplicas(liveReplicas)
                    .setBytesCopied(bytesCopied.get()).setBytesTotal(bytesTotal).build();
        }
    }

    private final MetaNode node;
    private final Liveness liveness;
    private final VolumeGrowth growth;
    private final Channels channels;
    private final StoreCalls calls;
    private final SecureRandom random = new SecureRandom();
    /**
     * The salt of each copy by "volume/target": a copy tried again to the same target with the
     * same replicas is resumed where it stopped rather than started over.
     */
    private final Map<String, Long> salts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, Task> running = new ConcurrentHashMap<>();
    private volatile List<Task> queued = List.of();
    private final RepairRetries retries = new RepairRetries();
    /** When a live store was first seen without a replica it should hold, by "volume/store". */
    private final Map<String, Long> missingSince = new HashMap<>();
    /** Volumes whose replicas report different last sequences: which, and since when. */
    private final Map<Integer, Lag> lagging = new HashMap<>();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong bytesCopied = new AtomicLong();
    /** Recent (time, bytes copied so far) samples, for the copy rate. */
    private final ArrayDeque<long[]> samples = new ArrayDeque<>();
    private long term = -1;

    RepairManager(MetaNode node, Liveness liveness, VolumeGrowth growth, Channels channels) {
        this.node = node;
        this.liveness = liveness;
        this.growth = growth;
        this.channels = channels;
        this.calls = new StoreCalls(channels);
    }

    /** Plans the repairs the state calls for and starts as many as may run. Called on the leader. */
    synchronized void tick(long currentTerm) throws MetaException {
        if (currentTerm != term) {
            term = currentTerm;
            done.set(0);
            failed.set(0);
            bytesCopied.set(0);
            samples.clear();
            missingSince.clear();
            lagging.clear();
        }
        sample();
        Map<String, StoreInfo> stores = new HashMap<>();
        Set<String> live = new HashSet<>();
        for (StoreInfo s : node.readLocal(st -> st.volumes().stores())) {
            stores.put(s.getStoreId(), s);
            if (s.getState() == StoreState.STORE_LIVE) {
                live.add(s.getStoreId());
            }
        }
        Set<String> back = retries.storesLive(live);
        if (!back.isEmpty()) {
            log.info("store(s) {} live again: failed repairs are tried again now, not after their pause", back);
        }
        List<VolumeInfo> volumes = node.readLocal(st -> st.volumes().volumes());
        List<Task> plan = new ArrayList<>();
        Set<String> stillMissing = new HashSet<>();
        for (VolumeInfo v : volumes) {
            if (running.containsKey(v.getVolumeId()) || growth.creating(v.getVolumeId())) {
                continue;
            }
            Task t = plan(v, stores, volumes, stillMissing);
            if (t != null) {
                plan.add(t);
            }
        }
        missingSince.keySet().retainAll(stillMissing);
        Set<Integer> known = new HashSet<>();
        for (VolumeInfo v : volumes) {
            known.add(v.getVolumeId());
        }
        lagging.keySet().retainAll(known);
        plan.addAll(surplus(volumes, stores));
        plan.sort(Comparator.<Task>comparingInt(t -> t.liveReplicas).thenComparing(t -> t.kind)
                .thenComparingInt(t -> t.volume.getVolumeId()));
        long now = System.nanoTime();
        List<Task> waiting = new ArrayList<>();
        for (Task t : plan) {
            if (retries.waiting(t.retryKey(), now)) {
                t.waiting = "paused";
                waiting.add(t);
            } else if (running.size() < node.config().repairsAtOnce()
                    && running.putIfAbsent(t.volume.getVolumeId(), t) == null) {
                start(t);
            } else {
                waiting.add(t);
            }
        }
        queued = List.copyOf(waiting);
    }

    /** The task a volume needs, or null. */
    private Task plan(VolumeInfo v, Map<String, StoreInfo> stores, List<VolumeInfo> volumes,
            Set<String> stillMissing) {
        List<String> live = new ArrayList<>();
        Set<String> lost = new HashSet<>();
        boolean full = false;
        for (StoreInfo r : v.getReplicasList()) {
            StoreInfo s = stores.get(r.getStoreId());
            StoreState state = s == null ? StoreState.STORE_DEAD : s.getState();
            if (state == StoreState.STORE_SUSPECT) {
                return null; // it may come back: decide once it is live or dead
            }
            if (state != StoreState.STORE_LIVE) {
                lost.add(r.getStoreId());
                continue;
            }
            Map<Integer, VolumeReport> reports = liveness.reportsOf(r.getStoreId());
            if (reports == null) {
                return null; // not heard from since this peer leads
            }
            VolumeReport report = reports.get(v.getVolumeId());
            if (report == null) {
                String key = v.getVolumeId() + "/" + r.getStoreId();
                stillMissing.add(key);
                long since = missingSince.computeIfAbsent(key, k -> System.nanoTime());
                if (System.nanoTime() - since < node.config().heartbeatInterval().toNanos() * 3) {
                    return null; // perhaps a heartbeat sent before the volume was created there
                }
                lost.add(r.getStoreId());
            } else if (report.getFailed()) {
                lost.add(r.getStoreId());
            } else {
                live.add(r.getStoreId());
                full |= report.getFull();
            }
        }
        // A copy adds one replica: a volume that lost two gets its second one from the next copy.
        if (!lost.isEmpty() || v.getReplicasCount() < v.getReplicationFactor()) {
            if (live.isEmpty()) {
                return null; // no replica to copy from: wait for a store to come back
            }
            String source = live.stream().max(Comparator.comparingLong(id -> lastSequence(id, v.getVolumeId())))
                    .orElseThrow();
            String target = chooseTarget(v, stores, volumes, lost);
            if (target == null) {
                return null; // no store may take it; the lost replica's store may still come back
            }
            long size = liveness.reportsOf(source).get(v.getVolumeId()).getSizeBytes();
            return new Task(Kind.COPY, v, live.size(), target, source, lost, size);
        }
        boolean sealedByFailure = v.getState() == VolumeState.VOLUME_READONLY && !full;
        if (v.getState() == VolumeState.VOLUME_DEGRADED || sealedByFailure) {
            return new Task(Kind.CATCH_UP, v, live.size(), null, null, Set.of(), 0);
        }
        // Writable, or read-only because full: a full volume sealed by a failed write is not
        // caught up above, and its replicas could otherwise differ for good.
        if ((v.getState() == VolumeState.VOLUME_WRITABLE || v.getState() == VolumeState.VOLUME_READONLY)
                && laggingTooLong(v, live)) {
            lagging.remove(v.getVolumeId());
            return new Task(Kind.CATCH_UP, v, live.size(), null, null, Set.of(), 0);
        }
        return null;
    }

    /** The last sequences a volume's replicas reported, in replica order, and when they were first seen. */
    private record Lag(List<Long> lastSequences, long sinceNanos) {}

    /**
     * Whether the replicas of a volume have reported the same unequal last sequences for
     * longer than {@link #lagGrace}. While records are written, secondaries trail their primary by
     * a few and the sequences move; a write that one replica missed fails and seals the volume,
     * which is caught up then. But a replica can differ with no write failing: a primary killed
     * after its own append and before its forward comes back with a record the others lack, and
     * nothing asks until the next write to the volume, which may never come. Differences that stay
     * put are therefore caught up as well; the catch-up brings a secondary that is behind level
     * with the primary and rebuilds one that holds what the primary does not.
     */
    private boolean laggingTooLong(VolumeInfo v, List<String> live) {
        int id = v.getVolumeId();
        if (live.size() != v.getReplicasCount()) {
            lagging.remove(id);
            return false;
        }
        List<Long> last = new ArrayList<>(live.size());
        for (String storeId : live) {
            last.add(lastSequence(storeId, id));
        }
        if (last.stream().distinct().count() == 1) {
            lagging.remove(id);
            return false;
        }
        long now = System.nanoTime();
        Lag lag = lagging.get(id);
        if (lag == null || !lag.lastSequences().equals(last)) {
            lagging.put(id, new Lag(last, now));
            return false;
        }
        if (now - lag.sinceNanos() < lagGrace().toNanos()) {
            return false;
        }
        log.warn("volume {}: its replicas {} have reported last sequences {} for {} s; catching them up", id, live,
                last, TimeUnit.NANOSECONDS.toSeconds(now - lag.sinceNanos()));
        return true;
    }

    /**
     * How long replicas may report the same different last sequences before a catch-up: three dead
     * timeouts, longer than a secondary waits for a missing record and a primary for its forwards.
     */
    private Duration lagGrace() {
        return node.config().deadTimeout().multipliedBy(3);
    }

    private long lastSequence(String storeId, int volumeId) {
        Map<Integer, VolumeReport> reports = liveness.reportsOf(storeId);
        VolumeReport r = reports == null ? null : reports.get(volumeId);
        return r == null ? -1 : r.getLastSequence();
    }

    /**
     * A live store for a new replica: one without a replica of the volume, on a rack the other
     * replicas do not use when possible, holding the fewest volumes, then with the most free
     * bytes. When none qualifies, a store whose replica was lost while it stayed live (rebuilt in
     * place). Null when there is no store.
     */
    private String chooseTarget(VolumeInfo v, Map<String, StoreInfo> stores, List<VolumeInfo> volumes,
            Set<String> lost) {
        Set<String> members = new HashSet<>();
        Set<String> racks = new HashSet<>();
        for (StoreInfo r : v.getReplicasList()) {
            members.add(r.getStoreId());
            StoreInfo s = stores.get(r.getStoreId());
            if (s != null && !lost.contains(r.getStoreId()) && !s.getRack().isEmpty()) {
                racks.add(s.getRack());
            }
        }
        Map<String, Integer> load = load(volumes);
        Comparator<StoreInfo> order = Comparator.<StoreInfo>comparingInt(s -> racks.contains(s.getRack()) ? 1 : 0)
                .thenComparingInt(s -> load.getOrDefault(s.getStoreId(), 0))
                .thenComparing(Comparator.comparingLong(this::freeBytes).reversed())
                .thenComparing(StoreInfo::getStoreId);
        StoreInfo best = stores.values().stream().filter(s -> s.getState() == StoreState.STORE_LIVE)
                .filter(s -> !members.contains(s.getStoreId())).filter(s -> liveness.reportsOf(s.getStoreId()) != null)
                .min(order).orElse(null);
        if (best == null) {
            best = stores.values().stream().filter(s -> s.getState() == StoreState.STORE_LIVE)
                    .filter(s -> lost.contains(s.getStoreId())).min(order).orElse(null);
        }
        return best == null ? null : best.getStoreId();
    }

    private long freeBytes(StoreInfo s) {
        Long free = liveness.freeBytes(s.getStoreId());
        return free == null ? s.getFreeBytes() : free;
    }

    /**
     * Replicas that live stores report but that are not in their volume's set, on healthy volumes:
     * each rejoins its set in place of the replica on the set's fullest store when that evens out
     * the stores, and is dropped otherwise.
     */
    private List<Task> surplus(List<VolumeInfo> volumes, Map<String, StoreInfo> stores) {
        Map<Integer, VolumeInfo> byId = new HashMap<>();
        for (VolumeInfo v : volumes) {
            byId.put(v.getVolumeId(), v);
        }
        Map<String, Integer> load = load(volumes);
        List<Task> tasks = new ArrayList<>();
        for (StoreInfo s : stores.values()) {
            Map<Integer, VolumeReport> reports = liveness.reportsOf(s.getStoreId());
            if (s.getState() != StoreState.STORE_LIVE || reports == null) {
                continue;
            }
            for (int id : reports.keySet()) {
                VolumeInfo v = byId.get(id);
                if (v == null || running.containsKey(id) || growth.creating(id)
                        || v.getReplicasList().stream().anyMatch(r -> r.getStoreId().equals(s.getStoreId()))) {
                    continue;
                }
                boolean healthy = v.getState() != VolumeState.VOLUME_DEGRADED
                        && v.getReplicasCount() >= v.getReplicationFactor()
                        && v.getReplicasList().stream().allMatch(r -> stores.containsKey(r.getStoreId())
                                && stores.get(r.getStoreId()).getState() == StoreState.STORE_LIVE);
                if (!healthy) {
                    continue;
                }
                String fullest = fullerMember(v, s, stores, load);
                if (fullest == null) {
                    tasks.add(new Task(Kind.DROP, v, v.getReplicasCount(), s.getStoreId(), null, Set.of(), 0));
                } else {
                    load.merge(s.getStoreId(), 1, Integer::sum);
                    load.merge(fullest, -1, Integer::sum);
                    long size = reports.get(id).getSizeBytes();
                    tasks.add(new Task(Kind.REJOIN, v, v.getReplicasCount(), s.getStoreId(), null, Set.of(fullest),
                            size));
                }
            }
        }
        return tasks;
    }

    /** Replicas in sets by store, counting running copies' targets and the replicas they replace. */
    private Map<String, Integer> load(List<VolumeInfo> volumes) {
        Map<String, Integer> load = new HashMap<>();
        for (VolumeInfo v : volumes) {
            for (StoreInfo r : v.getReplicasList()) {
                load.merge(r.getStoreId(), 1, Integer::sum);
            }
        }
        for (Task t : running.values()) {
            if (t.kind == Kind.COPY || t.kind == Kind.REJOIN) {
                load.merge(t.storeId, 1, Integer::sum);
            }
            if (t.kind == Kind.REJOIN) {
                t.lost.forEach(id -> load.merge(id, -1, Integer::sum));
            }
        }
        return load;
    }

    /**
     * The fullest store of the volume's set (most replicas, then least free space) when the
     * returning store {@code back} holds at least two replicas fewer, so that its old replica
     * taking that one's place evens the stores out (and the move is never undone by the next
     * one), and it puts no more replicas on one rack; else null.
     */
    private String fullerMember(VolumeInfo v, StoreInfo back, Map<String, StoreInfo> stores,
            Map<String, Integer> load) {
        Comparator<String> fuller = Comparator.<String>comparingInt(id -> load.getOrDefault(id, 0))
                .thenComparing(Comparator.comparingLong((String id) -> freeBytes(stores.get(id))).reversed())
                .thenComparing(Comparator.naturalOrder());
        if (v.getReplicasCount() < 2) {
            return null; // the copy's source would be the replica that leaves
        }
        String fullest = v.getReplicasList().stream().map(StoreInfo::getStoreId).max(fuller).orElseThrow();
        if (load.getOrDefault(back.getStoreId(), 0) + 2 > load.getOrDefault(fullest, 0)) {
            return null;
        }
        List<String> racksBefore = new ArrayList<>();
        List<String> racksAfter = new ArrayList<>();
        for (StoreInfo r : v.getReplicasList()) {
            String rack = stores.get(r.getStoreId()).getRack();
            racksBefore.add(rack);
            if (!r.getStoreId().equals(fullest)) {
                racksAfter.add(rack);
            }
        }
        racksAfter.add(back.getRack());
        return distinctRacks(racksAfter) >= distinctRacks(racksBefore) ? fullest : null;
    }

    private static long distinctRacks(List<String> racks) {
        return racks.stream().filter(r -> !r.isEmpty()).distinct().count();
    }

    private void start(Task t) {
        t.running = true;
        node.execute(() -> {
            int id = t.volume.getVolumeId();
            try {
                switch (t.kind) {
                    case COPY, REJOIN -> copy(t);
                    case CATCH_UP -> catchUp(t.volume);
                    case DROP -> drop(t);
                }
                done.incrementAndGet();
                salts.keySet().removeIf(k -> k.startsWith(id + "/"));
                retries.succeeded(t.retryKey());
            } catch (MetaException | RuntimeException e) {
                failed.incrementAndGet();
                long pause = retries.failed(t.retryKey(), System.nanoTime());
                log.warn("repair ({}) of volume {} failed, retried in {} ms: {}", t.kind.label, id, pause,
                        e.getMessage());
            } finally {
                running.remove(id);
            }
        });
    }

    /**
     * Copies the volume to the task's target, switches the replica set to it, and heals the
     * volume. The surviving replica with the most records becomes the primary (a lost primary is
     * replaced this way), the others catch up with it, and it is the copy's source.
     */
    private void copy(Task t) throws MetaException {
        VolumeInfo v = t.volume;
        int id = v.getVolumeId();
        List<StoreInfo> keep = new ArrayList<>();
        for (StoreInfo r : addressed(v.getReplicasList())) {
            if (!t.lost.contains(r.getStoreId())) {
                keep.add(r);
            }
        }
        if (t.kind == Kind.REJOIN) {
            // The replica that leaves is live: sealed, it takes no write it would not keep.
            for (StoreInfo r : addressed(v.getReplicasList())) {
                if (t.lost.contains(r.getStoreId())) {
                    setReadOnly(r, id, true);
                }
            }
        }
        StoreInfo primary = null;
        long most = -1;
        for (StoreInfo r : keep) {
            long last = setReadOnly(r, id, true);
            if (last > most) {
                most = last;
                primary = r;
            }
        }
        List<StoreInfo> next = new ArrayList<>();
        next.add(primary);
        for (StoreInfo r : keep) {
            if (r != primary) {
                next.add(r);
            }
        }
        StoreInfo target = addressed(List.of(StoreInfo.newBuilder().setStoreId(t.storeId).build())).get(0);
        next.add(target);
        t.sourceId = primary.getStoreId();
        if (t.kind == Kind.REJOIN) {
            log.info("volume {}: store {} rejoins from store {} in place of store {}, the fullest", id, t.storeId,
                    t.sourceId, t.lost);
        } else {
            log.info("volume {}: copying from store {} to store {} (lost: {})", id, t.sourceId, t.storeId, t.lost);
        }
        // Level the survivors under the new primary first, so that the source has all they have:
        // the secondaries are unsealed to take its records, while the sealed primary takes no writes.
        List<StoreInfo> survivors = next.subList(0, next.size() - 1);
        for (StoreInfo r : survivors) {
            setReplicas(r, id, next);
        }
        for (StoreInfo r : survivors.subList(1, survivors.size())) {
            setReadOnly(r, id, false);
        }
        catchUpSecondaries(id, survivors);
        CopyVolumeRequest request = CopyVolumeRequest.newBuilder().setVolumeId(id).addAllReplicas(next)
                .setSource(primary).setBytesPerSecond(node.config().repairBytesPerSecond())
                .setSalt(salts.computeIfAbsent(id + "/" + target.getStoreId(), k -> random.nextLong())).build();
        long before = 0;
        try {
            Iterator<CopyVolumeProgress> progress = StoreGrpc.newBlockingStub(channels.get(target.getAddress()))
                    .withDeadlineAfter(COPY_CALL_HOURS, TimeUnit.HOURS).copyVolume(request);
            boolean finished = false;
            while (progress.hasNext()) {
                CopyVolumeProgress p = progress.next();
                bytesCopied.addAndGet(p.getBytesCopied() - before);
                before = p.getBytesCopied();
                t.bytesCopied.set(p.getBytesCopied());
                finished |= p.getDone();
            }
            if (!finished) {
                throw new MetaException(ErrorCode.UNAVAILABLE, "the copy of volume " + id + " to store "
                        + target.getStoreId() + " ended unfinished");
            }
        } catch (StatusRuntimeException e) {
            throw StoreCalls.failure(target, "copy volume " + id, e);
        }
        node.propose(MetaCommand.newBuilder().setSetVolumeReplicas(SetVolumeReplicasCommand.newBuilder()
                .setVolumeId(id).addAllExpectedStoreIds(ids(v.getReplicasList())).addAllStoreIds(ids(next))
                .setState(VolumeState.VOLUME_DEGRADED)));
        log.info("volume {}: replicas now {}", id, ids(next));
        catchUp(node.readLocal(st -> st.volumes().volume(id)));
    }

    /**
     * Makes a volume whose replicas are all live writable again: tells every replica the set,
     * unseals and catches up the secondaries, unseals the primary, then marks the volume writable
     * (read-only when a replica reports it full).
     */
    private void catchUp(VolumeInfo v) throws MetaException {
        int id = v.getVolumeId();
        List<StoreInfo> replicas = addressed(v.getReplicasList());
        StoreInfo primary = replicas.get(0);
        setReadOnly(primary, id, true);
        for (StoreInfo r : replicas) {
            setReplicas(r, id, replicas);
        }
        boolean full = replicas.stream().anyMatch(r -> {
            Map<Integer, VolumeReport> reports = liveness.reportsOf(r.getStoreId());
            return reports != null && reports.containsKey(id) && reports.get(id).getFull();
        });
        for (StoreInfo r : replicas.subList(1, replicas.size())) {
            setReadOnly(r, id, false);
        }
        catchUpSecondaries(id, replicas);
        if (!full) {
            setReadOnly(primary, id, false);
        }
        // Short of its replication factor (a copy replaced one of two lost replicas), it stays
        // degraded, taking no writes, until the next copy.
        VolumeState state = replicas.size() < v.getReplicationFactor() ? VolumeState.VOLUME_DEGRADED
                : full ? VolumeState.VOLUME_READONLY : VolumeState.VOLUME_WRITABLE;
        node.propose(MetaCommand.newBuilder().setSetVolumeReplicas(SetVolumeReplicasCommand.newBuilder()
                .setVolumeId(id).addAllExpectedStoreIds(ids(v.getReplicasList()))
                .addAllStoreIds(ids(v.getReplicasList())).setState(state)));
        log.info("volume {}: {} on {}", id, state == VolumeState.VOLUME_DEGRADED ? "still short of replicas"
                : full ? "healthy again, read-only (full)," : "healthy again, writable,", ids(replicas));
    }

    /** Brings every secondary of {@code replicas} (primary first) level with the primary. */
    private void catchUpSecondaries(int volumeId, List<StoreInfo> replicas) throws MetaException {
        for (StoreInfo r : replicas.subList(1, replicas.size())) {
            call(r, "catch up volume " + volumeId, TimeUnit.HOURS.toMillis(COPY_CALL_HOURS),
                    stub -> stub.catchUpVolume(CatchUpVolumeRequest.newBuilder().setVolumeId(volumeId).build()));
        }
    }

    private void drop(Task t) throws MetaException {
        StoreInfo s = storesNow().get(t.storeId);
        int id = t.volume.getVolumeId();
        VolumeInfo now = node.readLocal(st -> st.volumes().volume(id));
        if (now.getReplicasList().stream().anyMatch(r -> r.getStoreId().equals(t.storeId))) {
            return; // it joined the set again meanwhile
        }
        call(s, "drop volume " + id, STORE_CALL_MS,
                stub -> stub.dropVolume(DropVolumeRequest.newBuilder().setVolumeId(id).build()));
        liveness.dropped(t.storeId, id);
        log.info("volume {}: dropped the replica on store {}, which is no longer in its set", id, t.storeId);
    }

    private <T> T call(StoreInfo s, String what, long deadlineMs, StoreCalls.StoreCall<T> call)
            throws MetaException {
        return calls.call(s, what, deadlineMs, call);
    }

    /** Seals or unseals a store's replica of a volume; returns the replica's last sequence. */
    private long setReadOnly(StoreInfo s, int volumeId, boolean readOnly) throws MetaException {
        return call(s, (readOnly ? "seal" : "unseal") + " volume " + volumeId, STORE_CALL_MS,
                stub -> stub.setVolumeReadOnly(SetVolumeReadOnlyRequest.newBuilder().setVolumeId(volumeId)
                        .setReadOnly(readOnly).build())).getLastSequence();
    }

    private void setReplicas(StoreInfo s, int volumeId, List<StoreInfo> replicas) throws MetaException {
        call(s, "set the replicas of volume " + volumeId, STORE_CALL_MS, stub -> stub.setReplicas(
                SetReplicasRequest.newBuilder().setVolumeId(volumeId).addAllReplicas(replicas).build()));
    }

    private Map<String, StoreInfo> storesNow() throws MetaException {
        Map<String, StoreInfo> stores = new HashMap<>();
        for (StoreInfo s : node.readLocal(st -> st.volumes().stores())) {
            stores.put(s.getStoreId(), s);
        }
        return stores;
    }

    /** The replicas with their stores' current addresses and racks. */
    private List<StoreInfo> addressed(List<StoreInfo> replicas) throws MetaException {
        Map<String, StoreInfo> stores = storesNow();
        List<StoreInfo> out = new ArrayList<>();
        for (StoreInfo r : replicas) {
            StoreInfo s = stores.get(r.getStoreId());
            if (s == null) {
                throw new MetaException(ErrorCode.NO_SUCH_STORE, "no store " + r.getStoreId());
            }
            out.add(StoreInfo.newBuilder().setStoreId(s.getStoreId()).setAddress(s.getAddress()).setRack(s.getRack())
                    .build());
        }
        return out;
    }

    private static List<String> ids(List<StoreInfo> replicas) {
        return replicas.stream().map(StoreInfo::getStoreId).toList();
    }

    private synchronized void sample() {
        long now = System.nanoTime();
        samples.addLast(new long[] {now, bytesCopied.get()});
        while (samples.size() > 2 && now - samples.peekFirst()[0] > RATE_WINDOW_NANOS) {
            samples.removeFirst();
        }
    }

    /** What the manager is doing, for the cluster status. */
    synchronized RepairStatus status() {
        RepairStatus.Builder s = RepairStatus.newBuilder().setQueued(queued.size()).setRunning(running.size())
                .setDone(done.get()).setFailed(failed.get()).setBytesCopied(bytesCopied.get());
        long left = 0;
        for (Task t : running.values()) {
            s.addTasks(t.info());
            left += Math.max(0, t.bytesTotal - t.bytesCopied.get());
        }
        for (Task t : queued) {
            s.addTasks(t.info());
            left += t.bytesTotal;
        }
        s.setBytesLeft(left);
        if (samples.size() >= 2) {
            long[] first = samples.peekFirst();
            long[] last = samples.peekLast();
            long nanos = last[0] - first[0];
            if (nanos > 0) {
                s.setBytesPerSecond((long) ((last[1] - first[1]) * 1e9 / nanos));
            }
        }
        return s.build();
    }
}
