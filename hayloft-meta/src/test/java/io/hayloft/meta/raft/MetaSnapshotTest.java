package io.hayloft.meta.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.GetObjectRequest;
import io.hayloft.proto.v1.MetaBatch;
import io.hayloft.proto.v1.MetaBatchResult;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaQuery;
import io.hayloft.proto.v1.MetaQueryResult;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PutObjectRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots are packed off Ratis's apply thread: names keep being applied while a snapshot is
 * packed, Ratis hears of the snapshot once it is whole, and a restart loads it.
 */
class MetaSnapshotTest {
    private static final int SNAPSHOT_EVERY = 10;

    @TempDir
    Path dir;

    private RaftPeer peer;
    private RaftGroup group;
    private RaftServer server;
    private RaftClient client;

    /** Runs each packing on a thread of its own once the test opens the gate (or after a minute). */
    private static final class GatedPacker implements Executor {
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicInteger handed = new AtomicInteger();

        @Override
        public void execute(Runnable pack) {
            handed.incrementAndGet();
            Thread t = new Thread(() -> {
                try {
                    gate.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                pack.run();
            }, "gated-packer");
            t.setDaemon(true);
            t.start();
        }
    }

    @BeforeEach
    void choosePeer() throws IOException {
        peer = RaftPeer.newBuilder().setId("solo").setAddress("127.0.0.1:" + MetaGroup.freePort()).build();
        group = RaftGroup.valueOf(RaftGroupId.randomId(), peer);
    }

    private void start(MetaStateMachine stateMachine) throws IOException {
        RaftProperties props = new RaftProperties();
        GrpcConfigKeys.Server.setHost(props, "127.0.0.1");
        GrpcConfigKeys.Server.setPort(props, Integer.parseInt(peer.getAddress().split(":")[1]));
        RaftServerConfigKeys.setStorageDir(props, List.of(dir.toFile()));
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, SNAPSHOT_EVERY);
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(props, 2);
        RaftStorage.StartupOption option = Files.isDirectory(dir.resolve(group.getGroupId().getUuid().toString()))
                ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT;
        server = RaftServer.newBuilder().setServerId(peer.getId()).setGroup(group).setProperties(props)
                .setStateMachine(stateMachine).setOption(option).build();
        server.start();
        client = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group).build();
    }

    private void stop() throws IOException {
        if (client != null) {
            client.close();
            client = null;
        }
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @AfterEach
    void tearDown() throws IOException {
        stop();
    }

    private Path snapshotDir() {
        return dir.resolve(group.getGroupId().getUuid().toString()).resolve("sm");
    }

    private List<String> snapshotDirNames() throws IOException {
        try (Stream<Path> files = Files.list(snapshotDir())) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private List<Long> snapshotIndexes() throws IOException {
        return snapshotDirNames().stream().filter(n -> n.matches("snapshot\\.\\d+_\\d+"))
                .map(n -> Long.parseLong(n.substring(n.indexOf('_') + 1))).sorted().toList();
    }

    private void send(MetaCommand command) throws IOException {
        RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(
                MetaBatch.newBuilder().addCommands(command).build().toByteArray())));
        assertThat(reply.isSuccess()).isTrue();
        assertThat(MetaBatchResult.parseFrom(reply.getMessage().getContent().toByteArray()).getResults(0).hasError())
                .isFalse();
    }

    private void put(String key, long needle) throws IOException {
        send(MetaCommand.newBuilder().setTimeMs(needle).setPutObject(PutObjectRequest.newBuilder().setObject(
                ObjectInfo.newBuilder().setBucket("bucket1").setKey(key).setSize(1).addChunks(Chunk.newBuilder()
                        .setFid(Fid.newBuilder().setVolumeId(1).setNeedleId(needle).setCookie(1)).setLength(1))))
                .build());
    }

    private long needleOf(String key) throws IOException {
        RaftClientReply reply = client.io().sendReadOnly(Message.valueOf(ByteString.copyFrom(MetaQuery.newBuilder()
                .setGetObject(GetObjectRequest.newBuilder().setBucket("bucket1").setKey(key)).build().toByteArray())));
        return MetaQueryResult.parseFrom(reply.getMessage().getContent().toByteArray()).getObject().getObject()
                .getChunks(0).getFid().getNeedleId();
    }

    @Test
    void namesAreAppliedWhileASnapshotIsPackedAndTheSnapshotIsLoadedAfterARestart() throws Exception {
        GatedPacker packer = new GatedPacker();
        start(new MetaStateMachine(packer));
        send(MetaCommand.newBuilder().setTimeMs(1).setCreateBucket(CreateBucketRequest.newBuilder()
                .setBucket("bucket1")).build());
        // Four snapshot intervals pass while the first snapshot cannot be packed: every name is
        // applied (and readable) all the same, and no second snapshot is started meanwhile.
        for (int i = 0; i < 4 * SNAPSHOT_EVERY; i++) {
            put("k" + i, 100 + i);
        }
        assertThat(needleOf("k39")).isEqualTo(139);
        assertThat(packer.handed.get()).as("snapshots handed to the packer").isEqualTo(1);
        assertThat(snapshotIndexes()).as("no snapshot file before it is packed").isEmpty();
        assertThat(snapshotDirNames()).anyMatch(n -> n.startsWith("checkpoint.") && n.endsWith(".tmp"));

        packer.gate.countDown();
        // Ratis hears of the packed snapshot at its next apply, and then starts the next one.
        int next = 0;
        for (int round = 0; round < 200 && (snapshotIndexes().isEmpty() || snapshotIndexes().getLast() < 40); round++) {
            put("more" + next, 1000 + next);
            next++;
            Thread.sleep(20);
        }
        assertThat(snapshotIndexes()).as("snapshots after %d more names", next).isNotEmpty();
        assertThat(snapshotIndexes().getLast()).isGreaterThanOrEqualTo(40);
        assertThat(packer.handed.get()).isGreaterThan(1);

        // A restart rebuilds the names from the newest snapshot and the log after it; whatever a
        // stop in the middle of a snapshot leaves behind is cleared.
        stop();
        Files.createDirectories(snapshotDir().resolve("checkpoint.999.tmp"));
        Files.writeString(snapshotDir().resolve("snapshot.1_999.tmp"), "half a snapshot");
        start(new MetaStateMachine());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> needleOf("k0") == 100);
        for (int i = 0; i < 4 * SNAPSHOT_EVERY; i++) {
            assertThat(needleOf("k" + i)).isEqualTo(100 + i);
        }
        for (int i = 0; i < next; i++) {
            assertThat(needleOf("more" + i)).isEqualTo(1000 + i);
        }
        assertThat(snapshotDirNames()).doesNotContain("checkpoint.999.tmp", "snapshot.1_999.tmp");
    }
}
