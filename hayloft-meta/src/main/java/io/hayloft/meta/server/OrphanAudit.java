package io.hayloft.meta.server;

import io.hayloft.client.Channels;
import io.hayloft.meta.MetaException;
import io.hayloft.proto.v1.DeleteNeedleRequest;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ListNeedlesRequest;
import io.hayloft.proto.v1.ListNeedlesResponse;
import io.hayloft.proto.v1.ListedNeedle;
import io.hayloft.proto.v1.OrphanAuditStatus;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and deletes orphan needles on the meta leader: needles a store holds that no object and
 * no part of an open upload names. They appear when a gateway dies between writing a blob and
 * committing its name, or cannot free the blobs a name replaced.
 *
 * <p>An audit lists every volume's live needles from its primary and the needles the names keep
 * alive, and takes the difference. A needle unnamed now may belong to an upload still writing
 * its other chunks, so nothing is deleted then: after the grace period the names are read again,
 * and only needles still unnamed are deleted (through the primary, which deletes them on every
 * replica). An upload that takes longer than the grace period from its first chunk to its name
 * would lose its blobs, so the grace period (default 6 hours) must stay well above the longest
 * upload. A leader change abandons the audit; the next leader starts over.
 *
 * <p>The names are held in memory as sets of needle ids per volume during an audit: about 50
 * bytes per stored chunk.
 */
final class OrphanAudit {
    private static final Logger log = LoggerFactory.getLogger(OrphanAudit.class);
    private static final long STORE_CALL_MS = 60_000;
    private static final int PAGE = 10_000;

    /** A needle found unnamed. */
    private record Candidate(int volumeId, ListedNeedle needle) {}

    private final MetaNode node;
    private final StoreCalls calls;
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile String state = "idle";
    private final AtomicLong audits = new AtomicLong();
    private final AtomicLong checked = new AtomicLong();
    private final AtomicLong found = new AtomicLong();
    private final AtomicLong deleted = new AtomicLong();
    private final AtomicLong bytesDeleted = new AtomicLong();
    private volatile long lastFinishedMs;
    private long term = -1;
    private long nextRunNanos;

    OrphanAudit(MetaNode node, Channels channels) {
        this.node = node;
        this.calls = new StoreCalls(channels);
    }

    /** Starts an audit when one is due. Called on the leader; the first comes one interval after it became leader. */
    synchronized void tick(long currentTerm) {
        long interval = node.config().orphanAuditInterval().toNanos();
        if (interval == 0) {
            return;
        }
        long now = System.nanoTime();
        if (currentTerm != term) {
            term = currentTerm;
            nextRunNanos = now + interval;
            audits.set(0);
            checked.set(0);
            found.set(0);
            deleted.set(0);
            bytesDeleted.set(0);
            return;
        }
        if (now - nextRunNanos >= 0 && running.compareAndSet(false, true)) {
            nextRunNanos = now + interval;
            long auditTerm = term;
            node.execute(() -> {
                try {
                    audit(auditTerm);
                } catch (MetaException e) {
                    log.warn("orphan audit stopped: {}", e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    state = "idle";
                    running.set(false);
                }
            });
        }
    }

    /** Runs an audit now, on the caller's thread; returns the needles deleted. Fails when one is running. */
    long runNow() throws MetaException, InterruptedException {
        if (!running.compareAndSet(false, true)) {
            throw new MetaException(ErrorCode.UNAVAILABLE, "an orphan audit is running already");
        }
        try {
            return audit(leaderTerm());
        } finally {
            state = "idle";
            running.set(false);
        }
    }

    private long audit(long auditTerm) throws MetaException, InterruptedException {
        long started = System.nanoTime();
        state = "listing";
        List<Candidate> candidates = new ArrayList<>();
        long deletedNow = 0;
        Map<Integer, Set<Long>> named = named();
        for (VolumeInfo v : node.readLocal(st -> st.volumes().volumes())) {
            StoreInfo primary = primaryOf(v.getVolumeId());
            if (primary == null) {
                continue;  // its primary is not live: the next audit will see it
            }
            Set<Long> keep = named.getOrDefault(v.getVolumeId(), Set.of());
            long after = 0;
            boolean more = true;
            while (more) {
                long from = after;
                ListNeedlesResponse page = calls.call(primary, "list the needles of volume " + v.getVolumeId(),
                        STORE_CALL_MS, stub -> stub.listNeedles(ListNeedlesRequest.newBuilder()
                                .setVolumeId(v.getVolumeId()).setAfterNeedleId(from).setLimit(PAGE).build()));
                for (ListedNeedle n : page.getNeedlesList()) {
                    checked.incrementAndGet();
                    if (!keep.contains(n.getNeedleId())) {
                        candidates.add(new Candidate(v.getVolumeId(), n));
                    }
                    after = n.getNeedleId();
                }
                more = page.getMore() && page.getNeedlesCount() > 0;
            }
        }
        found.addAndGet(candidates.size());
        if (!candidates.isEmpty()) {
            state = "waiting";
            long waitUntil = System.nanoTime() + node.config().orphanGrace().toNanos();
            while (System.nanoTime() - waitUntil < 0) {
                Thread.sleep(Math.min(1_000, Math.max(1, (waitUntil - System.nanoTime()) / 1_000_000)));
                checkStillLeader(auditTerm);
            }
            state = "deleting";
            named = named();
            for (Candidate c : candidates) {
                checkStillLeader(auditTerm);
                if (!named.getOrDefault(c.volumeId(), Set.of()).contains(c.needle().getNeedleId()) && delete(c)) {
                    deletedNow++;
                }
            }
        }
        audits.incrementAndGet();
        lastFinishedMs = System.currentTimeMillis();
        log.info("orphan audit: {} needles found unnamed, {} deleted, in {} ms", candidates.size(), deletedNow,
                (System.nanoTime() - started) / 1_000_000);
        return deletedNow;
    }

    /** Deletes an orphan through its volume's primary; whether it was deleted now. */
    private boolean delete(Candidate c) {
        Fid fid = Fid.newBuilder().setVolumeId(c.volumeId()).setNeedleId(c.needle().getNeedleId())
                .setCookie(c.needle().getCookie()).build();
        try {
            StoreInfo primary = primaryOf(c.volumeId());
            if (primary == null) {
                return false;
            }
            calls.call(primary, "delete orphan needle " + c.needle().getNeedleId() + " of volume " + c.volumeId(),
                    STORE_CALL_MS, stub -> stub.deleteNeedle(DeleteNeedleRequest.newBuilder().setFid(fid).build()));
            deleted.incrementAndGet();
            bytesDeleted.addAndGet(c.needle().getLength());
            return true;
        } catch (MetaException e) {
            if (e.code() != ErrorCode.NOT_FOUND && e.code() != ErrorCode.DELETED) {
                log.info("orphan needle {} of volume {} stays until the next audit: {}", c.needle().getNeedleId(),
                        c.volumeId(), e.getMessage());
            }
            return false;
        }
    }

    /** The needles the names keep alive, by volume: every chunk of every object and of every part. */
    private Map<Integer, Set<Long>> named() throws MetaException {
        return node.readLocal(st -> {
            Map<Integer, Set<Long>> named = new HashMap<>();
            st.names().forEachChunk(f -> named.computeIfAbsent(f.getVolumeId(), v -> new HashSet<>())
                    .add(f.getNeedleId()));
            st.uploads().forEachPartChunk(f -> named.computeIfAbsent(f.getVolumeId(), v -> new HashSet<>())
                    .add(f.getNeedleId()));
            return named;
        });
    }

    /** The volume's primary with its current address, when its store is live; else null. */
    private StoreInfo primaryOf(int volumeId) throws MetaException {
        VolumeInfo v = node.readLocal(st -> st.volumes().volumes()).stream()
                .filter(x -> x.getVolumeId() == volumeId).findFirst().orElse(null);
        if (v == null || v.getReplicasCount() == 0) {
            return null;
        }
        String id = v.getReplicas(0).getStoreId();
        for (StoreInfo s : node.readLocal(st -> st.volumes().stores())) {
            if (s.getStoreId().equals(id)) {
                return s.getState() == StoreState.STORE_LIVE ? s : null;
            }
        }
        return null;
    }

    private void checkStillLeader(long auditTerm) throws MetaException {
        if (leaderTerm() != auditTerm) {
            throw new MetaException(ErrorCode.NOT_LEADER, "this peer no longer leads; the audit is abandoned");
        }
    }

    private long leaderTerm() throws MetaException {
        try {
            if (!node.isLeader()) {
                throw new MetaException(ErrorCode.NOT_LEADER, "only the leader audits");
            }
            return node.currentTerm();
        } catch (IOException e) {
            throw new MetaException(ErrorCode.UNAVAILABLE, "cannot read the term: " + e.getMessage(), e);
        }
    }

    OrphanAuditStatus status() {
        return OrphanAuditStatus.newBuilder().setState(state).setAudits(audits.get()).setNeedlesChecked(checked.get())
                .setFound(found.get()).setDeleted(deleted.get()).setBytesDeleted(bytesDeleted.get())
                .setLastFinishedMs(lastFinishedMs).build();
    }
}
