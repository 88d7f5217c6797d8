package io.hayloft.meta.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Server;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.hayloft.client.Channels;
import io.hayloft.meta.MetaException;
import io.hayloft.meta.raft.MetaStateMachine;
import io.hayloft.meta.raft.ProposalBatcher;
import io.hayloft.meta.state.MetaQueries;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.GetObjectRequest;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaQuery;
import io.hayloft.proto.v1.MetaQueryResult;
import io.hayloft.proto.v1.MetaResult;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PutObjectRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One meta peer: a member of the meta Raft group, and the {@code Meta} gRPC service that callers
 * (stores, gateways, clients) talk to.
 *
 * <p>Implementation notes. The gRPC service hands commands to the local Raft server directly
 * (no Raft client hop), through a {@link ProposalBatcher} that packs many callers' commands into
 * one log entry. Name reads are linearizable: they go through Ratis's read index, with the
 * leader lease so that a leader sure of its lease answers without a round of heartbeats. Volume
 * lookups and the cluster status are read from this peer's own state, on any peer. The leader
 * also keeps the stores' liveness in memory ({@link Liveness}) and creates volumes when
 * assignments run out ({@link VolumeGrowth}); both write only changes of state through Raft. The
 * leader's {@link RepairManager} brings volumes back to their replication factor after failures.
 */
public final class MetaNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetaNode.class);
    /** Longest a caller waits for Raft before it is told to retry. */
    static final long RAFT_WAIT_MS = 20_000;
    /** Commands per Raft entry at most; a put is ~100 bytes, so an entry stays far below Ratis's limits. */
    private static final int BATCH_COMMANDS_MAX = 2_000;
    /**
     * Entries on their way through Raft at once in a group of several peers. More entries in
     * flight means smaller batches and more per-entry work; one means callers wait a whole round
     * before their entry leaves. With three peers, whose rounds include a follower's append, 2 to 8
     * measured alike and 1 worse; a group of one peer (the one-process server) does best with 1,
     * its rounds being short and its cost per entry high (docs/benchmarks.md).
     */
    private static final int BATCHES_IN_FLIGHT_MAX = 4;
    /**
     * How long a batch of a group of one peer waits for company after the previous one left
     * ({@link ProposalBatcher}), as long as a name announced by the gateway beside it is still on
     * its way: with 16 S3 clients writing 4 KiB objects, 2.5 and 4 ms both gave about 7% more
     * PUTs per second than none, 4 ms the steadier; 6 ms did worse; not waiting when no name is
     * on its way gave some 16% more again. Groups of several peers keep several batches in flight
     * instead, and do not wait.
     */
    private static final Duration SINGLE_PEER_LINGER = Duration.ofMillis(4);
    /** Snapshot files a peer keeps, the newest and the one before it; each is a whole copy of the names. */
    private static final int SNAPSHOTS_KEPT = 2;

    private final MetaConfig config;
    private final RaftGroup group;
    private final MetaStateMachine stateMachine = new MetaStateMachine();
    private final RaftServer raft;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final ProposalBatcher batcher;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Channels storeChannels = new Channels();
    private final Liveness liveness;
    private final VolumeGrowth growth;
    private final RepairManager repairs;
    private final OrphanAudit orphans;
    private final Server api;
    /** The same service for callers in this process ({@link #inProcessName}). */
    private final Server apiInProcess;
    private final Thread leaderDuties;
    private volatile boolean closed;

    // Whether the leader's state has caught up: the term in which it was found so, and the commit
    // index when this peer was first seen ready to lead in readyTerm. Races between callers are
    // benign: a later commit index only asks for more.
    private volatile long caughtUpTerm = -1;
    private volatile long readyTerm = -1;
    private volatile long readyCommitIndex;

    private MetaNode(MetaConfig config) throws IOException {
        this.config = config;
        this.group = raftGroup(config);
        MetaConfig.Peer self = config.self();
        RaftStorage.StartupOption option = Files.isDirectory(
                config.dataDir().resolve(group.getGroupId().getUuid().toString()))
                ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT;
        raft = RaftServer.newBuilder().setServerId(RaftPeerId.valueOf(self.id())).setGroup(group)
                .setProperties(raftProperties(config)).setStateMachine(stateMachine).setOption(option).build();
        boolean alone = config.peers().size() == 1;
        batcher = new ProposalBatcher(m -> submit(m, RaftClientRequest.writeRequestType()), BATCH_COMMANDS_MAX,
                alone ? 1 : BATCHES_IN_FLIGHT_MAX, alone ? SINGLE_PEER_LINGER : Duration.ZERO);
        liveness = new Liveness(this, config);
        growth = new VolumeGrowth(this, storeChannels);
        repairs = new RepairManager(this, liveness, growth, storeChannels);
        orphans = new OrphanAudit(this, storeChannels);
        Server server = null;
        Server inProcess = null;
        try {
            raft.start();
            MetaService service = new MetaService(this, liveness, growth, repairs, orphans);
            InetSocketAddress address = socketAddress(self.apiAddress());
            server = NettyServerBuilder.forAddress(address).executor(executor).addService(service).build().start();
            inProcess = InProcessServerBuilder.forName(Channels.inProcess(address.getHostString() + ":"
                    + server.getPort())).executor(executor).addService(service).build().start();
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.shutdownNow();
            }
            raft.close();
            executor.shutdownNow();
            throw e;
        }
        api = server;
        apiInProcess = inProcess;
        leaderDuties = Thread.ofVirtual().name("meta-leader-duties-" + self.id()).start(this::leaderDuties);
    }

    /** Starts the peer: formats its directory the first time, recovers from it afterwards. */
    public static MetaNode start(MetaConfig config) throws IOException {
        Files.createDirectories(config.dataDir());
        return new MetaNode(config);
    }

    /** The Raft group the configuration describes; its id follows from the peer ids. */
    public static RaftGroup raftGroup(MetaConfig config) {
        List<String> ids = new ArrayList<>();
        List<RaftPeer> peers = new ArrayList<>();
        for (MetaConfig.Peer p : config.peers()) {
            ids.add(p.id());
            peers.add(RaftPeer.newBuilder().setId(p.id()).setAddress(p.raftAddress()).build());
        }
        ids.sort(null);
        UUID uuid = UUID.nameUUIDFromBytes(("hayloft-meta:" + String.join(",", ids)).getBytes(StandardCharsets.UTF_8));
        return RaftGroup.valueOf(RaftGroupId.valueOf(uuid), peers);
    }

    private static RaftProperties raftProperties(MetaConfig config) {
        RaftProperties props = new RaftProperties();
        // Bind the Raft port to the peer's own address, as the API port is: on a laptop server that
        // is the loopback address, not every interface.
        InetSocketAddress raft = socketAddress(config.self().raftAddress());
        GrpcConfigKeys.Server.setHost(props, raft.getHostString());
        GrpcConfigKeys.Server.setPort(props, raft.getPort());
        RaftServerConfigKeys.setStorageDir(props, List.of(config.dataDir().toFile()));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, config.snapshotEveryEntries());
        // Ratis keeps every snapshot unless told how many to keep.
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(props, SNAPSHOTS_KEPT);
        RaftServerConfigKeys.Rpc.setTimeoutMin(props, TimeDuration.valueOf(300, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(props, TimeDuration.valueOf(600, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Read.setOption(props, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(props, true);
        // Ratis's default pause of 10 ms between a leader's append calls to a follower sets the
        // latency of every entry (one caller's put took ~16 ms); 2 ms brings it to ~4 ms, at the
        // price of more CPU while entries are flowing (none when idle). See docs/benchmarks.md.
        RaftServerConfigKeys.Log.Appender.setWaitTimeMin(props, TimeDuration.valueOf(2, TimeUnit.MILLISECONDS));
        // By default the leader appends an entry of its own to the log after each advance of the
        // commit index, so that a peer can apply what was committed without a leader; each is one
        // more write and fsync of the log, in the way of the next batch (it doubled the log's fsyncs
        // per PUT). Without them a restarted peer learns the commit index from the leader, or, as
        // the leader, by committing an entry of its own term, as Raft has it. See docs/benchmarks.md.
        RaftServerConfigKeys.Log.setLogMetadataEnabled(props, false);
        return props;
    }

    static InetSocketAddress socketAddress(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not host:port: " + hostPort);
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    public MetaConfig config() {
        return config;
    }

    public String peerId() {
        return config.peerId();
    }

    /** The port the Meta gRPC service listens on. */
    public int apiPort() {
        return api.getPort();
    }

    /**
     * The name of the in-process server that answers as this peer's API port does, for callers in
     * the same process ({@link Channels#Channels(java.util.function.Function)}).
     */
    public String inProcessName() {
        return Channels.inProcess(socketAddress(config.self().apiAddress()).getHostString() + ":" + apiPort());
    }

    public boolean isLeader() {
        try {
            return !closed && info().isLeader();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The term in which this peer leads with its state caught up, or -1: it leads, has committed
     * an entry of its own term (so that it knows everything committed before it led, as Raft has
     * a new leader do before it serves) and has applied what was committed when it did. Its own
     * state is then fit for the leader's decisions and reads. A peer that just took the lead
     * (after a start, it learns the commit index this way) is not yet.
     */
    private long termCaughtUp() {
        try {
            if (closed) {
                return -1;
            }
            RaftServer.Division division = raft.getDivision(group.getGroupId());
            DivisionInfo info = division.getInfo();
            if (!info.isLeader() || !info.isLeaderReady()) {
                return -1;
            }
            long term = info.getCurrentTerm();
            if (term == caughtUpTerm) {
                return term;
            }
            if (term != readyTerm) {
                readyCommitIndex = division.getRaftLog().getLastCommittedIndex();
                readyTerm = term;
            }
            if (info.getLastAppliedIndex() < readyCommitIndex) {
                return -1;
            }
            caughtUpTerm = term;
            return term;
        } catch (IOException e) {
            return -1;
        }
    }

    private DivisionInfo info() throws IOException {
        return raft.getDivision(group.getGroupId()).getInfo();
    }

    /** The API address of the leader as this peer knows it, or empty when it knows none. */
    public String leaderAddress() {
        try {
            return apiAddressOf(info().getLeaderId());
        } catch (IOException e) {
            return "";
        }
    }

    private String apiAddressOf(RaftPeerId id) {
        if (id == null) {
            return "";
        }
        return config.peers().stream().filter(p -> p.id().equals(id.toString())).map(MetaConfig.Peer::apiAddress)
                .findFirst().orElse("");
    }

    long currentTerm() throws IOException {
        return info().getCurrentTerm();
    }

    /**
     * Throws NOT_LEADER, with the leader's address when known, unless this peer leads; UNAVAILABLE
     * while it has just taken the lead and its state has not caught up ({@link #termCaughtUp}).
     */
    void requireLeader() throws MetaException {
        if (!isLeader()) {
            throw MetaException.notLeader(leaderAddress());
        }
        if (termCaughtUp() < 0) {
            throw new MetaException(ErrorCode.UNAVAILABLE, "the meta leader is catching up with the log; retry");
        }
    }

    /** Proposes a command through Raft (batched with others) and waits for its result. */
    MetaResult propose(MetaCommand.Builder command) throws MetaException {
        return propose(command, null);
    }

    private MetaResult propose(MetaCommand.Builder command, ProposalBatcher.Announcement announcement)
            throws MetaException {
        requireLeader();
        CompletableFuture<MetaResult> f = batcher.submit(command.setTimeMs(System.currentTimeMillis()).build(),
                announcement);
        MetaResult r = await(f);
        if (r.hasError()) {
            throw new MetaException(r.getError().getCode(), r.getError().getMessage());
        }
        return r;
    }

    /** A linearizable read: answered by the leader once it knows its state is the latest. */
    MetaQueryResult readLinearizable(MetaQuery query) throws MetaException {
        requireLeader();
        if (group.getPeers().size() == 1) {
            MetaQueryResult alone = readAlone(query);
            if (alone != null) {
                return alone;
            }
        }
        RaftClientReply reply = await(submit(Message.valueOf(ByteString.copyFrom(query.toByteArray())),
                RaftClientRequest.readRequestType()));
        if (!reply.isSuccess()) {
            throw fromRaft(reply.getException());
        }
        return queryResult(reply);
    }

    /**
     * The read from this peer's applied state, when it is the only peer of its group, leads, and
     * has applied everything committed; else null (the read then goes through Raft). No other peer
     * can commit in a group of one, and every acknowledged command was applied before it was
     * acknowledged, so such a read sees every command acknowledged before it began: it is
     * linearizable without Raft's read index, which would cost the one-process server's gateway
     * thread hops on every lookup. Right after a restart, until the log is replayed, it is not.
     */
    private MetaQueryResult readAlone(MetaQuery query) throws MetaException {
        RaftServer.Division division;
        try {
            division = raft.getDivision(group.getGroupId());
        } catch (IOException e) {
            return null;
        }
        if (!division.getInfo().isLeaderReady()
                || division.getInfo().getLastAppliedIndex() < division.getRaftLog().getLastCommittedIndex()) {
            return null;
        }
        return stateMachine.read(state -> MetaQueries.answer(state, query));
    }

    /**
     * Names an object, as the {@code PutObject} call does, for a caller in this process (the
     * one-process server's gateway, benchmarks): no RPC between the caller and the leader.
     * Returns the chunks replaced. NOT_LEADER unless this peer leads.
     */
    public List<Chunk> putObject(ObjectInfo object)
            throws MetaException {
        return putObject(object, null);
    }

    /**
     * Swaps a name for a caller in this process that announced it ({@link #announcePut}; null
     * for none); returns the chunks of the object it replaced.
     */
    public List<Chunk> putObject(ObjectInfo object, ProposalBatcher.Announcement announcement)
            throws MetaException {
        return propose(MetaCommand.newBuilder().setPutObject(PutObjectRequest.newBuilder()
                .setObject(object)), announcement).getPutObject().getReplacedList();
    }

    /**
     * Announces a name that a caller in this process will put soon (a PUT storing its body), so
     * that a Raft batch lingering for company waits for it; see {@link ProposalBatcher}. The
     * caller passes it to {@link #putObject(ObjectInfo, ProposalBatcher.Announcement)} or closes it.
     */
    public ProposalBatcher.Announcement announcePut() {
        return batcher.announce();
    }

    /** Reads an object's name linearizably, as the {@code GetObject} call does, for a caller in this process. */
    public ObjectInfo getObject(String bucket, String key) throws MetaException {
        MetaQueryResult r = readLinearizable(MetaQuery.newBuilder().setGetObject(
                GetObjectRequest.newBuilder().setBucket(bucket).setKey(key)).build());
        if (r.hasError()) {
            throw new MetaException(r.getError().getCode(), r.getError().getMessage());
        }
        return r.getObject().getObject();
    }

    /** A read of this peer's own state, which may lag the leader's. */
    public <T> T readLocal(MetaStateMachine.StateRead<T> read) throws MetaException {
        return stateMachine.read(read);
    }

    private static MetaQueryResult queryResult(RaftClientReply reply) throws MetaException {
        try {
            return MetaQueryResult.parseFrom(reply.getMessage().getContent().toByteArray());
        } catch (InvalidProtocolBufferException e) {
            throw new MetaException(ErrorCode.INTERNAL, "unreadable meta query result", e);
        }
    }

    private CompletableFuture<RaftClientReply> submit(Message message, RaftClientRequest.Type type) {
        RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(raft.getId())
                .setGroupId(group.getGroupId()).setCallId(callIds.incrementAndGet()).setMessage(message)
                .setType(type).build();
        try {
            return raft.submitClientRequestAsync(request);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private <T> T await(CompletableFuture<T> f) throws MetaException {
        try {
            return f.get(RAFT_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MetaException(ErrorCode.UNAVAILABLE, "interrupted while waiting for Raft");
        } catch (TimeoutException e) {
            throw new MetaException(ErrorCode.UNAVAILABLE, "no answer from Raft within " + RAFT_WAIT_MS + " ms; retry");
        } catch (ExecutionException e) {
            throw fromRaft(e.getCause());
        }
    }

    private MetaException fromRaft(Throwable t) {
        if (t instanceof NotLeaderException nl) {
            RaftPeer suggested = nl.getSuggestedLeader();
            return MetaException.notLeader(suggested == null ? "" : apiAddressOf(suggested.getId()));
        }
        if (t instanceof MetaException m) {
            return m;
        }
        return new MetaException(ErrorCode.UNAVAILABLE, "meta could not complete the call (" + t + "); retry", t);
    }

    /** Runs the leader's periodic work while this peer leads. */
    private void leaderDuties() {
        long period = Math.max(50, config.heartbeatInterval().toMillis() / 2);
        String lastFailure = null;
        long lastFailureLoggedNanos = 0;
        while (!closed) {
            try {
                Thread.sleep(period);
                long term = termCaughtUp();
                if (term >= 0) {
                    liveness.tick(term);
                    repairs.tick(term);
                    orphans.tick(term);
                }
            } catch (InterruptedException e) {
                return;
            } catch (MetaException e) {
                // Visible (repairs that stop being planned are otherwise silent), but once per
                // minute for a failure that repeats, such as a lost leadership.
                long now = System.nanoTime();
                if (!e.getMessage().equals(lastFailure) || now - lastFailureLoggedNanos > TimeUnit.MINUTES.toNanos(1)) {
                    log.warn("leader duties: {}", e.getMessage());
                    lastFailure = e.getMessage();
                    lastFailureLoggedNanos = now;
                }
            } catch (RuntimeException e) {
                log.warn("leader duties failed", e);
            }
        }
    }

    /**
     * Audits for orphan needles now, on the caller's thread, waiting out the grace period; returns
     * the needles deleted. Only on the leader, and not while a scheduled audit runs.
     */
    public long auditOrphansNow() throws MetaException, InterruptedException {
        return orphans.runNow();
    }

    /** Runs a task on one of this node's virtual threads. */
    void execute(Runnable task) {
        executor.execute(task);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        leaderDuties.interrupt();
        api.shutdownNow();
        apiInProcess.shutdownNow();
        try {
            api.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        storeChannels.close();
        try {
            raft.close();
        } finally {
            executor.shutdownNow();
        }
    }
}
