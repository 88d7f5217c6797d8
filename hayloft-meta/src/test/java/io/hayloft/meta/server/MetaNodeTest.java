package io.hayloft.meta.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.hayloft.client.Channels;
import io.hayloft.client.HayloftException;
import io.hayloft.client.LoopbackPorts;
import io.hayloft.client.MetaClient;
import io.hayloft.meta.raft.MetaGroup;
import io.hayloft.proto.WireErrors;
import io.hayloft.proto.v1.BucketInfo;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.Error;
import io.hayloft.proto.v1.ErrorCode;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.HeartbeatRequest;
import io.hayloft.proto.v1.ListBucketsRequest;
import io.hayloft.proto.v1.ListObjectsRequest;
import io.hayloft.proto.v1.MetaGrpc;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.StoreInfo;
import io.hayloft.proto.v1.StoreState;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three meta peers serving the Meta gRPC API on loopback, called as stores and clients call them. */
class MetaNodeTest {
    @TempDir
    Path dir;

    private MetaGroup group;
    private MetaClient client;

    private void start(Duration heartbeat, Duration dead) throws IOException {
        group = MetaGroup.start(dir, 3, c -> c.withSnapshotEveryEntries(50).withLiveness(heartbeat, dead));
        client = MetaClient.connect(group.apiAddresses());
    }

    @AfterEach
    void stop() throws IOException {
        if (client != null) {
            client.close();
        }
        if (group != null) {
            group.close();
        }
    }

    private int awaitLeader() {
        await().atMost(Duration.ofSeconds(30)).until(() -> group.leaderIndex() >= 0);
        return group.leaderIndex();
    }

    private static ObjectInfo object(String bucket, String key, long needle) {
        return ObjectInfo.newBuilder().setBucket(bucket).setKey(key).setSize(10).setEtag("e" + needle)
                .addChunks(Chunk.newBuilder().setFid(Fid.newBuilder().setVolumeId(1).setNeedleId(needle)).setLength(10))
                .build();
    }

    /**
     * A peer alone in its group answers name reads from its own state: every name acknowledged
     * before a read began is seen, from many callers at once, and again right after a restart,
     * while the log may still be replaying.
     */
    @Test
    void aPeerAloneReadsEveryAcknowledgedNameFromItsOwnState() throws Exception {
        group = MetaGroup.start(dir, 1, c -> c.withSnapshotEveryEntries(50));
        client = MetaClient.connect(group.apiAddresses());
        client.createBucket("alone");
        MetaNode node = group.node(0);
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<?>> callers = new java.util.ArrayList<>();
            for (int c = 0; c < 16; c++) {
                int caller = c;
                callers.add(pool.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        String key = "c" + caller + "/k" + (i % 10);
                        long needle = caller * 1000L + i;
                        node.putObject(object("alone", key, needle));
                        assertThat(node.getObject("alone", key).getChunks(0).getFid().getNeedleId()).isEqualTo(needle);
                    }
                    return null;
                }));
            }
            for (var f : callers) {
                f.get();
            }
        }
        group.restartPeer(0);
        MetaNode restarted = group.node(0);
        await().atMost(Duration.ofSeconds(30)).until(restarted::isLeader);
        for (int c = 0; c < 16; c++) {
            for (int k = 0; k < 10; k++) {
                assertThat(restarted.getObject("alone", "c" + c + "/k" + k).getChunks(0).getFid().getNeedleId())
                        .isEqualTo(c * 1000L + 30 + k);
            }
        }
    }

    /**
     * A caller in the peer's process reaches it through its in-process server (as the one-process
     * server's gateway does), with the same answers, and none once the peer is closed.
     */
    @Test
    void aCallerInThePeersProcessReachesItWithoutTheNetwork() throws Exception {
        group = MetaGroup.start(dir, 1, c -> c.withSnapshotEveryEntries(50));
        MetaNode node = group.node(0);
        await().atMost(Duration.ofSeconds(30)).until(node::isLeader);
        String inProcess = node.inProcessName();
        // Nothing listens at this address: only the in-process server can answer for it.
        String nowhere = "127.0.0.1:" + LoopbackPorts.free();
        try (Channels channels = new Channels(a -> a.equals(nowhere) ? inProcess : null)) {
            MetaGrpc.MetaBlockingStub near = MetaGrpc.newBlockingStub(channels.get(nowhere))
                    .withDeadlineAfter(30, TimeUnit.SECONDS);
            near.createBucket(CreateBucketRequest.newBuilder().setBucket("near").build());
            assertThatThrownBy(() -> near.createBucket(CreateBucketRequest.newBuilder().setBucket("near").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
                            WireErrors.fromThrowable(e).map(Error::getCode)).contains(ErrorCode.BUCKET_EXISTS));
            client = MetaClient.connect(group.apiAddresses());
            assertThat(client.listBuckets()).extracting(BucketInfo::getName).contains("near");

            group.stopPeer(0);
            assertThatThrownBy(() -> MetaGrpc.newBlockingStub(channels.get(nowhere))
                    .withDeadlineAfter(5, TimeUnit.SECONDS).listBuckets(ListBucketsRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        }
    }

    @Test
    void aFollowerNamesTheLeaderAndTheClientFollowsIt() throws Exception {
        start(MetaConfig.HEARTBEAT_INTERVAL_DEFAULT, MetaConfig.DEAD_TIMEOUT_DEFAULT);
        int leader = awaitLeader();
        int follower = (leader + 1) % 3;
        await().atMost(Duration.ofSeconds(10)).until(() -> !group.node(follower).leaderAddress().isEmpty());
        ManagedChannel ch = NettyChannelBuilder.forTarget(group.apiAddresses().get(follower)).usePlaintext().build();
        try {
            assertThatThrownBy(() -> MetaGrpc.newBlockingStub(ch).createBucket(
                    CreateBucketRequest.newBuilder().setBucket("photos").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        Error error = WireErrors.fromThrowable(e).orElseThrow();
                        assertThat(error.getCode()).isEqualTo(ErrorCode.NOT_LEADER);
                        assertThat(error.getLeaderAddress()).isEqualTo(group.apiAddresses().get(leader));
                    });
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }

        try (MetaClient viaFollower = MetaClient.connect(List.of(group.apiAddresses().get(follower)))) {
            viaFollower.createBucket("photos");
            assertThat(viaFollower.putObject(object("photos", "a.jpg", 1))).isEmpty();
            assertThat(viaFollower.getObject("photos", "a.jpg").getEtag()).isEqualTo("e1");
            assertThat(viaFollower.putObject(object("photos", "a.jpg", 2))).extracting(c -> c.getFid().getNeedleId())
                    .containsExactly(1L);
            // A put retried after it applied replaces the object with itself: nothing to free.
            assertThat(viaFollower.putObject(object("photos", "a.jpg", 2))).isEmpty();
            assertThat(viaFollower.leaderGuess()).isEqualTo(group.apiAddresses().get(leader));
        }

        // A client that knows the peers by addresses of its own (a proxy, a port mapping: here
        // another name for loopback) finds the leader among them rather than going around them.
        List<String> own = new java.util.ArrayList<>();
        for (int i : new int[] {follower, (leader + 2) % 3, leader}) {
            own.add(group.apiAddresses().get(i).replace("127.0.0.1", "localhost"));
        }
        try (MetaClient viaOwnAddresses = MetaClient.connect(own)) {
            viaOwnAddresses.createBucket("videos");
            assertThat(viaOwnAddresses.leaderGuess()).isEqualTo(own.get(2));
        }
    }

    @Test
    void badCallsGetTypedErrors() throws Exception {
        start(MetaConfig.HEARTBEAT_INTERVAL_DEFAULT, MetaConfig.DEAD_TIMEOUT_DEFAULT);
        awaitLeader();
        client.createBucket("docs");
        assertCode(ErrorCode.NO_SUCH_BUCKET, () -> client.getObject("nope", "k"));
        assertCode(ErrorCode.NO_SUCH_KEY, () -> client.getObject("docs", "missing"));
        assertCode(ErrorCode.BAD_REQUEST, () -> client.putObject(object("docs", "k".repeat(1025), 1)));
        assertCode(ErrorCode.BUCKET_EXISTS, () -> client.createBucket("docs"));
        assertCode(ErrorCode.BAD_REQUEST, () -> client.createBucket("Not_A_Bucket"));
        assertCode(ErrorCode.NO_SUCH_VOLUME, () -> client.lookupVolume(77));
        // No stores: no volume can be made for an assignment.
        assertCode(ErrorCode.NO_WRITABLE_VOLUME, () -> client.assign(10, List.of()));
        assertCode(ErrorCode.BAD_REQUEST, () -> client.assign(0, List.of()));
    }

    private static void assertCode(ErrorCode code, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(HayloftException.class,
                e -> assertThat(e.code()).isEqualTo(code));
    }

    @Test
    void aSilentStoreIsDeclaredDeadAndComesBackWithItsNextHeartbeat() throws Exception {
        start(Duration.ofMillis(100), Duration.ofMillis(600));
        awaitLeader();
        StoreInfo store = StoreInfo.newBuilder().setStoreId("s1").setAddress("127.0.0.1:9").build();
        assertThat(client.heartbeat(HeartbeatRequest.newBuilder().setStoreId("s1").build()).getRegisterAgain())
                .isTrue();
        assertThat(client.registerStore(store).getHeartbeatIntervalMs()).isEqualTo(100);
        for (int i = 0; i < 10; i++) {
            client.heartbeat(HeartbeatRequest.newBuilder().setStoreId("s1").build());
            Thread.sleep(100);
        }
        // Heartbeating keeps it live (a heartbeat that came late under load makes it live again).
        await().atMost(Duration.ofSeconds(20)).until(() -> state("s1") == StoreState.STORE_LIVE);
        await().atMost(Duration.ofSeconds(20)).until(() -> state("s1") == StoreState.STORE_DEAD);
        client.heartbeat(HeartbeatRequest.newBuilder().setStoreId("s1").build());
        await().atMost(Duration.ofSeconds(20)).until(() -> state("s1") == StoreState.STORE_LIVE);
    }

    private StoreState state(String storeId) {
        return client.clusterStatus().getStoresList().stream().filter(s -> s.getStoreId().equals(storeId))
                .findFirst().orElseThrow().getState();
    }

    @Test
    void losingTheLeaderLosesNoAcknowledgedNameAndANewOneIsElectedWithinFiveSeconds() throws Exception {
        start(MetaConfig.HEARTBEAT_INTERVAL_DEFAULT, MetaConfig.DEAD_TIMEOUT_DEFAULT);
        int leader = awaitLeader();
        client.createBucket("bucket");
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<List<String>>> writers = new ArrayList<>();
        for (int w = 0; w < 16; w++) {
            int writer = w;
            writers.add(pool.submit(() -> {
                List<String> acknowledged = new ArrayList<>();
                for (int i = 0; i < 60; i++) {
                    String key = "w" + writer + "/k" + i;
                    try {
                        client.putObject(object("bucket", key, writer * 1000L + i));
                        acknowledged.add(key);
                    } catch (HayloftException e) {
                        // Not acknowledged: it may or may not exist; only acknowledged names are checked.
                    }
                }
                return acknowledged;
            }));
        }
        Thread.sleep(300);
        long stopped = System.nanoTime();
        group.stopPeer(leader);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> group.leaderIndex() >= 0);
        long electedMs = (System.nanoTime() - stopped) / 1_000_000;
        List<String> acknowledged = new ArrayList<>();
        for (Future<List<String>> f : writers) {
            acknowledged.addAll(f.get(60, TimeUnit.SECONDS));
        }
        pool.shutdown();
        assertThat(acknowledged).hasSizeGreaterThan(16 * 60 / 2);
        for (String key : acknowledged) {
            assertThat(client.getObject("bucket", key).getKey()).isEqualTo(key);
        }
        assertThat(client.listObjects(ListObjectsRequest.newBuilder().setBucket("bucket").setLimit(1000).build())
                .getObjectsCount()).isGreaterThanOrEqualTo(acknowledged.size());
        System.out.println("new meta leader after " + electedMs + " ms; " + acknowledged.size() + " names acknowledged");

        group.restartPeer(leader);
        client.putObject(object("bucket", "after-restart", 99_999));
        await().atMost(Duration.ofSeconds(30)).until(() -> group.node(leader).readLocal(
                s -> s.names().listObjects("bucket", "after", "", "", 10).getObjectsCount()) == 1);
    }
}
