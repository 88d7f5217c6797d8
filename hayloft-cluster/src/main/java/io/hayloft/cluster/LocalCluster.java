package io.hayloft.cluster;

import io.hayloft.client.ClientOptions;
import io.hayloft.client.HayloftClient;
import io.hayloft.client.HayloftException;
import io.hayloft.client.LocalStores;
import io.hayloft.client.ReplicaWait;
import io.hayloft.client.LoopbackPorts;
import io.hayloft.client.MetaClient;
import io.hayloft.meta.raft.MetaGroup;
import io.hayloft.meta.server.MetaConfig;
import io.hayloft.meta.server.MetaNode;
import io.hayloft.proto.v1.ClusterStatusResponse;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.MetaPeer;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import io.hayloft.proto.v1.VolumeInfo;
import io.hayloft.proto.v1.VolumeState;
import io.hayloft.proto.v1.WriteHeader;
import io.hayloft.store.StoreConfig;
import io.hayloft.store.StoreNode;
import io.hayloft.store.StoreServer;
import io.hayloft.volume.ReplicatedNeedle;
import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.List;
import java.util.Objects;

/**
 * A whole Hayloft cluster in this process: a meta group and stores, on real sockets on
 * 127.0.0.1, each with its own directory under one root. Stores keep their id, directory and
 * port across a stop and restart, as a machine that reboots would. For tests, benchmarks, and
 * the one-command {@code hayloft server}.
 */
public final class LocalCluster implements AutoCloseable {
    /**
     * The shape of the cluster.
     *
     * @param metaPeers 1, 3 or 5
     * @param stores how many stores
     * @param replicationFactor replicas of each volume, at most {@code stores}
     * @param heartbeatInterval how often stores heartbeat
     * @param deadTimeout a store silent this long is dead
     * @param orphanAuditInterval how often the meta leader audits for orphan needles; zero for never
     * @param orphanGrace how long an unnamed needle stays before the audit deletes it
     */
    public record Options(int metaPeers, int stores, int replicationFactor, VolumeConfig volumeConfig,
            StoreConfig storeConfig, Duration heartbeatInterval, Duration deadTimeout, Duration orphanAuditInterval,
            Duration orphanGrace) {
        public Options {
            Objects.requireNonNull(volumeConfig, "volumeConfig");
            Objects.requireNonNull(storeConfig, "storeConfig");
            if (stores < 1 || replicationFactor < 1 || replicationFactor > stores) {
                throw new IllegalArgumentException("need at least one store and 1 <= replicationFactor <= stores");
            }
        }

        /** 3 meta peers, 3 stores, rf 3, fsynced volumes, 1 s heartbeats, 10 s dead timeout. */
        public static Options defaults() {
            return new Options(3, 3, 3, VolumeConfig.defaults(), StoreConfig.defaults(), Duration.ofSeconds(1),
                    Duration.ofSeconds(10), MetaConfig.ORPHAN_AUDIT_INTERVAL_DEFAULT, MetaConfig.ORPHAN_GRACE_DEFAULT);
        }

        public Options withMetaPeers(int n) {
            return new Options(n, stores, replicationFactor, volumeConfig, storeConfig, heartbeatInterval,
                    deadTimeout, orphanAuditInterval, orphanGrace);
        }

        public Options withReplicationFactor(int rf) {
            return new Options(metaPeers, stores, rf, volumeConfig, storeConfig, heartbeatInterval, deadTimeout,
                    orphanAuditInterval, orphanGrace);
        }

        public Options withStores(int n) {
            return new Options(metaPeers, n, replicationFactor, volumeConfig, storeConfig, heartbeatInterval,
                    deadTimeout, orphanAuditInterval, orphanGrace);
        }

        public Options withLiveness(Duration heartbeat, Duration dead) {
            return new Options(metaPeers, stores, replicationFactor, volumeConfig, storeConfig, heartbeat, dead,
                    orphanAuditInterval, orphanGrace);
        }

        public Options withVolumeConfig(VolumeConfig c) {
            return new Options(metaPeers, stores, replicationFactor, c, storeConfig, heartbeatInterval, deadTimeout,
                    orphanAuditInterval, orphanGrace);
        }

        public Options withStoreConfig(StoreConfig c) {
            return new Options(metaPeers, stores, replicationFactor, volumeConfig, c, heartbeatInterval, deadTimeout,
                    orphanAuditInterval, orphanGrace);
        }

        public Options withOrphanAudit(Duration interval, Duration grace) {
            return new Options(metaPeers, stores, replicationFactor, volumeConfig, storeConfig, heartbeatInterval,
                    deadTimeout, interval, grace);
        }
    }

    /**
     * The loopback ports of a cluster's nodes. A cluster restarted on its old directory must be
     * given its old ports: the meta group's Raft remembers its peers' addresses.
     *
     * @param metaRaftPorts each meta peer's Raft port, one per peer
     * @param metaApiPorts each meta peer's Meta gRPC port, one per peer
     * @param storePorts each store's gRPC port, one per store
     */
    public record Ports(List<Integer> metaRaftPorts, List<Integer> metaApiPorts, List<Integer> storePorts) {
        public Ports {
            metaRaftPorts = List.copyOf(metaRaftPorts);
            metaApiPorts = List.copyOf(metaApiPorts);
            storePorts = List.copyOf(storePorts);
            if (metaRaftPorts.size() != metaApiPorts.size()) {
                throw new IllegalArgumentException("one Raft port and one API port per meta peer");
            }
        }

        /** Ports free now, chosen by the operating system, for a cluster of this shape. */
        public static Ports free(Options options) throws IOException {
            List<Integer> raft = new ArrayList<>();
            List<Integer> api = new ArrayList<>();
            List<Integer> stores = new ArrayList<>();
            for (int i = 0; i < options.metaPeers(); i++) {
                raft.add(freePort());
                api.add(freePort());
            }
            for (int i = 0; i < options.stores(); i++) {
                stores.add(freePort());
            }
            return new Ports(raft, api, stores);
        }
    }

    private final Options options;
    private final MetaGroup meta;
    private final StoreNode.Identity[] identities;
    private final StoreNode[] stores;
    /** Whether primaries reach secondaries in this process by a call ({@link #forwardInProcess}). */
    private volatile boolean forwardInProcess;

    private LocalCluster(Path dir, Options options, Ports ports, boolean portsFree)
            throws IOException, VolumeException {
        if (ports.metaRaftPorts().size() != options.metaPeers() || ports.storePorts().size() != options.stores()) {
            throw new IllegalArgumentException("ports for " + ports.metaRaftPorts().size() + " meta peers and "
                    + ports.storePorts().size() + " stores, but the cluster has " + options.metaPeers() + " and "
                    + options.stores());
        }
        this.options = options;
        List<MetaConfig.Peer> peers = new ArrayList<>();
        for (int i = 0; i < options.metaPeers(); i++) {
            peers.add(new MetaConfig.Peer("meta" + i, "127.0.0.1:" + ports.metaRaftPorts().get(i),
                    "127.0.0.1:" + ports.metaApiPorts().get(i)));
        }
        meta = MetaGroup.start(dir.resolve("meta"), peers, c -> c
                .withLiveness(options.heartbeatInterval(), options.deadTimeout())
                .withReplicationFactor(options.replicationFactor())
                .withOrphanAudit(options.orphanAuditInterval(), options.orphanGrace()));
        identities = new StoreNode.Identity[options.stores()];
        stores = new StoreNode[options.stores()];
        try {
            for (int i = 0; i < stores.length; i++) {
                int port = ports.storePorts().get(i);
                for (int attempt = 1; ; attempt++) {
                    identities[i] = new StoreNode.Identity("store" + i, "", dir.resolve("store" + i),
                            new InetSocketAddress("127.0.0.1", port), "127.0.0.1", meta.apiAddresses());
                    try {
                        stores[i] = StoreNode.start(identities[i], options.volumeConfig(), options.storeConfig());
                        break;
                    } catch (IOException e) {
                        // A port found free a moment ago can be taken since, by an outgoing
                        // connection's ephemeral port: a new store may move to another one.
                        if (!portsFree || attempt == 3 || !portTaken(e)) {
                            throw e;
                        }
                        port = freePort();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    /** Starts a new cluster under {@code dir} on free ports and waits until every store is registered and live. */
    public static LocalCluster start(Path dir, Options options) throws IOException, VolumeException {
        return start(dir, options, Ports.free(options), true);
    }

    /**
     * Starts the cluster under {@code dir} on these ports, new or from the files an earlier run
     * left there (meta peer {@code i} in {@code meta/peer<i>}, store {@code i} with id
     * {@code store<i>} in {@code store<i>}), and waits until every store is registered and live.
     */
    public static LocalCluster start(Path dir, Options options, Ports ports) throws IOException, VolumeException {
        return start(dir, options, ports, false);
    }

    private static LocalCluster start(Path dir, Options options, Ports ports, boolean portsFree)
            throws IOException, VolumeException {
        LocalCluster c = new LocalCluster(dir, options, ports, portsFree);
        try {
            c.awaitStoresLive(Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            c.closeQuietly();
            throw e;
        }
        return c;
    }

    private static boolean portTaken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException || String.valueOf(t.getMessage()).contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    private static int freePort() throws IOException {
        return LoopbackPorts.free();
    }

    public Options options() {
        return options;
    }

    public MetaGroup meta() {
        return meta;
    }

    public List<String> metaAddresses() {
        return meta.apiAddresses();
    }

    /** The running store {@code i}, or null while it is stopped. */
    public StoreNode store(int i) {
        return stores[i];
    }

    public int storeCount() {
        return stores.length;
    }

    public String storeId(int i) {
        return identities[i].storeId();
    }

    /** A new client of the cluster; the caller closes it. */
    public HayloftClient client() {
        return HayloftClient.connect(metaAddresses());
    }

    /**
     * A new client that reads and writes the needles of this cluster's running stores in the
     * process, without gRPC (as the one-process server's gateway does); the caller closes it.
     *
     * <p>It writes one volume at a time (one lease slot): the stores of a cluster in one process
     * share its disk, where concurrent writes spread over several volumes cost an fsync each per
     * store, while on one volume they share one. Measured with {@code hayloft server} at 16
     * concurrent 4 KiB PUTs: about half the fsyncs of four slots, and some 10% more PUTs.
     */
    public HayloftClient clientCallingLocally() {
        return HayloftClient.connect(ClientOptions.of(metaAddresses()).withLeaseSlots(1), localStores());
    }

    /** This cluster's running stores, called in the process, and its meta peers' in-process servers. */
    public LocalStores localStores() {
        return new LocalStores() {
            @Override
            public byte[] read(String address, Fid fid) {
                StoreNode s = running(address);
                return s == null ? null : s.server().readLocal(fid);
            }

            @Override
            public boolean write(String address, WriteHeader header, byte[] data) {
                StoreNode s = running(address);
                if (s == null) {
                    return false;
                }
                s.server().writeLocal(header, data);
                return true;
            }

            @Override
            public ReplicaWait writeOnPrimary(String address, WriteHeader header, byte[] data) {
                StoreNode s = running(address);
                return s == null ? null : s.server().writeLocalOnPrimary(header, data);
            }

            @Override
            public boolean delete(String address, Fid fid) {
                StoreNode s = running(address);
                if (s == null) {
                    return false;
                }
                s.server().deleteLocal(fid);
                return true;
            }

            @Override
            public String inProcessName(String address) {
                List<String> addresses = metaAddresses();
                for (int i = 0; i < addresses.size(); i++) {
                    MetaNode n = meta.node(i);
                    if (n != null && addresses.get(i).equals(address)) {
                        return n.inProcessName();
                    }
                }
                return null;
            }
        };
    }

    /**
     * From now on, primaries forward records of up to 1 MiB to secondaries in this cluster by a
     * call instead of over gRPC on loopback (as the one-process server does); restarted stores too.
     */
    public void forwardInProcess() {
        forwardInProcess = true;
        for (StoreNode s : stores) {
            if (s != null) {
                s.server().localPeers(this::runningServer);
            }
        }
    }

    private StoreServer runningServer(String address) {
        StoreNode s = running(address);
        return s == null ? null : s.server();
    }

    /** The running store serving {@code address}, or null when none here does. */
    private StoreNode running(String address) {
        for (StoreNode s : stores) {
            if (s != null && s.address().equals(address)) {
                return s;
            }
        }
        return null;
    }

    /** Stops store {@code i} as a crash would leave it: files stay, the port is released. */
    public void stopStore(int i) throws VolumeException {
        if (stores[i] != null) {
            StoreNode s = stores[i];
            stores[i] = null;
            s.close();
        }
    }

    /** Restarts a stopped store from its directory, on its old port. */
    public void restartStore(int i) throws IOException, VolumeException {
        if (stores[i] == null) {
            stores[i] = StoreNode.start(identities[i], options.volumeConfig(), options.storeConfig());
            if (forwardInProcess) {
                stores[i].server().localPeers(this::runningServer);
            }
        }
    }

    /**
     * Waits until meta has a leader that has accepted every running store's registration and
     * counts it live; throws when that takes longer than {@code timeout}. (A restarted cluster's
     * meta remembers its stores as live from before: the registration is what shows they are back.)
     */
    public void awaitStoresLive(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (MetaClient client = MetaClient.connect(metaAddresses())) {
            while (true) {
                try {
                    ClusterStatusResponse status = client.clusterStatus();
                    if (allRunningLive(status)) {
                        return;
                    }
                } catch (HayloftException e) {
                    // No leader yet: keep waiting.
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("stores not all live within " + timeout);
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private boolean allRunningLive(ClusterStatusResponse status) {
        if (status.getPeersList().stream().noneMatch(MetaPeer::getLeader)) {
            return false;
        }
        for (int i = 0; i < stores.length; i++) {
            if (stores[i] == null) {
                continue;
            }
            if (!stores[i].registered()) {
                return false;
            }
            int index = i;
            String id = identities[i].storeId();
            boolean live = status.getStoresList().stream().anyMatch(s -> s.getStoreId().equals(id)
                    && s.getState() == StoreState.STORE_LIVE && s.getAddress().endsWith(":" + stores[index].port()));
            if (!live) {
                return false;
            }
        }
        return true;
    }

    /**
     * Waits until the cluster has healed: every volume has its replication factor of replicas, all
     * on running stores that meta counts live, each holding the same records in the same order; no
     * volume is degraded or read-only unless full; and no running store holds a replica outside its
     * volume's set. Throws, naming what was still wrong, when that takes longer than {@code timeout}.
     */
    public void awaitHealed(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String problem;
        try (MetaClient client = MetaClient.connect(metaAddresses())) {
            while (true) {
                try {
                    problem = healProblem(client.clusterStatus());
                } catch (HayloftException | VolumeException e) {
                    problem = e.getMessage();
                }
                if (problem == null) {
                    return;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("not healed within " + timeout + ": " + problem);
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** What keeps the cluster from being healed, or null. */
    private String healProblem(ClusterStatusResponse status) throws VolumeException {
        Map<String, Integer> running = new HashMap<>();
        for (int i = 0; i < stores.length; i++) {
            if (stores[i] != null) {
                running.put(identities[i].storeId(), i);
            }
        }
        Map<String, StoreState> states = new HashMap<>();
        for (StoreInfo s : status.getStoresList()) {
            states.put(s.getStoreId(), s.getState());
        }
        Map<String, Set<Integer>> expected = new HashMap<>();
        for (VolumeInfo v : status.getVolumesList()) {
            int id = v.getVolumeId();
            if (v.getReplicasCount() != v.getReplicationFactor()) {
                return "volume " + id + " has " + v.getReplicasCount() + " replicas";
            }
            List<String> first = null;
            boolean full = false;
            for (StoreInfo r : v.getReplicasList()) {
                Integer i = running.get(r.getStoreId());
                if (i == null || states.get(r.getStoreId()) != StoreState.STORE_LIVE) {
                    return "volume " + id + " has a replica on " + r.getStoreId() + ", which is not running and live";
                }
                expected.computeIfAbsent(r.getStoreId(), k -> new HashSet<>()).add(id);
                Volume replica = stores[i].server().volumes().get(id);
                full |= replica.stats().sizeBytes() + replica.config().needleSizeBytesMax() + 64
                        > replica.config().volumeSizeBytesMax();
                List<String> records = records(replica);
                if (first == null) {
                    first = records;
                } else if (!records.equals(first)) {
                    return "volume " + id + " on " + r.getStoreId() + " holds other records than on "
                            + v.getReplicas(0).getStoreId() + " (sequence:needle:cookie:tombstone:size): "
                            + firstDifference(first, records);
                }
            }
            if (v.getState() == VolumeState.VOLUME_DEGRADED || v.getState() == VolumeState.VOLUME_READONLY && !full) {
                return "volume " + id + " is " + v.getState();
            }
        }
        for (Map.Entry<String, Integer> e : running.entrySet()) {
            for (Volume v : stores[e.getValue()].server().volumes().volumes()) {
                if (!expected.getOrDefault(e.getKey(), Set.of()).contains(v.id())) {
                    return "store " + e.getKey() + " holds volume " + v.id() + " outside its replica set";
                }
            }
        }
        return null;
    }

    private static String firstDifference(List<String> a, List<String> b) {
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            String x = i < a.size() ? a.get(i) : "none";
            String y = i < b.size() ? b.get(i) : "none";
            if (!x.equals(y)) {
                return "record " + i + " is " + x + " there and " + y + " here (" + a.size() + " and " + b.size()
                        + " records)";
            }
        }
        return "none";
    }

    /** A volume's records, one line each (sequence, needle, cookie, tombstone, size), in order. */
    public static List<String> records(Volume v) throws VolumeException {
        List<String> out = new ArrayList<>();
        long after = 0;
        while (true) {
            List<ReplicatedNeedle> batch = v.recordsAfter(after, 64 << 20);
            if (batch.isEmpty()) {
                return out;
            }
            for (ReplicatedNeedle r : batch) {
                out.add(r.sequence() + ":" + r.needleId() + ":" + r.cookie() + ":" + r.tombstone() + ":"
                        + r.data().remaining());
                after = r.sequence();
            }
        }
    }

    /** The state meta holds for store {@code i}, as any peer sees it. */
    public StoreState storeState(int i) {
        try (MetaClient client = MetaClient.connect(metaAddresses())) {
            return client.clusterStatus().getStoresList().stream()
                    .filter(s -> s.getStoreId().equals(identities[i].storeId())).map(StoreInfo::getState)
                    .findFirst().orElse(StoreState.STORE_STATE_UNSPECIFIED);
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException | RuntimeException e) {
            // Already failing: the first error is the one to report.
        }
    }

    @Override
    public void close() throws IOException, VolumeException {
        VolumeException storeError = null;
        for (int i = 0; i < stores.length; i++) {
            try {
                stopStore(i);
            } catch (VolumeException e) {
                if (storeError == null) {
                    storeError = e;
                }
            }
        }
        meta.close();
        if (storeError != null) {
            throw storeError;
        }
    }
}
