package io.hayloft.meta.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How one meta peer runs: who it is, who its peers are, where it keeps its files, and the cluster
 * rules the leader applies.
 *
 * @param peerId this peer's id, one of {@code peers}
 * @param peers every peer of the group, this one included
 * @param dataDir this peer's directory (Raft log, snapshots, working database)
 * @param snapshotEveryEntries a snapshot is taken after this many log entries
 * @param heartbeatInterval how often stores heartbeat
 * @param deadTimeout a store silent for this long is dead
 * @param replicationFactor replicas of each new volume
 * @param assignLease how long an assigned block of needle ids may be used
 * @param repairBytesPerSecond bandwidth of each volume copy the replication manager runs; 0 for
 *     no limit
 * @param repairsAtOnce how many repairs the replication manager runs at once
 * @param orphanAuditInterval how often the leader looks for orphan needles (stored, named by no
 *     object or upload part) and deletes them; zero for never
 * @param orphanGrace how long a needle found unnamed stays before it is deleted, if still unnamed:
 *     longer than any upload takes from its first chunk to its name
 */
public record MetaConfig(String peerId, List<Peer> peers, Path dataDir, int snapshotEveryEntries,
        Duration heartbeatInterval, Duration deadTimeout, int replicationFactor, Duration assignLease,
        long repairBytesPerSecond, int repairsAtOnce, Duration orphanAuditInterval, Duration orphanGrace) {

    public static final Duration HEARTBEAT_INTERVAL_DEFAULT = Duration.ofSeconds(1);
    public static final Duration DEAD_TIMEOUT_DEFAULT = Duration.ofSeconds(10);
    public static final Duration ASSIGN_LEASE_DEFAULT = Duration.ofMinutes(10);
    public static final int SNAPSHOT_EVERY_ENTRIES_DEFAULT = 100_000;
    public static final long REPAIR_BYTES_PER_SECOND_DEFAULT = 64L << 20;
    public static final int REPAIRS_AT_ONCE_DEFAULT = 2;
    public static final Duration ORPHAN_AUDIT_INTERVAL_DEFAULT = Duration.ofHours(24);
    public static final Duration ORPHAN_GRACE_DEFAULT = Duration.ofHours(6);
    /** Missed heartbeats after which a store is suspect. */
    public static final int SUSPECT_AFTER_MISSED_HEARTBEATS = 3;

    /**
     * A peer of the group.
     *
     * @param id its id
     * @param raftAddress host:port of its Raft transport
     * @param apiAddress host:port of its Meta gRPC service, the address callers are sent to
     */
    public record Peer(String id, String raftAddress, String apiAddress) {
        public Peer {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(raftAddress, "raftAddress");
            Objects.requireNonNull(apiAddress, "apiAddress");
        }
    }

    public MetaConfig {
        Objects.requireNonNull(peerId, "peerId");
        Objects.requireNonNull(dataDir, "dataDir");
        peers = List.copyOf(peers);
        if (peers.size() != 1 && peers.size() != 3 && peers.size() != 5) {
            throw new IllegalArgumentException("a meta group has 1, 3 or 5 peers, not " + peers.size());
        }
        if (peers.stream().noneMatch(p -> p.id().equals(peerId))) {
            throw new IllegalArgumentException("peer " + peerId + " is not one of the group's peers");
        }
        if (peers.stream().map(Peer::id).distinct().count() != peers.size()) {
            throw new IllegalArgumentException("peer ids must be distinct");
        }
        if (snapshotEveryEntries < 1) {
            throw new IllegalArgumentException("snapshotEveryEntries must be positive");
        }
        positive(heartbeatInterval, "heartbeatInterval");
        positive(deadTimeout, "deadTimeout");
        positive(assignLease, "assignLease");
        if (deadTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("deadTimeout must be at least two heartbeat intervals");
        }
        if (replicationFactor < 1 || replicationFactor > 5) {
            throw new IllegalArgumentException("replicationFactor must be 1 to 5");
        }
        if (repairBytesPerSecond < 0) {
            throw new IllegalArgumentException("repairBytesPerSecond must be 0 (no limit) or positive");
        }
        if (repairsAtOnce < 1 || repairsAtOnce > 64) {
            throw new IllegalArgumentException("repairsAtOnce must be 1 to 64");
        }
        if (orphanAuditInterval == null || orphanAuditInterval.isNegative()) {
            throw new IllegalArgumentException("orphanAuditInterval must be 0 (never) or positive");
        }
        positive(orphanGrace, "orphanGrace");
    }

    private static void positive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }

    /** The defaults for everything but who and where. */
    public static MetaConfig of(String peerId, List<Peer> peers, Path dataDir) {
        return new MetaConfig(peerId, peers, dataDir, SNAPSHOT_EVERY_ENTRIES_DEFAULT, HEARTBEAT_INTERVAL_DEFAULT,
                DEAD_TIMEOUT_DEFAULT, 3, ASSIGN_LEASE_DEFAULT, REPAIR_BYTES_PER_SECOND_DEFAULT, REPAIRS_AT_ONCE_DEFAULT,
                ORPHAN_AUDIT_INTERVAL_DEFAULT, ORPHAN_GRACE_DEFAULT);
    }

    public MetaConfig withSnapshotEveryEntries(int n) {
        return new MetaConfig(peerId, peers, dataDir, n, heartbeatInterval, deadTimeout, replicationFactor, assignLease,
                repairBytesPerSecond, repairsAtOnce, orphanAuditInterval, orphanGrace);
    }

    public MetaConfig withLiveness(Duration heartbeat, Duration dead) {
        return new MetaConfig(peerId, peers, dataDir, snapshotEveryEntries, heartbeat, dead, replicationFactor,
                assignLease, repairBytesPerSecond, repairsAtOnce, orphanAuditInterval, orphanGrace);
    }

    public MetaConfig withReplicationFactor(int rf) {
        return new MetaConfig(peerId, peers, dataDir, snapshotEveryEntries, heartbeatInterval, deadTimeout, rf,
                assignLease, repairBytesPerSecond, repairsAtOnce, orphanAuditInterval, orphanGrace);
    }

    public MetaConfig withRepair(long bytesPerSecond, int atOnce) {
        return new MetaConfig(peerId, peers, dataDir, snapshotEveryEntries, heartbeatInterval, deadTimeout,
                replicationFactor, assignLease, bytesPerSecond, atOnce, orphanAuditInterval, orphanGrace);
    }

    public MetaConfig withOrphanAudit(Duration interval, Duration grace) {
        return new MetaConfig(peerId, peers, dataDir, snapshotEveryEntries, heartbeatInterval, deadTimeout,
                replicationFactor, assignLease, repairBytesPerSecond, repairsAtOnce, interval, grace);
    }

    /** How long a store may be silent before it is suspect. */
    public Duration suspectTimeout() {
        Duration d = heartbeatInterval.multipliedBy(SUSPECT_AFTER_MISSED_HEARTBEATS);
        return d.compareTo(deadTimeout) < 0 ? d : deadTimeout;
    }

    public Peer self() {
        return peers.stream().filter(p -> p.id().equals(peerId)).findFirst().orElseThrow();
    }
}
