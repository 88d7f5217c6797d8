package io.hayloft.meta.raft;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.TimeDuration;

/**
 * A meta Raft group of 1, 3 or 5 peers running in this process on loopback, each with its own
 * directory: for tests, benchmarks and the one-process {@code hayloft server}. Peers can be
 * stopped and restarted one by one.
 */
public final class MetaGroup implements AutoCloseable {
    private final Path dir;
    private final List<RaftPeer> peers = new ArrayList<>();
    private final RaftServer[] servers;
    private final RaftGroup group;
    private final RaftClient client;
    private final int snapshotEveryEntries;

    private MetaGroup(Path dir, int size, int snapshotEveryEntries) throws IOException {
        this.dir = dir;
        this.snapshotEveryEntries = snapshotEveryEntries;
        for (int i = 0; i < size; i++) {
            peers.add(RaftPeer.newBuilder().setId("meta" + i).setAddress("127.0.0.1:" + freePort()).build());
        }
        group = RaftGroup.valueOf(
                RaftGroupId.valueOf(UUID.nameUUIDFromBytes(dir.toString().getBytes(StandardCharsets.UTF_8))), peers);
        servers = new RaftServer[size];
        for (int i = 0; i < size; i++) {
            servers[i] = startPeer(i, RaftStorage.StartupOption.FORMAT);
        }
        client = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group).build();
    }

    /** Starts a new group of {@code size} peers under {@code dir}, snapshotting every so many entries. */
    public static MetaGroup start(Path dir, int size, int snapshotEveryEntries) throws IOException {
        if (size != 1 && size != 3 && size != 5) {
            throw new IllegalArgumentException("a meta group has 1, 3 or 5 peers, not " + size);
        }
        return new MetaGroup(dir, size, snapshotEveryEntries);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private RaftServer startPeer(int i, RaftStorage.StartupOption option) throws IOException {
        RaftProperties props = new RaftProperties();
        GrpcConfigKeys.Server.setPort(props, Integer.parseInt(peers.get(i).getAddress().split(":")[1]));
        RaftServerConfigKeys.setStorageDir(props, List.of(dir.resolve("peer" + i).toFile()));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, snapshotEveryEntries);
        RaftServerConfigKeys.Rpc.setTimeoutMin(props, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(props, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
        RaftServer server = RaftServer.newBuilder().setServerId(peers.get(i).getId()).setGroup(group)
                .setProperties(props).setStateMachine(new MetaStateMachine()).setOption(option).build();
        server.start();
        return server;
    }

    /** A client of the group, shared by the caller; closed with the group. */
    public RaftClient client() {
        return client;
    }

    public int size() {
        return servers.length;
    }

    /** The index of the peer that is leader now, or -1 while there is none. */
    public int leaderIndex() throws IOException {
        for (int i = 0; i < servers.length; i++) {
            if (servers[i] != null && servers[i].getDivision(group.getGroupId()).getInfo().isLeader()) {
                return i;
            }
        }
        return -1;
    }

    /** Stops one peer, as a crash of its process would (its files stay). */
    public void stopPeer(int i) throws IOException {
        if (servers[i] != null) {
            servers[i].close();
            servers[i] = null;
        }
    }

    /** Restarts a stopped peer from its files. */
    public void restartPeer(int i) throws IOException {
        if (servers[i] == null) {
            servers[i] = startPeer(i, RaftStorage.StartupOption.RECOVER);
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
        for (int i = 0; i < servers.length; i++) {
            try {
                stopPeer(i);
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
