package io.hayloft.meta.raft;

import io.hayloft.client.LoopbackPorts;
import io.hayloft.meta.server.MetaConfig;
import io.hayloft.meta.server.MetaNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;

/**
 * A meta group of 1, 3 or 5 peers ({@link MetaNode}s) running in this process on loopback, each
 * with its own directory: for tests, benchmarks and the one-process {@code hayloft server}.
 * Peers can be stopped and restarted one by one.
 */
public final class MetaGroup implements AutoCloseable {
    private final Path dir;
    private final List<MetaConfig> configs = new ArrayList<>();
    private final MetaNode[] nodes;
    private final RaftClient client;

    private MetaGroup(Path dir, List<MetaConfig.Peer> peers, UnaryOperator<MetaConfig> tune) throws IOException {
        this.dir = dir;
        int size = peers.size();
        for (int i = 0; i < size; i++) {
            configs.add(tune.apply(MetaConfig.of(peers.get(i).id(), peers, dir.resolve("peer" + i))));
        }
        nodes = new MetaNode[size];
        try {
            for (int i = 0; i < size; i++) {
                nodes[i] = MetaNode.start(configs.get(i));
            }
        } catch (IOException | RuntimeException e) {
            closeNodes();
            throw e;
        }
        RaftGroup group = MetaNode.raftGroup(configs.get(0));
        client = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group).build();
    }

    /** Starts a new group of {@code size} peers under {@code dir}, snapshotting every so many entries. */
    public static MetaGroup start(Path dir, int size, int snapshotEveryEntries) throws IOException {
        return start(dir, size, c -> c.withSnapshotEveryEntries(snapshotEveryEntries));
    }

    /** Starts a new group of {@code size} peers under {@code dir}, each peer's defaults changed by {@code tune}. */
    public static MetaGroup start(Path dir, int size, UnaryOperator<MetaConfig> tune) throws IOException {
        if (size != 1 && size != 3 && size != 5) {
            throw new IllegalArgumentException("a meta group has 1, 3 or 5 peers, not " + size);
        }
        List<MetaConfig.Peer> peers = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            peers.add(new MetaConfig.Peer("meta" + i, "127.0.0.1:" + freePort(), "127.0.0.1:" + freePort()));
        }
        return new MetaGroup(dir, peers, tune);
    }

    /**
     * Starts the group of these peers under {@code dir}, peer {@code i} in {@code dir/peer<i>}:
     * formatted the first time, recovered from its files afterwards. A group that is restarted
     * must be given the same peers (ids and addresses) again, as Raft remembers them.
     */
    public static MetaGroup start(Path dir, List<MetaConfig.Peer> peers, UnaryOperator<MetaConfig> tune)
            throws IOException {
        return new MetaGroup(dir, List.copyOf(peers), tune);
    }

    /** A port free on the loopback address now (see {@link LoopbackPorts}). */
    static int freePort() throws IOException {
        return LoopbackPorts.free();
    }

    /** A Raft client of the group, shared by the caller; closed with the group. */
    public RaftClient client() {
        return client;
    }

    public int size() {
        return nodes.length;
    }

    /** The peers' Meta gRPC addresses (host:port), in peer order. */
    public List<String> apiAddresses() {
        return configs.stream().map(c -> c.self().apiAddress()).toList();
    }

    /** The running peer {@code i}, or null while it is stopped. */
    public MetaNode node(int i) {
        return nodes[i];
    }

    /** The index of the peer that is leader now, or -1 while there is none. */
    public int leaderIndex() {
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] != null && nodes[i].isLeader()) {
                return i;
            }
        }
        return -1;
    }

    /** Stops one peer, as a crash of its process would (its files stay). */
    public void stopPeer(int i) throws IOException {
        if (nodes[i] != null) {
            MetaNode n = nodes[i];
            nodes[i] = null;
            n.close();
        }
    }

    /** Restarts a stopped peer from its files. */
    public void restartPeer(int i) throws IOException {
        if (nodes[i] == null) {
            nodes[i] = MetaNode.start(configs.get(i));
        }
    }

    public Path peerDirectory(int i) {
        return dir.resolve("peer" + i);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        try {
            client.close();
        } catch (IOException e) {
            first = e;
        }
        IOException e = closeNodes();
        if (first == null) {
            first = e;
        }
        if (first != null) {
            throw first;
        }
    }

    private IOException closeNodes() {
        IOException first = null;
        for (int i = 0; i < nodes.length; i++) {
            try {
                stopPeer(i);
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        return first;
    }
}
